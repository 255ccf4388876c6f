"""The study specification: a whole study as one YAML document (study-as-code).

``parse_spec(text)`` validates a YAML string against the schema and the semantic rules (known
scenario, model, task design and explanation methods; consistent conditions and codes) and
returns the normalised spec as a plain dict, with defaults filled in. ``spec_hash`` is the
content hash of that normalised form: the citable identity of one study version. Code that reads
a validated spec uses its typed view, ``experiments.study_spec.StudySpec.from_dict(spec)``.

Errors name the field and what was expected: ``SpecError("conditions[2].explanation.method:
unknown method 'shapp'; expected one of ...")``.
"""

from __future__ import annotations

import copy
import hashlib
import json
from collections.abc import Callable, Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any

import jsonschema
import yaml

from experiments.designs import DESIGNS
from experiments.feedback import FeedbackRule
from experiments.incentives import Incentives
from experiments.languages import (
    LANGUAGES,
    SCALES_LANGUAGE,
    localised_fields,
    missing_languages,
    spec_languages,
    text_in,
)
from experiments.scenarios.own import (
    MODEL_SPECIFIC_METHODS,
    SUPPLIED,
    MaterialError,
    check_material,
    default_model,
    material_files,
    stored_path,
)
from experiments.scenarios.own_images import IMAGE_METHODS
from experiments.scenarios.own_texts import TEXT_METHODS
from experiments.scenarios.sources import LOADERS, MODALITIES, REGRESSION_SCENARIOS
from experiments.spec_schema import SPEC_SCHEMA

# SpecError is defined beside the YAML reader and imported from here as before.
from experiments.spec_yaml import SpecError, check_plain_json, field_path, load_yaml, shorten
from experiments.study_spec import ConsentSpec, ExclusionsSpec

MAX_SPEC_BYTES = 256 * 1024


def parse_spec(
    text: str,
    *,
    known_scenarios: Iterable[str] | None = None,
    known_methods: Iterable[str] | None = None,
    known_models: Mapping[str, Iterable[str]] | None = None,
    material_dir: Path | None = None,
    material_store: Path | None = None,
) -> dict[str, Any]:
    """Parse, validate and normalise a YAML study specification.

    ``material_dir`` is the spec file's folder, against which a scenario of the researcher's own
    data (``scenario.data``) is found and checked; ``material_store`` (if given) is where the
    checked files are then copied, by content hash, for preparation to find again.
    """
    if len(text.encode("utf-8", errors="replace")) > MAX_SPEC_BYTES:
        raise SpecError(f"spec: larger than {MAX_SPEC_BYTES // 1024} KiB")
    data = load_yaml(text)
    return validate_spec(data, known_scenarios=known_scenarios, known_methods=known_methods,
                         known_models=known_models, material_dir=material_dir,
                         material_store=material_store)


def validate_spec(
    data: Any,
    *,
    known_scenarios: Iterable[str] | None = None,
    known_methods: Iterable[str] | None = None,
    known_models: Mapping[str, Iterable[str]] | None = None,
    material_dir: Path | None = None,
    material_store: Path | None = None,
) -> dict[str, Any]:
    """Validate an already-parsed spec; returns a normalised deep copy."""
    if not isinstance(data, dict):
        raise SpecError("spec: expected a mapping at the top level")
    check_plain_json(data)
    spec = copy.deepcopy(data)
    _check_schema(spec)
    _fill_defaults(spec)
    _check_own_material(spec, material_dir, material_store)
    for check in _SEMANTIC_CHECKS:
        check(spec)
    if _own(spec):
        pass  # checked against the data itself by _check_own_material
    elif known_scenarios is not None:
        _check_one_of("scenario.name", spec["scenario"]["name"], known_scenarios)
    if known_models is not None and not _own(spec):
        # The model is a name the scenario trains from bundled data, never a file to load.
        _check_one_of("scenario.model", spec["scenario"]["model"],
                      known_models.get(spec["scenario"]["name"], ()))
    if known_methods is not None:
        for field, method in _condition_methods(spec):
            _check_one_of(field, method, known_methods)
    return spec


def _condition_methods(spec: dict[str, Any]) -> Iterator[tuple[str, str]]:
    """(field path, method) of every condition that shows an explanation."""
    for i, condition in enumerate(spec["conditions"]):
        method = condition.get("explanation", {}).get("method")
        if method:
            yield f"conditions[{i}].explanation.method", method


def spec_hash(spec: dict[str, Any]) -> str:
    """SHA-256 of the canonical JSON of a normalised spec."""
    canonical = json.dumps(spec, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode()).hexdigest()


def dump_spec(spec: dict[str, Any]) -> str:
    """The spec as YAML; parsing it again gives the same spec and the same hash."""
    return yaml.safe_dump(spec, sort_keys=False, allow_unicode=True, width=100)


# JSON Schema counts 4.0 as an integer; a trial count of 4.0 would then reach range() later.
_STRICT_TYPES = jsonschema.Draft202012Validator.TYPE_CHECKER.redefine(
    "integer", lambda checker, value: isinstance(value, int) and not isinstance(value, bool))
_Validator = jsonschema.validators.extend(jsonschema.Draft202012Validator,
                                          type_checker=_STRICT_TYPES)


def _check_schema(spec: dict[str, Any]) -> None:
    validator = _Validator(SPEC_SCHEMA)
    errors = sorted(validator.iter_errors(spec), key=lambda e: (len(e.path), list(e.path)))
    if errors:
        error = errors[0]
        raise SpecError(f"{field_path(error.absolute_path)}: {shorten(_explain(error))}")


def _explain(error: jsonschema.ValidationError) -> str:
    if error.validator == "oneOf" and error.context and _is_localised_text(error.schema):
        # A text (string or per-language mapping): explain by the form that was given.
        branch = 1 if isinstance(error.instance, dict) else 0
        reasons = [e for e in error.context if e.relative_schema_path[0] == branch]
        if reasons:
            reason = reasons[0]
            where = "".join(f".{part}" for part in reason.relative_path)
            return f"{where.lstrip('.') + ': ' if where else ''}{_explain(reason)}"
        return str(error.message)
    if error.validator == "additionalProperties":
        allowed = sorted(error.schema.get("properties", {}))
        return f"{error.message}; expected only: {', '.join(allowed)}"
    if error.validator == "enum":
        return f"{error.instance!r} is not allowed; expected one of {error.validator_value}"
    if error.validator in {"maxLength", "maxItems"}:
        unit = "characters" if error.validator == "maxLength" else "entries"
        return (f"too long: {len(error.instance)} {unit}, at most {error.validator_value} "
                "allowed")
    return str(error.message)


def _is_localised_text(schema: Any) -> bool:
    branches = schema.get("oneOf", []) if isinstance(schema, dict) else []
    return len(branches) == 2 and branches[0].get("type") == "string"


def _check_one_of(field: str, value: str, allowed: Iterable[str]) -> None:
    options = sorted(allowed)
    if value not in options:
        raise SpecError(f"{field}: unknown {value!r}; expected one of {', '.join(options)}")


def _fill_defaults(spec: dict[str, Any]) -> None:
    spec.setdefault("description", "")
    s = spec["scenario"]
    s.setdefault("model", default_model(modality=s.get("modality", "tabular"),
                                        model_file="model_file" in s))
    spec["scenario"].setdefault("seed", 0)
    spec["scenario"].setdefault("bug", None)
    spec.setdefault("design", {"type": "between"})
    trials = spec["trials"]
    trials.setdefault("balance", ["ai_correct", "predicted_class"])
    trials.setdefault("attention_checks", 1)
    trials.setdefault("pool_size", max(4 * (trials["count"] + trials.get("learning", 0)), 16))
    task = spec["task"]
    task.setdefault("confidence_scale", 0)
    task.setdefault("prompt", "")
    if task["design"] == "distinction":
        task.setdefault("candidates", 4)  # HIVE's four class-explanation pairs
    spec.setdefault("consent", {"text": "",
                                "screen_out_on_decline": ConsentSpec.screen_out_on_decline})
    spec.setdefault("instructions", [])
    spec.setdefault("comprehension", {"max_attempts": 2, "questions": []})
    spec["comprehension"].setdefault("max_attempts", 2)
    spec["comprehension"].setdefault("questions", [])  # `comprehension: {}` is allowed
    spec.setdefault("questionnaires", [])
    rec = spec["recruitment"]
    rec.setdefault("allow_direct", False)
    rec.setdefault("time_limit_minutes", None)
    rec.setdefault("active_window_minutes", 30)
    rec.setdefault("completion_url", "")
    rec.setdefault("screenout_url", "")
    spec.setdefault("assignment_seed", 0)
    exclusions = spec.setdefault("exclusions", {})
    exclusions.setdefault("speeder_fraction", ExclusionsSpec.speeder_fraction)
    exclusions.setdefault("min_seconds_per_trial", ExclusionsSpec.min_seconds_per_trial)
    for condition in spec["conditions"]:
        condition.setdefault("label", condition["name"])
        condition.setdefault("show_ai", True)
        condition.setdefault("cap", None)
        if "explanation" in condition:
            condition["explanation"].setdefault("params", {})
            condition["explanation"].setdefault("quality", "full")
            condition["explanation"].setdefault("wording", "plain")


def _check_unique_conditions(spec: dict[str, Any]) -> None:
    seen: set[str] = set()
    for i, condition in enumerate(spec["conditions"]):
        if condition["name"] in seen:
            raise SpecError(f"conditions[{i}].name: duplicate condition {condition['name']!r}")
        seen.add(condition["name"])
        if "explanation" in condition and not condition["show_ai"]:
            raise SpecError(f"conditions[{i}].explanation: an explanation needs show_ai: true "
                            "(it explains the AI's prediction)")


def _check_codes(spec: dict[str, Any]) -> None:
    rec = spec["recruitment"]
    if rec["completion_code"] == rec["screenout_code"]:
        raise SpecError("recruitment.screenout_code: must differ from completion_code")


def _check_languages(spec: dict[str, Any]) -> None:
    """Every participant-facing text gives every declared language; a plain (non-empty)
    string only in a study of one language."""
    languages = spec_languages(spec)
    for field, value in localised_fields(spec):
        if isinstance(value, str):
            if value and len(languages) > 1:
                raise SpecError(f"{field}: a study in {', '.join(languages)} gives this text "
                                f"in each language ({{{languages[0]}: ..., {languages[1]}: "
                                "...}), not as one string")
            continue
        missing = missing_languages(value, languages)
        if missing:
            raise SpecError(f"{field}: no text in {', '.join(missing)} (the study's languages "
                            f"are {', '.join(languages)})")
        extra = sorted(set(value) - set(languages))
        if extra:
            raise SpecError(f"{field}: {', '.join(extra)} is not one of the study's languages "
                            f"({', '.join(languages)}); add it to languages or remove it")


def _check_comprehension(spec: dict[str, Any]) -> None:
    for language in spec_languages(spec):
        for i, question in enumerate(spec["comprehension"]["questions"]):
            answer = text_in(question["answer"], language)
            options = [text_in(option, language) for option in question["options"]]
            if answer not in options:
                raise SpecError(f"comprehension.questions[{i}].answer: {answer!r} is not one "
                                f"of its options {options}"
                                + (f" (in {language})" if "languages" in spec else ""))


def _check_scale_languages(spec: dict[str, Any]) -> None:
    """A standard scale is published in English: in another language it needs the spec's
    validated translation, with its source, item for item."""
    from analysis.questionnaires import SCALES

    translations = spec.get("scale_translations", {})
    asked = {entry for entry in spec["questionnaires"] if isinstance(entry, str)}
    for name in sorted(set(translations) - asked):
        raise SpecError(f"scale_translations.{name}: the study does not ask {name} "
                        "(questionnaires)")
    for name in sorted(asked):
        scale = SCALES[name]
        for language in spec_languages(spec):
            given = translations.get(name, {}).get(language)
            if language == SCALES_LANGUAGE and given is None:
                continue
            field = f"scale_translations.{name}.{language}"
            if given is None:
                raise SpecError(f"questionnaires: {name} is published in English; in "
                                f"{LANGUAGES[language]} ({language}) it is asked only with a "
                                f"validated translation: give {field} with its source, items "
                                "and anchors, or ask your own questions (free_text)")
            if len(given["items"]) != len(scale.items):
                raise SpecError(f"{field}.items: {len(given['items'])} items; {name} has "
                                f"{len(scale.items)}, translated in its order")
            if len(given["anchors"]) != len(scale.anchors):
                raise SpecError(f"{field}.anchors: {len(given['anchors'])} anchors; {name} "
                                f"words {len(scale.anchors)} points, translated in order")
        for language in sorted(set(translations.get(name, {})) - set(spec_languages(spec))):
            raise SpecError(f"scale_translations.{name}.{language}: not one of the study's "
                            f"languages ({', '.join(spec_languages(spec))})")


_ALL_SHOW_AI = {"agreement", "forward_simulation", "counterfactual_simulation", "debugging",
                "distinction", "simulate_then_decide", "model_comparison", "mislabelled"}
REGRESSION_METHODS = frozenset({"linear_model"})  # the methods that explain a regressor
_COMPARES_MODELS = {"debugging", "model_comparison"}  # the designs that list scenario.bugs


def _check_task(spec: dict[str, Any]) -> None:
    design = spec["task"]["design"]
    if design not in DESIGNS:
        raise SpecError(f"task.design: unknown {design!r}; expected one of "
                        f"{', '.join(sorted(DESIGNS))}")
    if design == "judge_advisor" and not any(c["show_ai"] for c in spec["conditions"]):
        raise SpecError("conditions: a judge_advisor study needs at least one condition "
                        "with show_ai: true")
    if design in _ALL_SHOW_AI and not all(c["show_ai"] for c in spec["conditions"]):
        raise SpecError(f"conditions: every condition of a {design} study must show the AI "
                        "(show_ai: true)")
    if (design in _COMPARES_MODELS) != ("bugs" in spec["scenario"]):
        raise SpecError("scenario.bugs: debugging and model_comparison studies (and only "
                        "these) list the planted bugs whose models participants inspect")
    if design == "forward_simulation" and "learning" not in spec["trials"]:
        raise SpecError("trials.learning: a forward_simulation study needs the number of "
                        "learning items")
    if _regression(spec) and design != "simulate_then_decide":
        raise SpecError(f"scenario.name: {spec['scenario']['name']!r} is a regression scenario "
                        "(numeric answers); its task design is simulate_then_decide")
    _DESIGN_CHECKS.get(design, _no_check)(spec)


def _no_check(spec: dict[str, Any]) -> None:
    return None


def _regression(spec: dict[str, Any]) -> bool:
    if _own(spec):
        return bool(spec["scenario"].get("task") == "regression")
    return spec["scenario"]["name"] in REGRESSION_SCENARIOS


def _modality(spec: dict[str, Any]) -> str | None:
    if _own(spec):
        return str(spec["scenario"].get("modality", "tabular"))
    return MODALITIES.get(spec["scenario"]["name"])


def _own(spec: dict[str, Any]) -> bool:
    """Whether the scenario is the researcher's own data rather than a bundled one."""
    return "data" in spec["scenario"]


_OWN_KEYS = ("target", "codebook", "model_file", "task", "sha256", "modality", "text",
             "image")


def _check_own_material(spec: dict[str, Any], base_dir: Path | None,
                        store: Path | None) -> None:
    """A scenario of the researcher's own data: check the files and record their hashes."""
    s = spec["scenario"]
    if not _own(spec):
        stray = [k for k in _OWN_KEYS if k in s]
        if stray:
            raise SpecError(f"scenario.{stray[0]}: belongs to a scenario of your own data "
                            "(give scenario.data, the file)")
        return
    if "target" not in s:
        raise SpecError("scenario.target: a scenario of your own data names its target column "
                        "(the label or number the model predicts)")
    if s["name"] in LOADERS:
        raise SpecError(f"scenario.name: {s['name']!r} is a bundled scenario; give your own "
                        "data another name")
    if "scaffolding" in s:
        raise SpecError("scenario.scaffolding: the scaffolding attack is not available on your "
                        "own data yet (it is built on the bundled tables)")
    _check_own_media(spec)
    if "model_file" in s and s["model"] != SUPPLIED:
        raise SpecError(f"scenario.model: with model_file the model is your own; leave out "
                        f"model or write model: {SUPPLIED}")
    if "model_file" in s and any("features" in c for c in spec["conditions"]):
        raise SpecError("conditions: feature sets train a model per set; a model brought as "
                        "a file takes all its columns")
    for field, method in _condition_methods(spec) if "model_file" in s else ():
        if method in MODEL_SPECIFIC_METHODS:
            raise SpecError(f"{field}: {method!r} reads the model's internals; a model brought "
                            "as a file gets model-agnostic methods (e.g. kernel_shap, lime, "
                            "anchors, counterfactual_mad, nearest_examples)")
    if base_dir is None:
        if "sha256" not in s or "task" not in s:
            raise SpecError("scenario.data: a spec with its own data is loaded from its file, "
                            "so that the data beside it can be found and checked (python "
                            "manage.py load_study PATH)")
        return
    stored = _stored_files(s, base_dir, store)
    try:
        found = check_material(s, base_dir=base_dir, store=None if stored else store,
                               files=stored)
    except MaterialError as exc:
        raise SpecError(f"scenario: {exc}") from None
    if "sha256" in s and s["sha256"] != found["sha256"]:
        raise SpecError("scenario.sha256: the files are not the ones this spec was pinned to "
                        "(they changed since); remove sha256 to accept the new files")
    s.update(found)


def _stored_files(section: dict[str, Any], base_dir: Path,
                  store: Path | None) -> dict[str, Path] | None:
    """The stored copies of a pinned spec's files (``sha256`` and ``task`` recorded) when the
    files are not beside it, e.g. a table uploaded on the researcher's page; they are then
    checked in their place. None when the files are beside the spec (those are checked) or a
    copy is missing (the check then says which file is not found). Pictures are never stored
    whole, so their spec needs the folder."""
    if (store is None or "sha256" not in section or "task" not in section
            or section.get("modality") == "image"):
        return None
    if any(path.exists() for path in material_files(section, base_dir).values()):
        return None
    paths = {key: stored_path(store, digest, str(section.get(key, "")))
             for key, digest in section["sha256"].items()}
    return paths if all(path.is_file() for path in paths.values()) else None


# Own texts and pictures: the spec key naming their column, and the methods that read them.
_MEDIA = {"text": ("texts", TEXT_METHODS), "image": ("pictures", IMAGE_METHODS)}


def _check_own_media(spec: dict[str, Any]) -> None:
    """Own texts or pictures: the column is named, the model is trained here, the methods
    read such material."""
    s = spec["scenario"]
    modality = _modality(spec)
    for key in _MEDIA:
        if key in s and key != modality:
            raise SpecError(f"scenario.{key}: names the column of {_MEDIA[key][0]} of material "
                            f"with modality: {key}")
    if modality not in _MEDIA:
        return
    what, methods = _MEDIA[modality]
    if modality not in s:
        raise SpecError(f"scenario.{modality}: material with modality: {modality} names the "
                        f"column that holds the {what}")
    if "model_file" in s:
        raise SpecError(f"scenario.model_file: a model brought as a file takes a table's "
                        f"columns; the platform trains the model of {what} (leave out "
                        "model_file)")
    if modality == "text" and "ood" in (s["bug"], *s.get("bugs", ())):
        raise SpecError("scenario.bug: the ood bug on texts is built on the bundled tweets' "
                        "topics; use spurious, label_noise or randomised_weights")
    for field, method in _condition_methods(spec):
        if method not in methods:
            raise SpecError(f"{field}: {method!r} does not explain {what}; a study of {what} "
                            f"can show {', '.join(sorted(methods))}")


def _check_numeric_task(spec: dict[str, Any]) -> None:
    """Simulate then decide asks for numbers: a regression scenario only."""
    if not _regression(spec):
        raise SpecError(f"scenario.name: simulate_then_decide needs a regression scenario "
                        f"(one of {', '.join(sorted(REGRESSION_SCENARIOS))})")
    for field, method in _condition_methods(spec):
        if method not in REGRESSION_METHODS:
            raise SpecError(f"{field}: {method!r} explains "
                            "classifiers; a regression study can show "
                            f"{', '.join(sorted(REGRESSION_METHODS))}")
    if spec["trials"].get("unusual", 0) > spec["trials"]["count"]:
        raise SpecError("trials.unusual: more unusual items than trials.count")


def _check_distinction(spec: dict[str, Any]) -> None:
    """Distinction shows one explanation per candidate class: the methods must be able to
    explain a class other than the prediction."""
    if _regression(spec):
        raise SpecError("scenario.name: distinction needs a classification scenario")
    for field, method in _condition_methods(spec):
        if not method_explains_any_class(method):
            raise SpecError(f"{field}: {method!r} cannot explain a "
                            "chosen class (no `target` parameter); distinction needs one that "
                            "can, e.g. gradient, smoothgrad or integrated_gradients")


def _check_model_comparison(spec: dict[str, Any]) -> None:
    bugs = spec["scenario"]["bugs"]
    if len(bugs) != 1:
        raise SpecError("scenario.bugs: a model_comparison study compares the clean model with "
                        "exactly one planted bug")
    if "spurious" in bugs and _modality(spec) == "tabular":
        raise SpecError("scenario.bugs: on tables the spurious bug adds a column the clean "
                        "model does not take; compare on digits or sentiment, or use "
                        "label_noise / randomised_weights")


def _check_mislabelled(spec: dict[str, Any]) -> None:
    if spec["scenario"]["bug"] != "label_noise":
        raise SpecError("scenario.bug: a mislabelled study needs bug: label_noise (the flipped "
                        "training labels are what participants look for)")
    if _regression(spec):
        raise SpecError("scenario.name: mislabelled needs a classification scenario")


_DESIGN_CHECKS: dict[str, Callable[[dict[str, Any]], None]] = {
    "simulate_then_decide": _check_numeric_task,
    "distinction": _check_distinction,
    "model_comparison": _check_model_comparison,
    "mislabelled": _check_mislabelled,
}


def method_explains_any_class(method: str) -> bool:
    """Whether an explanation method takes ``target`` (the class to explain)."""
    from explainers.registry import method_parameters

    try:
        return "target" in method_parameters(method)
    except ValueError:
        return True  # an unknown method is reported by the known-methods check


def _check_features(spec: dict[str, Any]) -> None:
    """Per-condition feature sets are for tables; "key" needs the scenario to name some."""
    for i, condition in enumerate(spec["conditions"]):
        if "features" not in condition:
            continue
        if _modality(spec) != "tabular":
            raise SpecError(f"conditions[{i}].features: only table scenarios have named "
                            "features to choose")
        if spec["design"]["type"] != "between":
            raise SpecError(f"conditions[{i}].features: feature sets differ between "
                            "participants, so they need a between-subjects design")
        if spec["task"]["design"] in _COMPARES_MODELS | {"mislabelled"}:
            raise SpecError(f"conditions[{i}].features: not available in a "
                            f"{spec['task']['design']} study")


_NO_SCAFFOLDING = _COMPARES_MODELS | {"mislabelled", "distinction", "simulate_then_decide"}


def _check_scaffolding(spec: dict[str, Any]) -> None:
    """The scaffolding attack: a table classification scenario without other model variants;
    every condition's method must explain any model, and an attacked condition's must be one
    the attack fools (it queries off-manifold perturbations)."""
    from experiments.scenarios.attacks import AGNOSTIC_METHODS, ATTACKED_METHODS

    scaffolding = spec["scenario"].get("scaffolding")
    attacked = [i for i, c in enumerate(spec["conditions"]) if c.get("model_variant")]
    if scaffolding is None:
        if attacked:
            raise SpecError(f"conditions[{attacked[0]}].model_variant: a scaffolded condition "
                            "needs scenario.scaffolding (the biased and innocuous features)")
        return
    name = spec["scenario"]["name"]
    if MODALITIES.get(name) != "tabular" or name in REGRESSION_SCENARIOS:
        raise SpecError("scenario.scaffolding: the attack needs a table classification scenario")
    if spec["scenario"]["bug"] is not None or spec["task"]["design"] in _NO_SCAFFOLDING:
        raise SpecError("scenario.scaffolding: not available with a planted bug or in a "
                        f"{spec['task']['design']} study")
    _check_scaffolding_features(name, scaffolding)
    for i, condition in enumerate(spec["conditions"]):
        if "features" in condition:
            raise SpecError(f"conditions[{i}].features: not available with scenario.scaffolding")
        method = condition.get("explanation", {}).get("method")
        allowed = ATTACKED_METHODS if condition.get("model_variant") else AGNOSTIC_METHODS
        if condition.get("model_variant") and method is None:
            raise SpecError(f"conditions[{i}].model_variant: a scaffolded condition shows an "
                            "explanation (that is what the attack changes)")
        if method is not None and method not in allowed:
            raise SpecError(f"conditions[{i}].explanation.method: {method!r} cannot explain "
                            f"this {'scaffolded' if condition.get('model_variant') else 'biased'}"
                            f" model; expected one of {', '.join(sorted(allowed))}")


def _check_scaffolding_features(name: str, scaffolding: dict[str, str]) -> None:
    from experiments.scenarios.sources import scenario_columns

    columns = scenario_columns(name)
    for field in ("biased_feature", "innocuous_feature"):
        if scaffolding[field] not in columns:
            raise SpecError(f"scenario.scaffolding.{field}: unknown column "
                            f"{scaffolding[field]!r}; expected one of {', '.join(columns)}")
    if scaffolding["biased_feature"] == scaffolding["innocuous_feature"]:
        raise SpecError("scenario.scaffolding.innocuous_feature: must differ from "
                        "biased_feature")


def _check_incentives(spec: dict[str, Any]) -> None:
    if not spec.get("incentives"):
        return
    if DESIGNS[spec["task"]["design"]].numeric:
        raise SpecError("incentives: this task's answers are numbers scored by their error, not"
                        " right or wrong, so a bonus per correct answer cannot be computed")
    rule = Incentives.from_spec(spec)
    if rule is None or not rule.pays_anything:
        raise SpecError("incentives: say what earns a bonus: per_correct or per_accuracy_point")


def _check_feedback(spec: dict[str, Any]) -> None:
    task = DESIGNS[spec["task"]["design"]]
    phases = {phase.name for phase in task.phases if phase.scored}
    for i, condition in enumerate(spec["conditions"]):
        rule = FeedbackRule.from_condition(condition)
        if rule is None:
            continue
        if not task.gives_feedback:
            raise SpecError(f"conditions[{i}].feedback: a {task.name} study has no right "
                            "answer to show after each trial (its answers are numbers or "
                            "readiness ratings); outcome feedback needs a class, a model, a "
                            "verdict or whether the AI was right")
        unknown = sorted((rule.phases or frozenset()) - phases)
        if unknown:
            raise SpecError(f"conditions[{i}].feedback.phases: {', '.join(unknown)} is not a "
                            f"scored phase of {task.name}; expected one of "
                            f"{', '.join(sorted(phases))}")


def _check_trial_counts(spec: dict[str, Any]) -> None:
    trials = spec["trials"]
    needed = trials["count"] + trials.get("learning", 0)
    if trials["pool_size"] < needed:
        raise SpecError(f"trials.pool_size: {trials['pool_size']} is smaller than the "
                        f"{needed} items a participant needs (trials.count + trials.learning)")
    # Practice items are drawn from the pool beside the scored ones (every block's, at most).
    practice = sum(c.get("tutorial", {}).get("practice", 0) for c in spec["conditions"])
    if practice and trials["pool_size"] < needed + practice:
        raise SpecError(f"trials.pool_size: {trials['pool_size']} leaves too few items for the "
                        f"tutorials' {practice} practice trials beside the {needed} scored "
                        f"ones; make it at least {needed + practice}")


def _check_within(spec: dict[str, Any]) -> None:
    kind = spec["design"]["type"]
    if "groups" in spec["design"] and kind != "mixed":
        raise SpecError("design.groups: groups belong to a mixed design (type: mixed)")
    if kind == "between":
        return
    if any(c["cap"] is not None for c in spec["conditions"]):
        raise SpecError("conditions: caps apply to between-subjects conditions only")
    if spec["task"]["design"] == "forward_simulation":
        raise SpecError("design.type: forward_simulation runs between subjects (its pre/post "
                        "phases already compare within each participant)")
    if kind == "mixed":
        _check_mixed(spec)
        return
    n = len(spec["conditions"])
    if n < 2:
        raise SpecError("design.type: a within-subjects study needs at least two conditions")
    if spec["trials"]["count"] % n:
        raise SpecError(f"trials.count: {spec['trials']['count']} trials cannot be split into "
                        f"{n} equal condition blocks")


def _check_mixed(spec: dict[str, Any]) -> None:
    """Mixed: between-subjects groups, each a within-subjects set of conditions."""
    groups = spec["design"].get("groups")
    if not groups:
        raise SpecError("design.groups: a mixed design lists its between-subjects groups, "
                        "each with the conditions its participants all see")
    names = {c["name"] for c in spec["conditions"]}
    used: set[str] = set()
    seen: set[str] = set()
    for g, group in enumerate(groups):
        if group["name"] in seen:
            raise SpecError(f"design.groups[{g}].name: duplicate group {group['name']!r}")
        seen.add(group["name"])
        for name in group["conditions"]:
            if name not in names:
                raise SpecError(f"design.groups[{g}].conditions: unknown condition {name!r}; "
                                f"expected one of {', '.join(sorted(names))}")
        used |= set(group["conditions"])
        if spec["trials"]["count"] % len(group["conditions"]):
            raise SpecError(f"trials.count: {spec['trials']['count']} trials cannot be split "
                            f"into the {len(group['conditions'])} condition blocks of group "
                            f"{group['name']!r}")
    if names - used:
        raise SpecError(f"design.groups: conditions in no group: {', '.join(sorted(names - used))}")


_SEMANTIC_CHECKS: tuple[Callable[[dict[str, Any]], None], ...] = (
    _check_unique_conditions,
    _check_codes,
    _check_languages,
    _check_comprehension,
    _check_scale_languages,
    _check_task,
    _check_trial_counts,
    _check_within,
    _check_features,
    _check_scaffolding,
    _check_incentives,
    _check_feedback,
)
