"""The analysis every report runs: load, exclude, score, summarise, contrast, model.

The notebook spells these steps out cell by cell so a reader can follow and change them; the
HTML report calls :func:`analyse_export` to get the same numbers in one go.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd

from analysis.estimates import bootstrap_interval, condition_contrasts, t_interval
from analysis.exclusions import ExclusionResult, apply_exclusions
from analysis.io import StudyExport, load_export
from analysis.questionnaires import score_all
from analysis.reliability import reliability_table
from analysis.report.design import StudyDesign, study_design
from analysis.report.tables import MIN_PARTICIPANTS
from analysis.summary import AI_METRICS, EXPLANATION_METRICS, summarise_study, trial_outcomes


@dataclass(frozen=True)
class ReportOptions:
    """Choices a report makes; every one is printed in the report so it can be pre-registered.

    ``human_alone``: the no-AI condition, if any. ``reference_condition``: the baseline the
    other conditions are compared with (default: ``human_alone``, else the first condition in
    sorted order). ``confidence_scale``: (lowest, highest)
    rating of stated confidence, to add calibration. ``speeder_fraction``: see
    :mod:`analysis.exclusions`. ``seed`` feeds every bootstrap. ``random_slopes=False`` drops
    the by-participant slopes from the models (faster, but not "maximal": Barr et al. 2013).
    ``fairness_group``: a trials column naming each item's protected group (the platform writes
    ``group``), with ``positive_label`` the positive class, adds ΔTPR/ΔFPR of participants'
    decisions. ``include_bots=True`` analyses scripted participants too (a rehearsal run of a
    study by bots with a planted effect); real studies leave it off. ``interval``: ``"t"``
    intervals across participants' means, or ``"bootstrap"`` (percentile, participants
    resampled). ``min_participants``: below this many participants in a condition the report
    gives no interval, no test and no model, and says so.
    """

    speeder_fraction: float | None = 0.3
    human_alone: str | None = None
    reference_condition: str | None = None
    confidence_scale: tuple[int, int] | None = None
    ready_threshold: float | None = None
    n_boot: int = 2000
    seed: int = 2026
    fit_models: bool = True
    random_slopes: bool = True
    include_bots: bool = False
    fairness_group: str | None = None
    positive_label: str | None = None
    interval: Literal["t", "bootstrap"] = "t"
    min_participants: int = MIN_PARTICIPANTS

    def __post_init__(self) -> None:
        if self.interval not in ("t", "bootstrap"):
            raise ValueError(f"interval must be 't' or 'bootstrap', not {self.interval!r}")
        if self.min_participants < 2:
            raise ValueError("min_participants must be at least 2: one participant has no "
                             f"spread to put an interval on (got {self.min_participants})")

    def described(self) -> list[tuple[str, str, str]]:
        """Every option as ``(name, value, what it means)``, for a readable list."""
        return [(f.name, _option_value(getattr(self, f.name)), OPTION_MEANINGS[f.name])
                for f in fields(self)]


OPTION_MEANINGS = {
    "speeder_fraction": "participants faster than this fraction of the median duration are "
                        "excluded as speeders",
    "human_alone": "the condition without AI advice (human alone)",
    "reference_condition": "the condition every other condition is compared with",
    "confidence_scale": "lowest and highest rating of stated confidence (for calibration)",
    "ready_threshold": "lowest rating meaning 'ready to deploy' (debugging designs)",
    "n_boot": "bootstrap resamples per interval",
    "seed": "random seed of every bootstrap",
    "fit_models": "whether mixed-effects models are fitted",
    "random_slopes": "by-participant random slopes in the models (maximal structure)",
    "include_bots": "whether scripted bot participants are analysed (rehearsal runs only)",
    "fairness_group": "trials column naming each item's group, for fairness gaps",
    "positive_label": "the positive class, for fairness gaps",
    "interval": "how 95% intervals of condition means are computed",
    "min_participants": "fewest participants per condition for an interval, a test or a model",
}


def _option_value(value: object) -> str:
    if value is None:
        return "none"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, tuple):
        return " to ".join(str(v) for v in value)
    return str(value)


@dataclass
class StudyAnalysis:
    """Everything a report shows. ``summary`` and ``contrasts`` hold only the metrics that
    apply to each condition (no reliance where no AI was shown); ``by_ai_correctness`` is
    accuracy and reliance split by whether the AI was right."""

    export: StudyExport
    exclusions: ExclusionResult
    participants: pd.DataFrame
    reliability: pd.DataFrame
    summary: pd.DataFrame
    contrasts: pd.DataFrame
    design: StudyDesign
    by_ai_correctness: pd.DataFrame
    models: dict[str, Any] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)


def analyse_export(
    export_dir: str | Path, options: ReportOptions | None = None
) -> StudyAnalysis:
    """Run the whole analysis on an export directory."""
    options = options or ReportOptions()
    export = load_export(export_dir)
    kept = apply_exclusions(
        export.trials,
        export.participants,
        speeder_fraction=options.speeder_fraction,
        include_bots=options.include_bots,
    )
    participants = score_all(kept.participants)
    design = study_design(export, human_alone=options.human_alone,
                          reference=options.reference_condition)
    common: dict[str, Any] = {
        "human_alone": options.human_alone,
        "confidence_scale": options.confidence_scale,
        "ready_threshold": options.ready_threshold,
        "fairness_group": options.fairness_group,
        "positive_label": options.positive_label,
        "n_boot": options.n_boot,
        "seed": options.seed,
    }
    summary = summarise_study(kept.trials, participants, ci=options.interval, **common)
    per_participant = summarise_study(kept.trials, participants, by="participant", **common)
    per_participant = applicable_metrics(per_participant, design)
    contrasts = condition_contrasts(per_participant, reference=design.control)
    analysis = StudyAnalysis(
        export=export,
        exclusions=kept,
        participants=participants,
        reliability=reliability_table(participants),
        summary=applicable_metrics(summary, design),
        contrasts=contrasts,
        design=design,
        by_ai_correctness=by_ai_correctness(
            trial_outcomes(kept.trials), design, interval=options.interval,
            min_participants=options.min_participants, n_boot=options.n_boot,
            seed=options.seed),
    )
    if options.fit_models:
        analysis.models, analysis.notes = fit_accuracy_models(
            trial_outcomes(kept.trials), random_slopes=options.random_slopes,
            min_participants=options.min_participants, reference=design.control,
        )
        errors, error_notes = fit_error_models(error_outcomes(kept.trials),
                                               min_participants=options.min_participants,
                                               reference=design.control)
        analysis.models.update(errors)
        analysis.notes.extend(error_notes)
    return analysis


def applicable_metrics(table: pd.DataFrame, design: StudyDesign) -> pd.DataFrame:
    """``table`` without the rows of metrics that do not exist in their condition: reliance
    on the AI where no AI was shown, time on the explanation where none was shown."""
    condition = table["condition"].astype(str)
    metric = table["metric"].astype(str)
    no_ai = ~condition.map(design.saw_ai).astype(bool)
    unexplained = ~condition.map(design.saw_explanation).astype(bool)
    drop = (metric.isin(AI_METRICS) & no_ai) | (metric.isin(EXPLANATION_METRICS) & unexplained)
    return table[~drop.to_numpy()].reset_index(drop=True)


BY_AI_COLUMNS = ["task", "measure", "condition", "ai_correct", "n", "estimate", "ci_low",
                 "ci_high"]


def by_ai_correctness(outcomes: pd.DataFrame, design: StudyDesign, *,
                      interval: Literal["t", "bootstrap"] = "t",
                      min_participants: int = MIN_PARTICIPANTS, n_boot: int = 2000,
                      seed: int | None = None) -> pd.DataFrame:
    """Accuracy and reliance (agreeing with the AI) per task, condition and AI correctness:
    each participant's proportion, then the mean over participants with a 95% interval
    (none below ``min_participants``). Reliance only for conditions that saw the AI.

    Followed when right is appropriate reliance; followed when wrong is over-reliance.
    """
    rows: list[tuple[object, ...]] = []
    rng = np.random.default_rng(seed)
    known = outcomes.dropna(subset=["ai_correct"])
    for measure, column in (("accuracy", "correct"), ("reliance", "agreed")):
        data = known.dropna(subset=[column])
        if measure == "reliance":
            data = data[data["condition"].map(design.saw_ai).astype(bool)]
        means = data.groupby(["task", "condition", "ai_correct", "participant"])[column].mean()
        for (task, condition, ai_correct), values in means.groupby(level=[0, 1, 2]):
            x = values.to_numpy(float)
            low, high = float("nan"), float("nan")
            if len(x) >= min_participants:
                low, high = (t_interval(x) if interval == "t" else
                             bootstrap_interval(x, np.mean, rng=rng, n_boot=n_boot))
            rows.append((task, measure, condition, bool(ai_correct), len(x), float(x.mean()),
                         low, high))
    return pd.DataFrame(rows, columns=BY_AI_COLUMNS)


def too_few_participants(data: pd.DataFrame, min_participants: int) -> str | None:
    """Why a model is not fitted to ``data``: a condition with too few participants."""
    counts = data.groupby("condition")["participant"].nunique()
    small = counts[counts < min_participants]
    if small.empty:
        return None
    listed = ", ".join(f"{name} n = {n}" for name, n in small.items())
    return (f"not fitted: too few participants ({listed}; at least {min_participants} per "
            "condition are needed to separate participants' variance from the condition effect)")


# Numeric answers (simulate then decide): Poursabzi-Sangdeh et al.'s three distances.
ERROR_MEASURES = ("simulation_error", "deviation_from_ai", "absolute_error")


def error_outcomes(trials: pd.DataFrame) -> pd.DataFrame:
    """One row per scored trial with a numeric answer: ``participant, item, condition, task,
    unusual`` (0/1) and the three distances; empty when the study asks no numbers."""
    from analysis.estimates import scored_trials

    if "absolute_error" not in trials.columns:
        return pd.DataFrame(columns=["participant", "item", "condition", "task", "unusual",
                                     *ERROR_MEASURES])
    kept = scored_trials(trials)
    kept = kept[pd.to_numeric(kept["absolute_error"], errors="coerce").notna()]
    unusual = kept["unusual"].astype("string").str.lower().map({"true": 1.0, "false": 0.0})
    frame = pd.DataFrame({
        "participant": kept["participant"].astype(str), "item": kept["item_id"].astype(str),
        "condition": kept["condition"].astype(str), "task": kept["task"].astype(str),
        "unusual": unusual.astype(float)})
    for measure in ERROR_MEASURES:
        frame[measure] = pd.to_numeric(kept[measure], errors="coerce").astype(float)
    return frame.reset_index(drop=True)


def error_formulas(outcomes: pd.DataFrame) -> dict[str, str]:
    """Linear mixed models of each distance on condition (two or more conditions), and of
    the deviation from the model on condition x unusual item: do people correct the model
    where it errs badly, and does the explanation help them do it?"""
    formulas: dict[str, str] = {}
    for task, part in outcomes.groupby("task", sort=True):
        if part["condition"].nunique() < 2:
            continue
        for measure in ERROR_MEASURES:
            if part[measure].notna().sum() > 2:
                formulas[f"{task}: {measure}"] = (
                    f"{measure} ~ condition + (1 | participant) + (1 | item)")
        if part["unusual"].nunique() == 2:
            formulas[f"{task}: deviation_from_ai x unusual"] = (
                "deviation_from_ai ~ condition * unusual + (1 | participant) + (1 | item)")
    return formulas


def fit_error_models(outcomes: pd.DataFrame, *, min_participants: int = MIN_PARTICIPANTS,
                     reference: str | None = None) -> tuple[dict[str, Any], list[str]]:
    """Fit :func:`error_formulas` with ``analysis.mixed.lmer`` (REML), notes for failures and
    for models not fitted (:func:`too_few_participants`)."""
    from analysis.mixed import lmer

    results: dict[str, Any] = {}
    notes = []
    for name, formula in error_formulas(outcomes).items():
        measure = formula.split(" ~ ")[0]
        data = outcomes[outcomes["task"] == name.split(":")[0]].dropna(subset=[measure])
        data = with_reference(data, reference)
        reason = too_few_participants(data, min_participants)
        if reason is not None:
            notes.append(f"{name}: {reason}.")
            continue
        try:
            results[name] = lmer(formula, data)
        except Exception as error:  # a failed fit must not sink the whole report
            notes.append(f"{name}: {formula} did not fit ({type(error).__name__}: {error}).")
    return results, notes


def model_formulas(outcomes: pd.DataFrame, *, random_slopes: bool = True) -> dict[str, str]:
    """The logistic GLMMs to fit per task design, keyed ``"<task>: <what>"``.

    ``correct ~ condition + (1 | participant) + (1 | item)`` whenever there are two or more
    conditions; with AI advice that is sometimes right and sometimes wrong, the
    ``condition * ai_correct`` model of LITERATURE.md ("Analysis"); for pre/post designs,
    ``phase * condition``; the by-participant slopes go when ``random_slopes=False``.
    """
    formulas = {}
    for task, part in outcomes.groupby("task", sort=True):
        part = part.dropna(subset=["correct"])
        if part["condition"].nunique() < 2:
            continue
        formulas[f"{task}: condition"] = "correct ~ condition + (1 | participant) + (1 | item)"
        if part["ai_correct"].dropna().nunique() == 2:
            slope = "1 + ai_correct" if random_slopes else "1"
            formulas[f"{task}: condition x AI correctness"] = (
                f"correct ~ condition * ai_correct + ({slope} | participant) + (1 | item)"
            )
        if {"pre", "post"} <= set(part["phase"]):
            slope = "1 + phase" if random_slopes else "1"
            formulas[f"{task}: phase x condition"] = (
                f"correct ~ phase * condition + ({slope} | participant) + (1 | item)"
            )
    return formulas


def model_data(outcomes: pd.DataFrame, name: str, *, reference: str | None = None
               ) -> pd.DataFrame:
    """The trials a model of :func:`model_formulas` is fitted to: its task's scored trials,
    without the pre-test phase unless the model compares phases; with ``reference`` the
    condition effects are contrasts with that condition (else the first in sorted order)."""
    task = name.split(":")[0]
    data = outcomes[outcomes["task"] == task].dropna(subset=["correct"])
    if "phase x condition" not in name:
        data = data[data["phase"] != "pre"]
    return with_reference(data, reference)


def with_reference(data: pd.DataFrame, reference: str | None) -> pd.DataFrame:
    """``data`` with ``condition`` categorical, ``reference`` its first level (the level the
    treatment contrasts of a model are taken against)."""
    present = sorted(data["condition"].astype(str).unique())
    if reference is None or reference not in present:
        return data
    levels = [reference, *(c for c in present if c != reference)]
    return data.assign(condition=pd.Categorical(data["condition"].astype(str), categories=levels))


def fit_accuracy_models(
    outcomes: pd.DataFrame, *, random_slopes: bool = True,
    min_participants: int = MIN_PARTICIPANTS, reference: str | None = None,
) -> tuple[dict[str, Any], list[str]]:
    """Fit :func:`model_formulas` with ``analysis.mixed.glmer``; returns results and notes.

    A model that fails to fit, or is not fitted because a condition has too few participants
    (:func:`too_few_participants`), is reported in the notes rather than stopping the report.
    """
    try:
        from analysis.mixed import glmer  # lazily: the mixed-model package is optional here
    except ImportError as error:
        return {}, [f"Mixed models skipped: analysis.mixed.glmer is not available ({error})."]
    results: dict[str, Any] = {}
    notes = []
    for name, formula in model_formulas(outcomes, random_slopes=random_slopes).items():
        data = model_data(outcomes, name, reference=reference)
        reason = too_few_participants(data, min_participants)
        if reason is not None:
            notes.append(f"{name}: {reason}.")
            continue
        try:
            results[name] = glmer(formula, data, family="binomial")
        except Exception as error:  # a failed fit must not sink the whole report
            notes.append(f"{name}: {formula} did not fit ({type(error).__name__}: {error}).")
    return results, notes


def describe_model(result: Any) -> str:
    """The fitted model's ``summary()`` text, or its estimates when that is unavailable.

    A report must not fail over the printing of one model.
    """
    try:
        return str(result.summary())
    except Exception as error:  # fall back to the fields every results object has
        params = pd.DataFrame({"estimate": result.params, "std_error": result.bse})
        return f"(summary() unavailable: {error})\n{params.to_string()}"
