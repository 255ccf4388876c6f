"""Per-participant randomisation: condition order, trial order, attention checks.

Everything is a pure function of its arguments and a seed: the participant's whole
:class:`TrialPlan` can be rebuilt from the seed stored with them, and every trial records the
item it shows. Item choice lives in :mod:`experiments.sampling`.

    plan = plan_balanced_trials(scenario.ai_correct, scenario.test_predictions,
                                n_trials=12, seed=participant.seed, conditions=("shap",),
                                attention_checks=1)
"""

from __future__ import annotations

from collections.abc import Collection, Iterator, Mapping, Sequence
from dataclasses import asdict, dataclass, replace
from itertools import pairwise
from typing import Any, Literal

import numpy as np
from numpy.typing import ArrayLike

from experiments.sampling import (
    balanced_items,
    disjoint_sets,
    participant_rng,
    unusual_items,
)
from experiments.study_spec import AssignmentSpec

TrialKind = Literal["main", "attention"]

# Independent random streams drawn from one participant seed (see participant_rng).
ITEM_STREAM, ORDER_STREAM, ATTENTION_STREAM = 1, 2, 3


@dataclass(frozen=True)
class PlannedTrial:
    """One trial of a participant's plan. Attention checks have no test item."""

    index: int
    item_index: int | None
    phase: str
    kind: TrialKind
    condition: str


@dataclass(frozen=True)
class TrialPlan:
    """A participant's whole sequence of trials and the seed that produced it."""

    trials: tuple[PlannedTrial, ...]
    seed: int
    participant_number: int = 0
    condition_order: tuple[str, ...] = ()

    def __len__(self) -> int:
        return len(self.trials)

    def __iter__(self) -> Iterator[PlannedTrial]:
        return iter(self.trials)

    def __getitem__(self, position: int) -> PlannedTrial:
        return self.trials[position]

    @property
    def main_trials(self) -> tuple[PlannedTrial, ...]:
        return tuple(t for t in self.trials if t.kind == "main")

    @property
    def item_indices(self) -> list[int]:
        """Test items of the main trials, in the order shown."""
        return [t.item_index for t in self.trials if t.item_index is not None]

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON types, for storing with the participant."""
        return {
            "seed": self.seed,
            "participant_number": self.participant_number,
            "condition_order": list(self.condition_order),
            "trials": [asdict(t) for t in self.trials],
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> TrialPlan:
        return cls(
            trials=tuple(PlannedTrial(**t) for t in data["trials"]),
            seed=int(data["seed"]),
            participant_number=int(data.get("participant_number", 0)),
            condition_order=tuple(data.get("condition_order", ())),
        )


@dataclass(frozen=True)
class Phase:
    """One stretch of trials over one item set.

    ``items`` names the item set (a key of ``make_trial_plan(items=...)``). ``condition`` fixes
    the condition shown (e.g. ``"none"`` in the unexplained tests of forward simulation); when
    ``None`` the participant's condition(s) apply. ``attention`` allows attention checks here.
    """

    name: str
    items: str = "main"
    shuffle: bool = True
    condition: str | None = None
    attention: bool = True


def forward_simulation_phases(*, baseline: str = "none") -> tuple[Phase, ...]:
    """Hase & Bansal (2020): learn, pre-test, learn again with explanations, post-test.

    Uses item sets ``"learning"`` and ``"test"`` (disjoint; see ``sampling.disjoint_sets``).
    """
    return (
        Phase("learning", items="learning", condition=baseline),
        Phase("pre", items="test", condition=baseline),
        Phase("learning_explained", items="learning"),
        Phase("post", items="test", condition=baseline),
    )


def latin_square(n_conditions: int) -> list[list[int]]:
    """A Williams design: rows are condition orders balanced for first-order carry-over.

    For even ``n`` it is one ``n x n`` Latin square in which every ordered pair of conditions is
    adjacent exactly once; for odd ``n`` it is the pair of squares (a square and its mirror),
    ``2n`` rows, with every ordered pair adjacent exactly twice.
    """
    if n_conditions < 1:
        raise ValueError(f"need at least one condition, got {n_conditions}")
    n = n_conditions
    first = [0] + [(k + 1) // 2 if k % 2 else n - k // 2 for k in range(1, n)]
    rows = [[(c + shift) % n for c in first] for shift in range(n)]
    if n % 2:
        rows += [row[::-1] for row in rows]
    return rows


def condition_order(conditions: Sequence[str], participant_number: int) -> list[str]:
    """The order of conditions for the ``participant_number``-th participant (cycling the rows)."""
    if participant_number < 0:
        raise ValueError(f"participant_number must be non-negative, got {participant_number}")
    rows = latin_square(len(conditions))
    return [conditions[j] for j in rows[participant_number % len(rows)]]


@dataclass(frozen=True)
class BlockOrder:
    """One sequence a participant can be assigned: their between-subjects group (mixed
    designs; "" otherwise) and the order of their condition blocks."""

    group: str
    conditions: tuple[str, ...]


def block_orders(assignment: AssignmentSpec, conditions: Sequence[str]) -> list[BlockOrder]:
    """Every sequence of a within or mixed design, in a fixed order (the stored index).

    Within: the Williams-design rows over all conditions. Mixed: for each group in turn, the
    Williams rows over the group's conditions.
    """
    if assignment.kind == "within":
        return [BlockOrder("", tuple(conditions[i] for i in row))
                for row in latin_square(len(conditions))]
    if assignment.kind != "mixed":
        raise ValueError(f"block orders exist for within and mixed designs, not "
                         f"{assignment.kind!r}")
    return [BlockOrder(group.name, tuple(group.conditions[i] for i in row))
            for group in assignment.groups for row in latin_square(len(group.conditions))]


def insert_attention_checks(
    trials: Sequence[PlannedTrial],
    *,
    rng: np.random.Generator | None = None,
    count: int | None = None,
    rate: float | None = None,
    positions: Sequence[int] | None = None,
    phases: Collection[str] | None = None,
) -> tuple[PlannedTrial, ...]:
    """Add attention checks: never the first trial, never two in a row.

    Give exactly one of ``count``, ``rate`` (checks per main trial, rounded) or ``positions``
    (indices in the resulting plan). With ``count`` or ``rate``, each check follows a different,
    randomly drawn main trial (from ``phases`` only, if given). A check takes the phase and
    condition of the trial before it. Indices are renumbered.
    """
    if sum(option is not None for option in (count, rate, positions)) != 1:
        raise ValueError("give exactly one of count, rate or positions")
    main = list(trials)
    if any(t.kind != "main" for t in main):
        raise ValueError("the plan already has attention checks")
    if positions is not None:
        after = _gaps_from_positions(positions, len(main))
    else:
        if rng is None:
            raise ValueError("count and rate need an rng to place the checks")
        n_checks = count if count is not None else round((rate or 0.0) * len(main))
        eligible = [k + 1 for k, t in enumerate(main) if phases is None or t.phase in phases]
        if not 0 <= n_checks <= len(eligible):
            raise ValueError(
                f"cannot place {n_checks} attention checks after "
                f"{len(eligible)} eligible main trials"
            )
        after = sorted(int(g) for g in rng.choice(eligible, size=n_checks, replace=False))
    planned: list[PlannedTrial] = []
    for k, trial in enumerate(main, start=1):
        planned.append(trial)
        if k in after:
            planned.append(
                PlannedTrial(
                    index=0,
                    item_index=None,
                    phase=trial.phase,
                    kind="attention",
                    condition=trial.condition,
                )
            )
    return tuple(replace(t, index=i) for i, t in enumerate(planned))


def _gaps_from_positions(positions: Sequence[int], n_main: int) -> list[int]:
    """Plan positions of checks -> the number of main trials before each one."""
    ordered = sorted(int(p) for p in positions)
    if len(set(ordered)) != len(ordered):
        raise ValueError(f"attention-check positions repeat: {list(positions)}")
    if ordered and ordered[0] == 0:
        raise ValueError("an attention check cannot be the first trial")
    if any(b - a == 1 for a, b in pairwise(ordered)):
        raise ValueError(f"attention checks cannot be adjacent: {ordered}")
    if ordered and ordered[-1] > n_main + len(ordered) - 1:
        raise ValueError(
            f"position {ordered[-1]} is past the end of a plan of {n_main + len(ordered)} trials"
        )
    return [p - k for k, p in enumerate(ordered)]


def make_trial_plan(
    *,
    items: Sequence[int] | Mapping[str, Sequence[int]],
    seed: int,
    phases: Sequence[Phase] = (Phase("main"),),
    conditions: Sequence[str] = ("",),
    participant_number: int = 0,
    attention_checks: int = 0,
    attention_rate: float | None = None,
    strata: Mapping[int, object] | None = None,
) -> TrialPlan:
    """A participant's full plan, reproducible from ``seed``.

    ``items`` is one item list (the ``"main"`` set) or named sets. Each phase shows its set in a
    seeded random order (unless ``shuffle=False``). With one condition (between-subjects) every
    trial has it; with several (within-subjects) each phase is cut into one block per condition,
    blocks in the Williams order of ``participant_number``; ``strata`` (item -> cell) deals the
    items so each block is balanced too. Attention checks are added last, on their own stream,
    so their number does not change the item order.
    """
    sets = {"main": list(items)} if not isinstance(items, Mapping) else dict(items)
    if not conditions:
        raise ValueError("need at least one condition")
    order = (
        condition_order(conditions, participant_number) if len(conditions) > 1 else [conditions[0]]
    )
    rng = participant_rng(seed, ORDER_STREAM)
    trials: list[PlannedTrial] = []
    for phase in phases:
        if phase.items not in sets:
            raise ValueError(
                f"phase {phase.name!r} uses item set {phase.items!r}; known sets: {sorted(sets)}"
            )
        shown = [int(i) for i in sets[phase.items]]
        if phase.shuffle:
            shown = [shown[k] for k in rng.permutation(len(shown))]
        for item, condition in _assign_conditions(shown, phase, order, strata, rng):
            trials.append(
                PlannedTrial(
                    index=len(trials),
                    item_index=item,
                    phase=phase.name,
                    kind="main",
                    condition=condition,
                )
            )
    if attention_checks and attention_rate is not None:
        raise ValueError("give attention_checks or attention_rate, not both")
    if attention_checks or attention_rate:
        eligible = {p.name for p in phases if p.attention}
        checks = (
            {"rate": attention_rate} if attention_rate is not None else {"count": attention_checks}
        )
        trials = list(
            insert_attention_checks(
                trials, rng=participant_rng(seed, ATTENTION_STREAM), phases=eligible, **checks
            )
        )
    return TrialPlan(
        trials=tuple(trials),
        seed=seed,
        participant_number=participant_number,
        condition_order=tuple(order),
    )


def _assign_conditions(
    shown: list[int],
    phase: Phase,
    order: list[str],
    strata: Mapping[int, object] | None,
    rng: np.random.Generator,
) -> list[tuple[int, str]]:
    """Pair each item of a phase with the condition it is shown in."""
    if phase.condition is not None or len(order) == 1:
        return [(item, phase.condition or order[0]) for item in shown]
    blocks: list[list[int]] = [[] for _ in order]
    if strata is None:
        for b, chunk in enumerate(np.array_split(np.asarray(shown, dtype=int), len(order))):
            blocks[b] = [int(i) for i in chunk]
    else:
        # Deal items of each stratum round-robin, continuing where the last stratum stopped,
        # so every block gets within one of its share of every stratum.
        by_stratum = sorted(range(len(shown)), key=lambda k: (repr(strata[shown[k]]), k))
        for dealt, k in enumerate(by_stratum):
            blocks[dealt % len(order)].append(shown[k])
        if phase.shuffle:
            blocks = [[block[k] for k in rng.permutation(len(block))] for block in blocks]
    return [
        (item, condition) for block, condition in zip(blocks, order, strict=True) for item in block
    ]


def plan_balanced_trials(
    ai_correct: ArrayLike,
    predicted_class: ArrayLike,
    *,
    n_trials: int,
    seed: int,
    conditions: Sequence[str] = ("",),
    participant_number: int = 0,
    attention_checks: int = 0,
    exclude: Collection[int] = (),
) -> TrialPlan:
    """One-phase plan: ``n_trials`` items balanced on AI correct x predicted class, plus checks.

    The items are drawn with the participant's own seed, so different participants see
    different (equally balanced) items; the plan is rebuilt exactly from the same seed.
    """
    chosen = balanced_items(
        ai_correct,
        predicted_class,
        n_trials,
        rng=participant_rng(seed, ITEM_STREAM),
        exclude=exclude,
    )
    correct = np.asarray(ai_correct, dtype=bool)
    predicted = np.asarray(predicted_class).astype(int)
    strata = {i: (bool(correct[i]), int(predicted[i])) for i in chosen}
    return make_trial_plan(
        items=chosen,
        seed=seed,
        conditions=conditions,
        participant_number=participant_number,
        attention_checks=attention_checks,
        strata=strata,
    )


__all__ = [  # item sampling is re-exported so that one import serves a study's whole plan
    "Phase",
    "PlannedTrial",
    "TrialPlan",
    "balanced_items",
    "condition_order",
    "disjoint_sets",
    "forward_simulation_phases",
    "insert_attention_checks",
    "latin_square",
    "make_trial_plan",
    "participant_rng",
    "plan_balanced_trials",
    "unusual_items",
]
