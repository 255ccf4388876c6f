"""A short plain-language paragraph per comparison, generated from the same numbers the tables
show, saying plainly when there are too few participants to say anything."""

from __future__ import annotations

import math
from typing import Any

import pandas as pd

from analysis.report.design import Comparison, StudyDesign
from analysis.report.tables import MIN_PARTICIPANTS, fit_problems, fixed_effects_table, p_text
from analysis.summary import task_metrics

PERCENT_METRICS = frozenset({"accuracy", "simulation_accuracy", "scored_accuracy",
                             "simulation_accuracy_post", "debugging_detection"})


def primary_metric(task: str) -> str:
    """The outcome a comparison is about: accuracy where the design has it, else the design's
    first metric."""
    metrics = task_metrics(task)
    return "accuracy" if "accuracy" in metrics else metrics[0]


def comparison_paragraph(comparison: Comparison, task: str, summary: pd.DataFrame,
                         contrasts: pd.DataFrame, design: StudyDesign,
                         models: dict[str, Any], *,
                         min_participants: int = MIN_PARTICIPANTS) -> str:
    """One paragraph: both conditions' means, the difference with its interval and test,
    and the mixed model's odds ratio when one was fitted and can be trusted."""
    metric = primary_metric(task)
    words = metric.replace("_", " ")
    name, reference = design.label(comparison.condition), design.label(comparison.reference)
    rows = summary[(summary["task"] == task) & (summary["metric"] == metric)].set_index(
        "condition")
    if comparison.condition not in rows.index or comparison.reference not in rows.index:
        return f"{name} vs {reference}: no {words} data in both conditions yet."
    mine, theirs = rows.loc[comparison.condition], rows.loc[comparison.reference]
    percent = metric in PERCENT_METRICS
    n, n_ref = int(mine["n"]), int(theirs["n"])
    opening = (f"{words.capitalize()} was {_value(mine['estimate'], percent)} in {name} "
               f"(n = {n}) and {_value(theirs['estimate'], percent)} in {reference} "
               f"(n = {n_ref}).")
    if min(n, n_ref) < min_participants:
        return (f"{opening} With fewer than {min_participants} participants in a condition "
                "no interval or test is reported: the difference cannot be told from chance.")
    match = contrasts[(contrasts.get("task") == task) & (contrasts["metric"] == metric)
                      & (contrasts["condition"] == comparison.condition)]
    if match.empty:
        return opening
    row = match.iloc[0]
    unit = " percentage points" if percent else ""
    scale = 100 if percent else 1
    difference = float(row["difference"]) * scale
    if math.isnan(float(row["ci_low"])):
        return f"{opening} The difference has no interval (no variation within conditions)."
    direction = "higher" if difference > 0 else "lower"
    sentence = (f"{opening} {words.capitalize()} was {abs(difference):.1f}{unit} {direction} "
                f"in {name} (95% CI {float(row['ci_low']) * scale:.1f} to "
                f"{float(row['ci_high']) * scale:.1f}; {_test_name(row['test'])}, "
                f"{_p(float(row['p_value']))}).")
    verdict = (" The interval excludes zero." if float(row["ci_low"]) > 0
               or float(row["ci_high"]) < 0 else
               " The interval includes zero: these data do not show a difference.")
    return sentence + verdict + _model_sentence(comparison, task, models)


def _model_sentence(comparison: Comparison, task: str, models: dict[str, Any]) -> str:
    fit = models.get(f"{task}: condition")
    if fit is None:
        return ""
    if fit_problems(fit):
        return " The mixed model's estimate is not reported: the fit has problems (see Models)."
    table = fixed_effects_table(fit).set_index("term")
    term = f"condition[T.{comparison.condition}]"
    if term not in table.index or "odds_ratio" not in table.columns:
        return ""
    row = table.loc[term]
    return (f" In the logistic mixed model (participants and items as random effects) the "
            f"odds of a correct answer were {row['odds_ratio']:.2f} times those in the "
            f"reference condition (95% CI {row['or_low']:.2f} to {row['or_high']:.2f}; "
            f"{row['test']}, {_p(float(row['p_value']))}).")


def _value(value: float, percent: bool) -> str:
    return f"{100 * float(value):.1f}%" if percent else f"{float(value):.2f}"


def _test_name(test: str) -> str:
    return {"welch": "Welch t test", "paired": "paired t test"}.get(str(test), str(test))


def _p(p: float) -> str:
    text = p_text(p)
    return f"p {text}" if text.startswith("<") else f"p = {text}"
