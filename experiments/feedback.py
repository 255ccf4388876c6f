"""Outcome feedback: which trials of a participant's plan show, after the answer is stored,
whether it was right and what the right answer was.

A condition's ``feedback`` in the spec is ``true`` (after every scored trial), or a training
stretch: ``{first: N}`` (the first N scored trials of the condition's block) and/or
``{phases: [...]}`` (only in these phases of the task design). Attention checks and unscored
phases (learning pages) never show an outcome: there is none to show.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

__all__ = ["FeedbackRule", "feedback_flags"]


@dataclass(frozen=True)
class FeedbackRule:
    """One condition's feedback rule; ``None`` fields do not restrict."""

    first: int | None = None
    phases: frozenset[str] | None = None

    @classmethod
    def from_condition(cls, condition: Mapping[str, Any]) -> FeedbackRule | None:
        """The rule of a spec condition, or None when it gives no feedback."""
        given = condition.get("feedback", False)
        if given is True:
            return cls()
        if not given:
            return None
        phases = given.get("phases")
        return cls(first=given.get("first"),
                   phases=None if phases is None else frozenset(phases))

    def applies(self, phase: str, scored_so_far: int) -> bool:
        """Whether a scored trial of ``phase`` shows feedback, ``scored_so_far`` scored
        trials into its block."""
        if self.phases is not None and phase not in self.phases:
            return False
        return self.first is None or scored_so_far < self.first


def feedback_flags(trials: Iterable[tuple[int, str, bool]],
                   rules: Mapping[int, FeedbackRule | None]) -> list[bool]:
    """Per planned trial ``(block, phase, scored)``: does it show its outcome? ``rules``
    gives each block's condition rule (None: no feedback)."""
    flags = []
    scored_in_block: dict[int, int] = {}
    for block, phase, scored in trials:
        rule = rules.get(block)
        if not scored or rule is None:
            flags.append(False)
            continue
        done = scored_in_block.get(block, 0)
        flags.append(rule.applies(phase, done))
        scored_in_block[block] = done + 1
    return flags
