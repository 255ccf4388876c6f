"""What the report needs to know about the study's design: its conditions (label, whether the
AI's advice was shown, whether an explanation was), the control condition and the comparisons.

The export's ``study.yaml`` is the study's own specification; when it is absent (an export
written by hand, or an older one) the conditions come from the data and the ``human_alone``
option names the condition without the AI.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pandas as pd
import yaml

from analysis.io import StudyExport


@dataclass(frozen=True)
class ConditionInfo:
    """One condition as the participants saw it."""

    name: str
    label: str
    show_ai: bool
    explained: bool


@dataclass(frozen=True)
class Comparison:
    """A condition compared with a reference condition."""

    condition: str
    reference: str


@dataclass(frozen=True)
class StudyDesign:
    """Conditions in the order the study declares them, the control and the comparisons.

    ``comparisons_preregistered`` is False when the comparisons were derived from the design
    (each condition against the control) because the specification declares none.
    """

    title: str
    task: str | None
    conditions: dict[str, ConditionInfo]
    control: str | None
    comparisons: tuple[Comparison, ...]
    comparisons_preregistered: bool
    from_specification: bool

    def label(self, condition: str) -> str:
        info = self.conditions.get(condition)
        return info.label if info else condition

    def saw_ai(self, condition: str) -> bool:
        info = self.conditions.get(condition)
        return info.show_ai if info else True

    def saw_explanation(self, condition: str) -> bool:
        info = self.conditions.get(condition)
        return info.explained if info else False


def read_specification(export: StudyExport) -> dict[str, Any] | None:
    """The export's ``study.yaml`` as a mapping, or None when the export has none."""
    if export.path is None or not (export.path / "study.yaml").exists():
        return None
    spec = yaml.safe_load((export.path / "study.yaml").read_text("utf-8"))
    if not isinstance(spec, dict):
        raise ValueError(f"{export.path / 'study.yaml'} is not a study specification")
    return spec


def study_design(export: StudyExport, *, human_alone: str | None = None,
                 reference: str | None = None) -> StudyDesign:
    """The design of the exported study (module docstring); ``human_alone`` and ``reference``
    are the report options of the same names and win over what the data suggest."""
    # The export's study.yaml is read as a plain mapping, not experiments.study_spec's typed
    # view: it may be hand-written or from an older version, so any section may be missing.
    spec = read_specification(export)
    in_data = _conditions_in_data(export)
    if spec is not None and spec.get("conditions"):
        conditions = {
            str(c["name"]): ConditionInfo(
                name=str(c["name"]), label=str(c.get("label") or c["name"]),
                show_ai=bool(c.get("show_ai", True)) and str(c["name"]) != human_alone,
                explained=bool(c.get("explanation")))
            for c in spec["conditions"]}
    else:
        explained = _explained_conditions(export.trials)
        conditions = {name: ConditionInfo(name=name, label=name, show_ai=name != human_alone,
                                          explained=name in explained) for name in in_data}
    for name in in_data:  # a condition renamed since the export: still reported
        conditions.setdefault(name, ConditionInfo(name, name, name != human_alone, False))
    control = _control(conditions, human_alone, reference)
    comparisons = tuple(Comparison(name, control) for name in conditions
                        if control is not None and name != control and name in in_data)
    title = str((spec or {}).get("title") or export.datapackage.get("title")
                or export.datapackage.get("name")
                or (export.path.name if export.path else "study"))
    task = (spec or {}).get("task", {}).get("design") if spec else None
    return StudyDesign(title=title, task=task, conditions=conditions, control=control,
                       comparisons=comparisons, comparisons_preregistered=False,
                       from_specification=spec is not None)


def _conditions_in_data(export: StudyExport) -> list[str]:
    names = pd.concat([export.participants["condition"], export.trials["condition"]])
    return sorted(names.dropna().astype(str).unique())


def _explained_conditions(trials: pd.DataFrame) -> set[str]:
    if "explanation_method" not in trials.columns:
        return set()
    shown = trials["explanation_method"].astype("string").fillna("").str.len() > 0
    return set(trials.loc[shown, "condition"].astype(str))


def _control(conditions: dict[str, ConditionInfo], human_alone: str | None,
             reference: str | None) -> str | None:
    """The reference option, else the no-AI condition, else the first declared condition."""
    if reference is not None:
        return reference
    if human_alone is not None:
        return human_alone
    without_ai = [name for name, info in conditions.items() if not info.show_ai]
    if without_ai:
        return without_ai[0]
    return next(iter(conditions), None)
