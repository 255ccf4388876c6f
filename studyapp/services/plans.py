"""Per-participant trial plans, drawn from the participant's stored seed.

The plan is created in full at enrolment (so the export can show what was planned even for
dropouts) and replayed exactly from ``Participant.seed``: ``plan_draw`` is a pure function of
the study's item pool and that seed.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from experiments.randomisation import PlannedTrial, balanced_items, insert_attention_checks
from studyapp.models import Condition, Explanation, Item, Participant, Trial
from studyapp.services.explanations import params_key


@dataclass(frozen=True)
class PlannedItem:
    item_id: int
    kind: str  # "main" or "attention"


def plan_draw(*, pool: list[Item], attention: list[Item], n_trials: int,
              n_attention: int, seed: int) -> list[PlannedItem]:
    """Balanced main items (AI correct x predicted class) with attention checks inserted."""
    rng = np.random.default_rng(seed)
    ai_correct = np.array([item.ai_correct for item in pool], dtype=bool)
    predicted = np.array([item.ai_class_index or 0 for item in pool], dtype=int)
    chosen = balanced_items(ai_correct, predicted, n_trials, rng=rng)
    main = [PlannedTrial(index=i, item_index=int(k), phase="main", kind="main", condition="")
            for i, k in enumerate(chosen)]
    n_checks = min(n_attention, len(attention), max(len(main) - 1, 0))
    planned = (insert_attention_checks(main, rng=rng, count=n_checks) if n_checks else main)
    checks = iter(attention[int(i)] for i in rng.permutation(len(attention)))
    return [PlannedItem(pool[t.item_index].pk, "main") if t.item_index is not None
            else PlannedItem(next(checks).pk, "attention") for t in planned]


def trial_plan_create(*, participant: Participant) -> list[Trial]:
    """Create the participant's Trial rows from their seed (called inside enrolment)."""
    study = participant.study
    trials_spec = study.spec["trials"]
    pool = list(study.items.filter(role=Item.Role.POOL).order_by("id"))
    attention = list(study.items.filter(role=Item.Role.ATTENTION).order_by("id"))
    planned = plan_draw(pool=pool, attention=attention, n_trials=trials_spec["count"],
                        n_attention=trials_spec["attention_checks"], seed=participant.seed)
    explanations = _explanations_by_item(participant.condition, [p.item_id for p in planned])
    trials = [
        Trial(participant=participant, index=i, item_id=p.item_id,
              condition=participant.condition, phase="main", kind=p.kind,
              explanation=explanations.get(p.item_id) if p.kind == "main" else None)
        for i, p in enumerate(planned)
    ]
    return Trial.objects.bulk_create(trials)


def _explanations_by_item(condition: Condition, item_ids: list[int]) -> dict[int, Explanation]:
    if not condition.explanation_method:
        return {}
    rows = Explanation.objects.filter(
        item_id__in=item_ids, method=condition.explanation_method,
        params_key=params_key(condition.explanation_params))
    return {row.item_id: row for row in rows}
