"""The item pool of a study, built the way its task design needs (part of preparation).

Most designs draw test items balanced on AI correct x predicted class from one model
(:func:`classification_pool`). The others need more than one view per input or another source:

- distinction (HIVE): each item offers k candidate classes; one explanation per class;
- model comparison: each input seen by two models (a paired item for the second model);
- simulate then decide: numbers (regression), the same houses for every feature-set variant,
  with "unusual" items where the model errs badly;
- mislabelled: training rows (with their possibly flipped labels) instead of test rows.

Every builder is seeded from the scenario seed, so a re-run builds the same pool.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
from django.utils.translation import gettext_noop

from experiments.designs import CLEAN_MODEL, LABEL_RIGHT, LABEL_WRONG, design
from experiments.perturb import one_feature_edit
from experiments.randomisation import balanced_items
from experiments.sampling import candidate_classes
from studyapp.models import Condition, Item, Study

# Stored in English as the record; the page shows them in the participant's language.
ATTENTION_INSTRUCTION = gettext_noop(
    "Attention check: to show that you are reading carefully, please answer “{label}” on "
    "this page, whatever the profile says.")
NUMBER_ATTENTION_INSTRUCTION = gettext_noop(
    "Attention check: to show that you are reading carefully, please enter the number "
    "{label} in every box on this page.")
NUMBER_ATTENTION_VALUES = ("100000", "250000", "150000", "300000")
# Simulate then decide: an item is "unusual" when the model's error is in the top tenth of the
# test set, and "typical" when it is below the median (Poursabzi-Sangdeh et al.'s
# mistake-detection items are houses the model gets badly wrong).
UNUSUAL_QUANTILE = 0.9
TYPICAL_QUANTILE = 0.5
PANEL_LETTERS = "ABCDEFGHIJ"
Scenarios = dict[str, Any]


# ----- which scenario variants a study needs ---------------------------------------------------

def feature_variant(features: Any) -> str:
    """The variant name of a condition's feature set: "" (all), "key", or a short hash."""
    if features in (None, "all"):
        return ""
    if features == "key":
        return "key"
    digest = hashlib.sha256(",".join(features).encode()).hexdigest()[:8]
    return f"f-{digest}"


def condition_feature_variant(study: Study, condition_name: str) -> str | None:
    """The scenario variant whose items a condition's participants see in a feature-set
    design; None when the study has no feature sets (every item)."""
    conditions = study.typed_spec.conditions
    if not any(c.features is not None for c in conditions):
        return None
    return feature_variant(study.typed_spec.condition(condition_name).features)


def bug_variant(scenarios: Scenarios) -> str:
    """The planted-bug variant of a model-comparison study (the one that is not clean)."""
    return next(name for name in scenarios if name != CLEAN_MODEL)


def scenarios_load(study: Study) -> Scenarios:
    """The study's scenario variants by name: one ("") for most studies; for debugging and
    model comparison the clean model and one per planted bug; for feature-set designs one
    per distinct feature set."""
    from experiments.scenarios import load_scenario
    from experiments.scenarios.own import material_from_spec
    from studyapp.services.studies import material_store

    s = study.typed_spec.scenario
    # The researcher's own data (None for a bundled scenario), found again by content hash.
    material = material_from_spec(s.section, material_store()) if s.data else None
    if s.scaffolding is not None:
        return scaffolding_scenarios(study)
    if s.bugs:
        variants: list[str | None] = [None, *s.bugs]
        return {bug or CLEAN_MODEL: load_scenario(s.name, model=s.model, bug=bug,
                                                  random_state=s.seed, material=material)
                for bug in variants}
    base = load_scenario(s.name, model=s.model, bug=s.bug, random_state=s.seed,
                         material=material)
    scenarios: Scenarios = {}
    for condition in study.typed_spec.conditions:
        chosen = condition.features
        name = feature_variant(chosen)
        if name in scenarios:
            continue
        if not name:
            scenarios[name] = base
            continue
        columns = base.key_features if chosen == "key" else chosen
        if not columns:
            raise ValueError(f"scenario {s.name!r} names no key features; list the "
                             f"features of condition {condition.name!r} instead")
        scenarios[name] = load_scenario(s.name, model=s.model, bug=s.bug,
                                        random_state=s.seed, features=columns,
                                        material=material)
    return scenarios


def scaffolding_scenarios(study: Study) -> Scenarios:
    """Slack et al.'s attack: the biased AI ("", whose predictions every participant sees)
    and its scaffolded twin (explained in the conditions with model_variant: scaffolded)."""
    from experiments.scenarios.attacks import SCAFFOLDED, load_scaffolded

    s = study.typed_spec.scenario
    assert s.scaffolding is not None, "called for studies with scenario.scaffolding only"
    biased, scaffolded = load_scaffolded(s.name, model=s.model, random_state=s.seed,
                                         biased_feature=s.scaffolding.biased_feature,
                                         innocuous_feature=s.scaffolding.innocuous_feature)
    return {"": biased, SCAFFOLDED: scaffolded}


def explained_only(study: Study) -> set[str]:
    """Scenario variants that only explain (the scaffolded twin), never supply items."""
    return {c.model_variant for c in study.typed_spec.conditions if c.model_variant}


def explained_scenario(condition: Condition, item: Item, scenarios: Scenarios) -> Any:
    """The scenario whose model a condition's explanation of ``item`` explains: the condition's
    model variant (the scaffolded twin), else the model that made the item's prediction."""
    return scenarios[condition.model_variant or item.model_variant]


def item_input(study: Study, item: Item, scenarios: Scenarios) -> Any:
    """The model input of an item: its scenario row (a vector, an image or a text).

    Model comparison shows both models the same input, the bug variant's test row (which
    carries any planted artifact); mislabelled studies show training rows.
    """
    if design(study.task).compares_models:
        return scenarios[bug_variant(scenarios)].X_test[item.source_index]
    scenario = scenarios[item.model_variant]
    rows = scenario.X_train if item.source_split == "train" else scenario.X_test
    return rows[item.source_index]


# ----- builders ------------------------------------------------------------------------------

def pool_create(study: Study, scenarios: Scenarios) -> None:
    """Build the pool (trial items, attention checks) and the study's answer options."""
    rng = np.random.default_rng(study.typed_spec.scenario.seed)
    _BUILDERS.get(study.task, classification_pool)(study, scenarios, rng)
    if design(study.task).numeric:
        _number_attention_create(study, scenarios, rng)
        return
    _attention_create(study, scenarios, rng)
    names = class_names(next(iter(scenarios.values())))
    study.answer_options = [{"value": name, "label": name} for name in names]
    study.save(update_fields=["answer_options"])


def class_names(scenario: Any) -> list[str]:
    return [str(name) for name in scenario.dataset.class_names]


def classification_pool(study: Study, scenarios: Scenarios, rng: np.random.Generator) -> None:
    """Items balanced on AI correct x predicted class (an equal share from each model
    variant in a debugging study)."""
    twins = explained_only(study)
    shown = {name: scenario for name, scenario in scenarios.items() if name not in twins}
    share = study.typed_spec.trials.pool_size // len(shown)
    for variant, scenario in shown.items():
        proba = _test_proba(scenario)
        # An explained twin must predict what participants are shown, or its explanation
        # would be of another class: only the rows where every twin agrees are items.
        differ = [int(i) for name in twins for i in
                  np.flatnonzero(scenarios[name].test_predictions != proba.argmax(axis=1))]
        for index in _balanced_rows(study, scenario, share, rng, proba, exclude=differ):
            item = _classified_item_create(study, scenario, index, proba[index], variant=variant)
            if design(study.task).simulates_edit:
                _edit_create(item, scenario, rng)


def _test_proba(scenario: Any, rows: Any = None) -> np.ndarray:
    """Class probabilities of the scenario's model on its test rows (or on ``rows``): one
    batch, so the items built from them need not ask the model again."""
    return np.asarray(scenario.model.predict_proba(scenario.X_test if rows is None else rows))


def _balanced_rows(study: Study, scenario: Any, size: int, rng: np.random.Generator,
                   proba: np.ndarray, exclude: Sequence[int] = ()) -> list[int]:
    predicted = proba.argmax(axis=1)
    correct = predicted == np.asarray(scenario.y_test)
    balance = study.typed_spec.trials.balance
    chosen = balanced_items(correct if "ai_correct" in balance else np.ones_like(correct),
                            predicted if "predicted_class" in balance
                            else np.zeros_like(predicted), size, rng=rng, exclude=exclude)
    return [int(i) for i in chosen]


def _classified_item_create(study: Study, scenario: Any, index: int, proba: np.ndarray, *,
                            variant: str = "", role: str = Item.Role.POOL, expected: str = "",
                            x: Any = None, display: Any = None) -> Item:
    """An item the model classifies (``proba``: the model's output on it): its prediction,
    confidence and correctness stored."""
    row = scenario.X_test[index] if x is None else x
    names = class_names(scenario)
    predicted, truth = int(np.argmax(proba)), int(scenario.y_test[index])
    return Item.objects.create(
        study=study, key=_item_key(scenario, variant, index), role=role, source_index=index,
        model_variant=variant, display=scenario.item(index) if display is None else display,
        features=_features(row), truth=names[truth], ai_prediction=names[predicted],
        ai_class_index=predicted, ai_confidence=float(proba[predicted]),
        ai_correct=predicted == truth, expected_answer=expected,
        instruction=ATTENTION_INSTRUCTION.format(label=expected) if expected else "",
    )


def _item_key(scenario: Any, variant: str, index: int) -> str:
    return f"{scenario.name}-{variant}-test-{index}" if variant else f"{scenario.name}-test-{index}"


def _features(row: Any) -> list[float]:
    """The numeric model input of a tabular or image item (texts keep only their display)."""
    if isinstance(row, str):
        return []
    return np.asarray(row, dtype=float).ravel().tolist()


def _edit_create(item: Item, scenario: Any, rng: np.random.Generator) -> None:
    """The one-feature change a counterfactual-simulation trial asks about, and the AI's
    output on the changed input (the answer a participant who simulates well gives)."""
    edit = one_feature_edit(np.asarray(scenario.X_test[item.source_index], dtype=float),
                            scenario.dataset, rng=rng)
    predicted = int(np.argmax(scenario.model.predict_proba(edit.row.reshape(1, -1))[0]))
    item.edit = {"label": edit.label, "before": edit.before, "after": edit.after,
                 "features": edit.row.tolist(), "ai_prediction": class_names(scenario)[predicted]}
    item.save(update_fields=["edit"])


def _attention_create(study: Study, scenarios: Scenarios, rng: np.random.Generator) -> None:
    """Two attention items per requested check, from test rows no trial item uses."""
    scenario = next(iter(scenarios.values()))
    names = class_names(scenario)
    proba = _test_proba(scenario)
    for n, index in enumerate(_unused_rows(study, scenario, rng)):
        _classified_item_create(study, scenario, index, proba[index], role=Item.Role.ATTENTION,
                                expected=names[n % len(names)])


def _unused_rows(study: Study, scenario: Any, rng: np.random.Generator) -> list[int]:
    taken = [i for i in study.items.filter(source_split="test")
             .values_list("source_index", flat=True) if i is not None]
    rest = np.setdiff1d(np.arange(scenario.n_test), taken)
    count = max(study.typed_spec.trials.attention_checks, 0) * 2
    return [int(i) for i in rng.choice(rest, size=min(count, len(rest)), replace=False)]


# ----- distinction ---------------------------------------------------------------------------

def distinction_pool(study: Study, scenarios: Scenarios, rng: np.random.Generator) -> None:
    """Balanced items, each offering k candidate classes (HIVE): the model's top k when it is
    right; its top k-1 plus the true class when it is wrong, so the answer is always there."""
    scenario = scenarios[""]
    candidates = study.typed_spec.task.candidates
    assert candidates is not None, "a distinction spec is normalised with its candidates"
    k = min(candidates, len(class_names(scenario)))
    proba = _test_proba(scenario)
    names = class_names(scenario)
    for index in _balanced_rows(study, scenario, study.typed_spec.trials.pool_size, rng, proba):
        item = _classified_item_create(study, scenario, index, proba[index])
        classes = candidate_classes(proba[index], int(scenario.y_test[index]), k)
        item.panels = [{"label": names[c], "value": names[c], "item": item.pk, "target": c,
                        "prediction": ""} for c in rng.permutation(classes).tolist()]
        item.save(update_fields=["panels"])


# ----- model comparison ----------------------------------------------------------------------

def comparison_pool(study: Study, scenarios: Scenarios, rng: np.random.Generator) -> None:
    """Each input once per model: the clean model's item (drawn in plans) and the bug model's
    paired item; the two panels in a random order, labelled Model A / Model B. The right
    answer is the clean model's letter."""
    clean = scenarios[CLEAN_MODEL]
    bug_name = bug_variant(scenarios)
    bugged = scenarios[bug_name]
    size = study.typed_spec.trials.pool_size
    bugged_proba = _test_proba(bugged)
    clean_proba = _test_proba(clean, bugged.X_test)  # both models see the same input
    # Balanced on the bug model's mistakes: its errors are the evidence against it.
    for index in _balanced_rows(study, bugged, size, rng, bugged_proba):
        x, display = bugged.X_test[index], bugged.item(index)
        main = _classified_item_create(study, clean, index, clean_proba[index],
                                       variant=CLEAN_MODEL, x=x, display=display)
        paired = _classified_item_create(study, bugged, index, bugged_proba[index],
                                         variant=bug_name, x=x, display=display,
                                         role=Item.Role.PAIRED)
        order = [main, paired] if rng.random() < 0.5 else [paired, main]
        main.panels = [{"label": f"Model {PANEL_LETTERS[n]}", "value": f"Model {PANEL_LETTERS[n]}",
                        "item": view.pk, "target": None, "prediction": view.ai_prediction}
                       for n, view in enumerate(order)]
        main.truth = f"Model {PANEL_LETTERS[order.index(main)]}"
        main.save(update_fields=["panels", "truth"])


# ----- finding mislabelled training points ---------------------------------------------------

def mislabelled_pool(study: Study, scenarios: Scenarios, rng: np.random.Generator) -> None:
    """Training rows, half of them with a flipped label, balanced on flipped x label shown."""
    scenario = scenarios[""]
    flipped = np.zeros(len(scenario.y_train), dtype=bool)
    flipped[scenario.bug_details["flipped_indices"]] = True
    labels = np.asarray(scenario.y_train)
    chosen = [int(i) for i in balanced_items(~flipped, labels, study.typed_spec.trials.pool_size,
                                             rng=rng)]
    names = class_names(scenario)
    predicted = np.asarray(scenario.model.predict(scenario.X_train[chosen]))
    for index, guess in zip(chosen, predicted.tolist(), strict=True):
        display = {**scenario.dataset.describe_row(scenario.X_train[index]),
                   "Label in the training data": names[labels[index]]}
        Item.objects.create(
            study=study, key=f"{scenario.name}-train-{index}", role=Item.Role.POOL,
            source_index=index, source_split="train", display=display,
            features=_features(scenario.X_train[index]),
            truth=LABEL_WRONG if flipped[index] else LABEL_RIGHT,
            ai_prediction=names[int(guess)], ai_class_index=int(guess),
            ai_correct=int(guess) == int(labels[index]))


# ----- simulate then decide (regression) -----------------------------------------------------

def regression_pool(study: Study, scenarios: Scenarios, rng: np.random.Generator) -> None:
    """The same houses for every feature-set variant: typical ones (model error below the
    median, on the first variant's model) and unusual ones (error in the top tenth)."""
    first = next(iter(scenarios.values()))
    error = np.abs(np.asarray(first.test_predictions) - np.asarray(first.y_test))
    typical = np.flatnonzero(error <= np.quantile(error, TYPICAL_QUANTILE))
    unusual = np.flatnonzero(error >= np.quantile(error, UNUSUAL_QUANTILE))
    trials = study.typed_spec.trials
    n_unusual = min(len(unusual), max(2 * trials.unusual, 0))
    n_typical = min(len(typical), trials.pool_size)
    rows = [(int(i), False) for i in rng.choice(typical, size=n_typical, replace=False)]
    rows += [(int(i), True) for i in rng.choice(unusual, size=n_unusual, replace=False)]
    for variant, scenario in scenarios.items():
        for index, is_unusual in rows:
            _regression_item_create(study, scenario, index, variant, typical=not is_unusual)
    unit = first.target_unit
    top = float(np.max(first.y_train))
    study.answer_options = [{"value": "number", "label": unit, "min": 0,
                             "max": round(5 * top, -3), "step": 1}]
    study.save(update_fields=["answer_options"])


def _regression_item_create(study: Study, scenario: Any, index: int, variant: str, *,
                            typical: bool, role: str = Item.Role.POOL,
                            expected: str = "") -> Item:
    return Item.objects.create(
        study=study, key=_item_key(scenario, variant, index), role=role, source_index=index,
        model_variant=variant, display=scenario.item(index),
        features=_features(scenario.X_test[index]),
        truth=f"{float(scenario.y_test[index]):.0f}",
        ai_prediction=f"{scenario.predict(index):.0f}",
        # For numbers, "AI correct" means a typical item (error below the median); unusual
        # items, where the model errs badly, are the mistake-detection trials.
        ai_correct=typical, expected_answer=expected,
        instruction=NUMBER_ATTENTION_INSTRUCTION.format(label=f"{int(expected):,}")
        if expected else "")


def _number_attention_create(study: Study, scenarios: Scenarios,
                             rng: np.random.Generator) -> None:
    """Attention checks that ask for a stated number (one per variant, same rows)."""
    first = next(iter(scenarios.values()))
    rows = _unused_rows(study, first, rng)
    values = NUMBER_ATTENTION_VALUES
    for variant, scenario in scenarios.items():
        for n, index in enumerate(rows):
            _regression_item_create(study, scenario, index, variant, typical=True,
                                    role=Item.Role.ATTENTION, expected=values[n % len(values)])


_BUILDERS: dict[str, Callable[[Study, Scenarios, np.random.Generator], None]] = {
    "distinction": distinction_pool,
    "model_comparison": comparison_pool,
    "mislabelled": mislabelled_pool,
    "simulate_then_decide": regression_pool,
}


def panel_targets(item: Item) -> Sequence[int | None]:
    """The classes an item's explanations must cover: one per distinction panel, or just the
    prediction (None)."""
    own = [p["target"] for p in item.panels if p["item"] == item.pk]
    return own or [None]
