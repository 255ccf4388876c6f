"""Standard questionnaires: item texts (shown to participants by the platform) and scoring.

Answers arrive in ``participants.csv`` as ``q_<questionnaire>_<item>`` integer columns. A scale
score is the mean of the items after reverse-scoring (``min + max - x``), and is reported with
its reliability (:mod:`analysis.reliability`).

Item texts hold a ``{system}`` placeholder where the original says "the system" / "[software,
algorithm, tool]"; :meth:`Item.render` fills it in (e.g. "the AI").
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

import numpy as np
import pandas as pd


@dataclass(frozen=True)
class Item:
    """One questionnaire item: its key (column suffix), wording and direction."""

    key: str
    text: str
    reverse: bool = False

    def render(self, system: str = "the system") -> str:
        """The wording with ``{system}`` filled in; capitalised at the start of a sentence."""
        text = self.text.replace("{system}", system)
        return text[0].upper() + text[1:]


@dataclass(frozen=True)
class Questionnaire:
    """A scale: its items, response range (``scale_min``..``scale_max``, integers) and the
    published verbal anchors as ``(point, wording)`` pairs: the only place that says which
    label stands at which point (the participant pages ask :meth:`label_at`)."""

    name: str
    title: str
    source: str
    items: tuple[Item, ...]
    scale_min: int
    scale_max: int
    anchors: tuple[tuple[int, str], ...] = ()
    # What the items rate: "ai" (asked of those who saw the AI) or "explanation" (asked only
    # of those who saw an explanation; a control group is never asked about one).
    about: Literal["ai", "explanation"] = "ai"

    def __post_init__(self) -> None:
        points = [point for point, _ in self.anchors]
        if any(not self.scale_min <= p <= self.scale_max for p in points):
            raise ValueError(f"{self.name}: an anchor lies outside "
                             f"{self.scale_min}..{self.scale_max}: {points}")
        if points != sorted(set(points)):
            raise ValueError(f"{self.name}: anchor points must rise without repeats: {points}")

    @property
    def points(self) -> tuple[int, ...]:
        return tuple(range(self.scale_min, self.scale_max + 1))

    def label_at(self, point: int) -> str:
        """The published wording at ``point`` ("" where the original shows only the number)."""
        return dict(self.anchors).get(point, "")

    def column(self, item: Item) -> str:
        """The ``participants.csv`` column of ``item``."""
        return f"q_{self.name}_{item.key}"

    @property
    def columns(self) -> list[str]:
        return [self.column(item) for item in self.items]


# Jian, J.-Y., Bisantz, A. M., & Drury, C. G. (2000). Foundations for an empirically determined
# scale of trust in automated systems. International Journal of Cognitive Ergonomics, 4(1),
# 53-71. The 12-item "checklist for trust between people and automation" (the paper's final
# checklist figure, section "Results of Experiment 3"): each statement is rated on a 7-point
# line whose instruction reads "not at all = 1; extremely = 7" -- only the two ends carry words.
# Items 1-5 measure distrust and are reverse-scored. (Page of the figure not re-checked here:
# no copy of the journal article is available offline; the wording is the one quoted in its
# many reuses, e.g. Scharowski et al. 2024, arXiv:2403.00582.)
JIAN_TRUST = Questionnaire(
    name="jian",
    title="Trust between people and automation",
    source="Jian, Bisantz & Drury (2000), Int. J. Cognitive Ergonomics 4(1):53-71",
    scale_min=1,
    scale_max=7,
    anchors=((1, "Not at all"), (7, "Extremely")),
    items=(
        Item("1", "{system} is deceptive.", reverse=True),
        Item("2", "{system} behaves in an underhanded manner.", reverse=True),
        Item("3", "I am suspicious of {system}'s intent, action, or outputs.", reverse=True),
        Item("4", "I am wary of {system}.", reverse=True),
        Item("5", "{system}'s actions will have a harmful or injurious outcome.", reverse=True),
        Item("6", "I am confident in {system}."),
        Item("7", "{system} provides security."),
        Item("8", "{system} has integrity."),
        Item("9", "{system} is dependable."),
        Item("10", "{system} is reliable."),
        Item("11", "I can trust {system}."),
        Item("12", "I am familiar with {system}."),
    ),
)

_HOFFMAN_SOURCE = (
    "Hoffman, Mueller, Klein & Litman (2018), Metrics for Explainable AI: Challenges and "
    "Prospects, arXiv:1812.04608"
)
# Hoffman et al. (2018), arXiv:1812.04608: the report's "Explanation Satisfaction Scale" and
# "Trust Scale Recommended for XAI" forms give each of the five response columns its own
# words: "I agree strongly", "I agree somewhat", "I'm neutral about it", "I disagree
# somewhat", "I disagree strongly". (Page numbers not re-checked: no copy of the report is
# available offline; the wording agrees with its published reuses.) The form lists them
# agree-first; we code them 1 (disagree strongly) .. 5 (agree strongly) and show them low to
# high like every other scale here, so each point keeps the original's words and a higher
# number means more agreement.
_HOFFMAN_ANCHORS = (
    (1, "I disagree strongly"), (2, "I disagree somewhat"), (3, "I'm neutral about it"),
    (4, "I agree somewhat"), (5, "I agree strongly"),
)

# Hoffman et al. (2018), "Explanation Satisfaction Scale" (8 items). The original reads
# "[software, algorithm, tool]" where we write {system}.
HOFFMAN_SATISFACTION = Questionnaire(
    name="hoffman_satisfaction",
    title="Explanation satisfaction",
    source=_HOFFMAN_SOURCE,
    about="explanation",
    scale_min=1,
    scale_max=5,
    anchors=_HOFFMAN_ANCHORS,
    items=(
        Item("1", "From the explanation, I understand how {system} works."),
        Item("2", "This explanation of how {system} works is satisfying."),
        Item("3", "This explanation of how {system} works has sufficient detail."),
        Item("4", "This explanation of how {system} works seems complete."),
        Item("5", "This explanation of how {system} works tells me how to use it."),
        Item("6", "This explanation of how {system} works is useful to my goals."),
        Item("7", "This explanation of {system} shows me how accurate {system} is."),
        Item("8", "This explanation lets me judge when I should trust and not trust {system}."),
    ),
)

# Hoffman et al. (2018), "Trust Scale Recommended for XAI" (8 items), adapted there from
# Cahour & Forzy (2009), Jian et al. (2000) and others. Item 6 ("wary") is the one
# negatively worded item and is reverse-scored.
HOFFMAN_TRUST = Questionnaire(
    name="hoffman_trust",
    title="Trust in the XAI system",
    source=_HOFFMAN_SOURCE,
    scale_min=1,
    scale_max=5,
    anchors=_HOFFMAN_ANCHORS,
    items=(
        Item("1", "I am confident in {system}. I feel that it works well."),
        Item("2", "The outputs of {system} are very predictable."),
        Item("3", "{system} is very reliable. I can count on it to be correct all the time."),
        Item("4", "I feel safe that when I rely on {system} I will get the right answers."),
        Item("5", "{system} is efficient in that it works very quickly."),
        Item("6", "I am wary of {system}.", reverse=True),
        Item("7", "{system} can perform the task better than a novice human user."),
        Item("8", "I like using {system} for decision making."),
    ),
)

QUESTIONNAIRES: dict[str, Questionnaire] = {
    q.name: q for q in (JIAN_TRUST, HOFFMAN_SATISFACTION, HOFFMAN_TRUST)
}
# The names a study spec asks the scales by (its ``questionnaires:`` entries).
SCALES: dict[str, Questionnaire] = {
    "jian_trust": JIAN_TRUST,
    "hoffman_satisfaction": HOFFMAN_SATISFACTION,
    "hoffman_trust": HOFFMAN_TRUST,
}


def item_responses(
    participants: pd.DataFrame, questionnaire: Questionnaire, *, reverse: bool = True
) -> pd.DataFrame:
    """The item answers as a float matrix (rows as ``participants``), validated and, with
    ``reverse=True``, reverse-scored items already flipped (``min + max - x``).

    Raises ``ValueError`` naming the column when an item is missing from the table, or holds
    a value that is not an integer within the scale.
    """
    missing = [c for c in questionnaire.columns if c not in participants.columns]
    if missing:
        raise ValueError(f"{questionnaire.name}: participants lack item column(s) {missing}")
    matrix = pd.DataFrame(index=participants.index)
    for item in questionnaire.items:
        column = questionnaire.column(item)
        values = pd.to_numeric(participants[column], errors="coerce").astype(float)
        _check_item(participants, values, column, questionnaire)
        if reverse and item.reverse:
            values = questionnaire.scale_min + questionnaire.scale_max - values
        matrix[column] = values
    return matrix


def score(
    participants: pd.DataFrame, questionnaire: Questionnaire, *, min_answered: int | None = None
) -> pd.Series:
    """Scale score per participant: the mean of the items after reverse-scoring.

    By default every item must be answered (else NaN); ``min_answered`` allows prorating
    over the answered items when at least that many are present.
    """
    matrix = item_responses(participants, questionnaire)
    needed = len(questionnaire.items) if min_answered is None else min_answered
    answered = matrix.notna().sum(axis=1)
    scores = matrix.mean(axis=1).where(answered >= needed)
    return scores.rename(f"score_{questionnaire.name}")


def score_all(
    participants: pd.DataFrame, questionnaires: Iterable[Questionnaire] | None = None
) -> pd.DataFrame:
    """``participants`` with a ``score_<name>`` column for each questionnaire present.

    With ``questionnaires=None``, every known questionnaire whose item columns are all present.
    Existing score columns are recomputed from the items.
    """
    chosen = list(questionnaires) if questionnaires is not None else present(participants)
    scored = participants.copy()
    for questionnaire in chosen:
        scored[f"score_{questionnaire.name}"] = score(participants, questionnaire)
    return scored


def present(participants: pd.DataFrame) -> list[Questionnaire]:
    """The known questionnaires whose item columns all appear in ``participants``."""
    return [
        q for q in QUESTIONNAIRES.values() if all(c in participants.columns for c in q.columns)
    ]


def _check_item(
    participants: pd.DataFrame, values: pd.Series, column: str, questionnaire: Questionnaire
) -> None:
    """Refuse answers that are not integers on the questionnaire's scale, naming the item
    and the participant (or the row when there is no participant column)."""
    raw = participants[column]
    not_number = raw.notna() & values.isna()
    low, high = questionnaire.scale_min, questionnaire.scale_max
    bad = not_number | (values.notna() & ((values < low) | (values > high) | (values % 1 != 0)))
    if bool(np.asarray(bad).any()):
        first = bad[bad].index[0]
        who = (
            f"participant {participants.loc[first, 'participant']}"
            if "participant" in participants.columns
            else f"row {first}"
        )
        raise ValueError(
            f"{column} ({who}): {raw.loc[first]} is not an integer from {low} to {high}"
        )
