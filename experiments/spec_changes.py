"""Which changes a study with participants may take: the one rule, in one place.

Every saved change to a spec makes a new version (``spec_hash`` of the normalised spec), and a
participant keeps the version they enrolled under. That is enough for *wording*: a participant
reads their own version's texts, so rewording never changes a page under someone's feet and
the export says which wording each one read. It is not enough for what fixes a participant's
path through the study when they enrol or later: the item pool, their trial plan, their
condition and its explanations, the scoring and the bonus they were promised are built from the
study as it is *now*, so changing them would change what enrolled participants get and mix two
studies in one data set. Such changes are refused once a study has participants; the
researcher copies the study (a new slug) instead.

May change while participants exist (each change is a new version):

* wording participants read: ``title``, ``description``, ``task.question``, ``task.prompt``,
  ``consent.text``, ``instructions``, a comprehension question's ``text`` and the wording of
  its ``options`` (not their number, nor which one is the answer), a condition's ``label`` and
  its ``tutorial.text`` (not its ``practice`` count), a free-text question's ``prompt``;
* recruitment, which applies at once to everyone (the platforms' codes and return addresses,
  who may enter, time limit and activity window) and a condition's ``cap`` (like closing it);
* ``exclusions``: the analysis's rules, which change nothing participants get (the versions
  keep a record of every change to them).

Everything else is fixed: ``scenario``, ``task`` (design, confidence scale, candidates,
fairness), ``design``, ``trials``, the conditions (their names and order, AI, explanation,
model variant, features, feedback, tutorial practice), ``consent.screen_out_on_decline``,
comprehension ids, answers and attempts, the questionnaire list, ``incentives`` and
``assignment_seed``.
"""

from __future__ import annotations

import copy
from collections.abc import Iterator
from typing import Any

from experiments.spec_yaml import field_path

__all__ = ["fixed_changes"]

# Whole sections that may change while participants exist (module docstring).
_FREE_SECTIONS = ("title", "description", "instructions", "recruitment", "exclusions")


def fixed_changes(old: dict[str, Any], new: dict[str, Any]) -> list[str]:
    """The fields (``trials.pool_size``, ``conditions[1].explanation``) whose change from the
    normalised spec ``old`` to ``new`` would alter what enrolled participants get; empty when
    every change is one a running study may take."""
    before, after = _fixed_part(old), _fixed_part(new)
    return [field_path(path) for path in _differences(before, after, ())]


def _fixed_part(spec: dict[str, Any]) -> dict[str, Any]:
    """``spec`` without what may change while participants exist."""
    fixed = copy.deepcopy(spec)
    for section in _FREE_SECTIONS:
        fixed.pop(section, None)
    for key in ("question", "prompt"):
        fixed.get("task", {}).pop(key, None)
    fixed.get("consent", {}).pop("text", None)
    for condition in fixed.get("conditions", []):
        condition.pop("label", None)
        condition.pop("cap", None)
        condition.get("tutorial", {}).pop("text", None)
    for question in fixed.get("comprehension", {}).get("questions", []):
        _keep_only_the_answer_position(question)
    for entry in fixed.get("questionnaires", []):
        if isinstance(entry, dict):
            entry.get("free_text", {}).pop("prompt", None)
    # Older stored specs lack some sections a newer normalisation fills in as empty.
    return {key: value for key, value in fixed.items() if value not in (None, [], {})}


def _keep_only_the_answer_position(question: dict[str, Any]) -> None:
    """Options may be reworded; how many there are and which one is right may not."""
    options = question.pop("options", [])
    answer = question.pop("answer", None)
    question.pop("text", None)
    question["options"] = len(options)
    question["answer"] = options.index(answer) if answer in options else answer


def _differences(a: Any, b: Any, path: tuple[Any, ...]) -> Iterator[tuple[Any, ...]]:
    """The paths where ``a`` and ``b`` differ, as deep as both sides have the same shape."""
    if isinstance(a, dict) and isinstance(b, dict):
        for key in [*a, *(k for k in b if k not in a)]:
            if a.get(key) != b.get(key):
                yield from _differences(a.get(key), b.get(key), (*path, key))
    elif isinstance(a, list) and isinstance(b, list) and len(a) == len(b):
        for index, (x, y) in enumerate(zip(a, b, strict=True)):
            yield from _differences(x, y, (*path, index))
    elif a != b:
        yield path
