"""Per-participant trial plans, drawn from the participant's stored seed.

The plan is created in full at enrolment (so the export can show what was planned even for
dropouts) and replayed exactly from ``Participant.seed``: ``plan_draw`` is a pure function of
the study's item pool and that seed.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass

import numpy as np

from experiments.designs import LABEL_RIGHT, Design, design
from experiments.feedback import feedback_flags
from experiments.randomisation import (
    BlockOrder,
    PlannedTrial,
    block_orders,
    disjoint_sets,
    insert_attention_checks,
)
from experiments.study_spec import TrialsSpec
from studyapp.models import Condition, Explanation, Item, Participant, Study, Trial
from studyapp.services.explanations import explanation_key
from studyapp.services.pools import condition_feature_variant

# The Item fields plan_draw and item_strata read, the id, and the study (the related manager
# links each item to it): nothing else is loaded. A field left out loads item by item.
PLAN_FIELDS = ("id", "study", "role", "truth", "ai_class_index", "ai_correct", "model_variant")


@dataclass(frozen=True)
class PlannedItem:
    item_id: int
    kind: str  # "main" or "attention"
    phase: str = "main"
    block: int = 0  # within subjects: which condition block (in the participant's order)


def plan_draw(*, pool: list[Item], attention: list[Item], trials: TrialsSpec,
              task: Design, seed: int, n_blocks: int = 1,
              practice: tuple[int, ...] = ()) -> list[PlannedItem]:
    """The participant's trials, phase by phase: items balanced on AI correct x predicted
    class (learning and test sets disjoint), attention checks inserted where allowed, and
    each block opened by ``practice[block]`` unscored practice trials (a condition's
    tutorial) on pool items no scored trial uses."""
    rng = np.random.default_rng(seed)
    ai_correct, predicted = item_strata(pool, trials.balance, task=task)
    blocks = max(n_blocks, 1)
    sizes = {f"main{b}": trials.count // blocks for b in range(blocks)}
    if trials.learning is not None:
        sizes = {"learning": trials.learning, "test0": trials.count}
    if trials.unusual:
        item_sets = _with_unusual(pool, trials.count, trials.unusual, rng)
    else:
        item_sets = disjoint_sets(ai_correct, predicted, sizes, rng=rng)
    # Each block (one per condition in within-subjects designs) is balanced on its own.
    planned = [PlannedTrial(index=0, item_index=int(i), phase=phase.name, kind="main",
                            condition=str(b))
               for b in range(blocks) for phase in task.phases
               for i in rng.permutation(item_sets[_set_name(phase.items, b)])]
    n_checks = min(trials.attention_checks, len(attention))
    checked = [p.name for p in task.phases if p.attention_checks]
    if n_checks:
        planned = list(insert_attention_checks(planned, rng=rng, count=n_checks,
                                               phases=checked))
    checks = iter(attention[int(i)] for i in rng.permutation(len(attention)))
    drawn = [PlannedItem(pool[t.item_index].pk, "main", t.phase, int(t.condition))
             if t.item_index is not None
             else PlannedItem(next(checks).pk, "attention", t.phase, int(t.condition))
             for t in planned]
    if not any(practice):
        return drawn
    spare = _spare_items(pool, item_sets, rng)
    return _with_practice(drawn, practice, spare, first_phase=task.phases[0].name)


def _spare_items(pool: list[Item], item_sets: dict[str, list[int]],
                 rng: np.random.Generator) -> list[int]:
    """Pool items (their pks) that no scored trial of this plan uses, in random order."""
    used = {int(i) for chosen in item_sets.values() for i in chosen}
    return [pool[int(i)].pk for i in rng.permutation(len(pool)) if int(i) not in used]


def _with_practice(drawn: list[PlannedItem], practice: tuple[int, ...], spare: list[int], *,
                   first_phase: str) -> list[PlannedItem]:
    """``drawn`` with each block's practice trials placed before its first trial."""
    needed = sum(practice)
    if needed > len(spare):
        raise ValueError(f"practice trials need {needed} pool items no scored trial uses; "
                         f"the pool has {len(spare)} spare: raise trials.pool_size")
    items = iter(spare)
    out: list[PlannedItem] = []
    for block in sorted({p.block for p in drawn}):
        count = practice[block] if block < len(practice) else 0
        out += [PlannedItem(next(items), "practice", first_phase, block) for _ in range(count)]
        out += [p for p in drawn if p.block == block]
    return out


def _with_unusual(pool: list[Item], count: int, unusual: int,
                  rng: np.random.Generator) -> dict[str, list[int]]:
    """Simulate then decide: ``unusual`` items where the model errs badly (stored as not
    ``ai_correct``) among ``count`` trials, the rest typical; their order is shuffled later."""
    typical = [i for i, item in enumerate(pool) if item.ai_correct]
    odd = [i for i, item in enumerate(pool) if not item.ai_correct]
    if len(typical) < count - unusual or len(odd) < unusual:
        raise ValueError(f"the pool has {len(typical)} typical and {len(odd)} unusual items; "
                         f"a plan needs {count - unusual} and {unusual}")
    chosen = [*rng.choice(typical, size=count - unusual, replace=False).tolist(),
              *rng.choice(odd, size=unusual, replace=False).tolist()]
    return {"main0": [int(i) for i in chosen]}


def _set_name(items: str, block: int) -> str:
    """The item set a phase draws from: learning items are shared, the rest are per block."""
    return "learning" if items == "learning" else f"{items}{block}"


def item_strata(items: list[Item], balance: Collection[str], *, task: Design | None = None
                ) -> tuple[np.ndarray, np.ndarray]:
    """The (AI correct, predicted class) cells to balance on; a factor left out of the spec's
    ``balance`` list is held constant, so it does not split the cells. Finding mislabelled
    points balances on whether the label was flipped instead of whether the AI is right."""
    labels = task is not None and task.target == "label_error"
    flag = (lambda item: item.truth == LABEL_RIGHT) if labels else (lambda item: item.ai_correct)
    ai_correct = np.array([flag(item) if "ai_correct" in balance else True
                           for item in items], dtype=bool)
    predicted = np.array([(item.ai_class_index or 0) if "predicted_class" in balance else 0
                          for item in items], dtype=int)
    variants = sorted({item.model_variant for item in items})
    if len(variants) > 1 and task is not None and task.target == "clean_model":
        # Debugging: each model variant (clean, each bug) gets an equal share of the trials.
        predicted = np.array([variants.index(item.model_variant) for item in items])
    return ai_correct, predicted


def trial_plan_create(*, participant: Participant) -> list[Trial]:
    """Create the participant's Trial rows from their seed (called inside enrolment)."""
    study = participant.study
    task = design(study.task)
    order = block_conditions(participant)
    variant = condition_feature_variant(study, order[0].name)
    # Only what the draw reads: the study's row is locked while an arrival is planned, and
    # parsing the items' JSON (display, features, panels) was a third of the plan's time.
    items = study.items.order_by("id").only(*PLAN_FIELDS)
    if variant is not None:  # feature-set designs: the condition's own model and items
        items = items.filter(model_variant=variant)
    pool = list(items.filter(role=Item.Role.POOL))
    attention = list(items.filter(role=Item.Role.ATTENTION))
    planned = plan_draw(pool=pool, attention=attention, trials=study.typed_spec.trials,
                        task=task, seed=participant.seed, n_blocks=len(order),
                        practice=_practice_counts(study, order))
    ids = [p.item_id for p in planned]
    # Panel designs look their explanations up per panel on the page.
    explanations = [{} if task.answers_from_panels else _explanations_by_item(condition, ids)
                    for condition in order]
    feedback = _feedback_flags(study, order, planned, task)
    rows = [
        Trial(participant=participant, index=i, item_id=p.item_id,
              condition=order[p.block], phase=p.phase, kind=p.kind, feedback=feedback[i],
              explanation_id=explanations[p.block].get(p.item_id)
              if p.kind != "attention" and task.phase(p.phase).explained else None)
        for i, p in enumerate(planned)
    ]
    return Trial.objects.bulk_create(rows)


def _practice_counts(study: Study, order: list[Condition]) -> tuple[int, ...]:
    """Each block's number of practice trials, by its condition's tutorial."""
    tutorials = [study.typed_spec.condition(c.name).tutorial for c in order]
    return tuple(t.practice if t else 0 for t in tutorials)


def _feedback_flags(study: Study, order: list[Condition], planned: list[PlannedItem],
                    task: Design) -> list[bool]:
    """Which planned trials show their outcome, by each block's condition rule."""
    rules = {block: study.typed_spec.condition(condition.name).feedback
             for block, condition in enumerate(order)}
    return feedback_flags(((p.block, p.phase, p.kind == "main" and task.phase(p.phase).scored)
                           for p in planned), rules)


def block_conditions(participant: Participant) -> list[Condition]:
    """The conditions of the participant's blocks in order: one block between subjects; in
    within-subjects designs every condition, in the order of their Latin-square row."""
    if participant.sequence is None:
        return [participant.first_block_condition]
    by_name = {c.name: c for c in participant.study.conditions.all()}
    order = study_block_orders(participant.study)[participant.sequence]
    return [by_name[name] for name in order.conditions]


def study_block_orders(study: Study) -> list[BlockOrder]:
    """The study's within/mixed block orders (index = ``Participant.sequence``)."""
    names = [c.name for c in study.conditions.all()]
    return block_orders(study.typed_spec.assignment, names)



def _explanations_by_item(condition: Condition, item_ids: list[int]) -> dict[int, int]:
    """The pk of the condition's explanation of each item (ids only: the payloads are large
    and the plan just links them)."""
    if not condition.explanation_method:
        return {}
    rows = Explanation.objects.filter(
        item_id__in=item_ids, method=condition.explanation_method,
        params_key=explanation_key(condition)).values_list("item_id", "pk")
    return dict(rows)
