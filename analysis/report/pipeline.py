"""The analysis every report runs: load, exclude, score, summarise, contrast, model.

The notebook spells these steps out cell by cell so a reader can follow and change them; the
HTML report calls :func:`analyse_export` to get the same numbers in one go.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from analysis.estimates import condition_contrasts
from analysis.exclusions import ExclusionResult, apply_exclusions
from analysis.io import StudyExport, load_export
from analysis.questionnaires import score_all
from analysis.reliability import reliability_table
from analysis.summary import summarise_study, trial_outcomes


@dataclass(frozen=True)
class ReportOptions:
    """Choices a report makes; every one is printed in the report so it can be pre-registered.

    ``human_alone``: the no-AI condition, if any. ``reference_condition``: the baseline the
    other conditions are compared with (default: ``human_alone``, else the first condition in
    sorted order). ``confidence_scale``: (lowest, highest)
    rating of stated confidence, to add calibration. ``speeder_fraction`` and
    ``min_seconds_per_trial`` (the spec's absolute floor): see :mod:`analysis.exclusions`.
    ``seed`` feeds every bootstrap. ``random_slopes=False`` drops
    the by-participant slopes from the models (faster, but not "maximal": Barr et al. 2013).
    ``fairness_group``: a trials column naming each item's protected group (the platform writes
    ``group``), with ``positive_label`` the positive class, adds ΔTPR/ΔFPR of participants'
    decisions. ``include_bots=True`` analyses scripted participants too (a rehearsal run of a
    study by bots with a planted effect); real studies leave it off.
    """

    speeder_fraction: float | None = 0.3
    min_seconds_per_trial: float | None = None
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


@dataclass
class StudyAnalysis:
    """Everything a report shows."""

    export: StudyExport
    exclusions: ExclusionResult
    participants: pd.DataFrame
    reliability: pd.DataFrame
    summary: pd.DataFrame
    contrasts: pd.DataFrame
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
        min_seconds_per_trial=options.min_seconds_per_trial,
        include_bots=options.include_bots,
    )
    participants = score_all(kept.participants)
    common: dict[str, Any] = {
        "human_alone": options.human_alone,
        "confidence_scale": options.confidence_scale,
        "ready_threshold": options.ready_threshold,
        "fairness_group": options.fairness_group,
        "positive_label": options.positive_label,
        "n_boot": options.n_boot,
        "seed": options.seed,
    }
    summary = summarise_study(kept.trials, participants, **common)
    per_participant = summarise_study(kept.trials, participants, by="participant", **common)
    reference = options.reference_condition or options.human_alone
    analysis = StudyAnalysis(
        export=export,
        exclusions=kept,
        participants=participants,
        reliability=reliability_table(participants),
        summary=summary,
        contrasts=condition_contrasts(per_participant, reference=reference),
    )
    if options.fit_models:
        analysis.models, analysis.notes = fit_accuracy_models(
            trial_outcomes(kept.trials), random_slopes=options.random_slopes
        )
        errors, error_notes = fit_error_models(error_outcomes(kept.trials))
        analysis.models.update(errors)
        analysis.notes.extend(error_notes)
    return analysis


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


def fit_error_models(outcomes: pd.DataFrame) -> tuple[dict[str, Any], list[str]]:
    """Fit :func:`error_formulas` with ``analysis.mixed.lmer`` (REML), notes for failures."""
    from analysis.mixed import lmer

    results: dict[str, Any] = {}
    notes = []
    for name, formula in error_formulas(outcomes).items():
        measure = formula.split(" ~ ")[0]
        data = outcomes[outcomes["task"] == name.split(":")[0]].dropna(subset=[measure])
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


def model_data(outcomes: pd.DataFrame, name: str) -> pd.DataFrame:
    """The trials a model of :func:`model_formulas` is fitted to: its task's scored trials,
    without the pre-test phase unless the model compares phases."""
    task = name.split(":")[0]
    data = outcomes[outcomes["task"] == task].dropna(subset=["correct"])
    if "phase x condition" not in name:
        data = data[data["phase"] != "pre"]
    return data


def fit_accuracy_models(
    outcomes: pd.DataFrame, *, random_slopes: bool = True
) -> tuple[dict[str, Any], list[str]]:
    """Fit :func:`model_formulas` with ``analysis.mixed.glmer``; returns results and notes.

    A model that fails to fit is reported in the notes rather than stopping the report.
    """
    try:
        from analysis.mixed import glmer  # lazily: the mixed-model package is optional here
    except ImportError as error:
        return {}, [f"Mixed models skipped: analysis.mixed.glmer is not available ({error})."]
    results: dict[str, Any] = {}
    notes = []
    for name, formula in model_formulas(outcomes, random_slopes=random_slopes).items():
        try:
            results[name] = glmer(formula, model_data(outcomes, name), family="binomial")
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
