"""Reports built from a synthetic export with a planted effect: 40 participants, two
conditions, decisions with AI advice. In the ``explanation`` condition participants follow
wrong advice far less often (0.2 vs 0.7), so accuracy is higher there (expected 0.875 vs 0.75)."""

from __future__ import annotations

import csv
import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import numpy as np
import pandas as pd
import pytest

from analysis.io import load_export
from analysis.report import ReportOptions, build_html_report, build_notebook, build_r_script
from analysis.schema import PARTICIPANT_COLUMNS, TRIAL_COLUMNS
from analysis.summary import summarise_study

FOLLOW_WRONG_ADVICE = {"prediction": 0.7, "explanation": 0.2}
FOLLOW_RIGHT_ADVICE = 0.9
LABELS = (">50K", "<=50K")


def write_synthetic_export(directory: Path, *, n_participants: int = 40, seed: int = 7) -> Path:
    """A study export with a planted condition effect, plus a bot and a drop-out."""
    rng = np.random.default_rng(seed)
    items = [(f"item{i:02d}", LABELS[i % 2], i % 4 != 3) for i in range(16)]  # AI right 3/4
    trials, participants = [], []
    for p in range(n_participants + 2):
        pid = f"P{p:03d}"
        condition = "explanation" if p % 2 else "prediction"
        is_bot = p == n_participants
        completed = p != n_participants + 1
        trust = rng.normal()
        for index, (item, truth, ai_right) in enumerate(items if completed else items[:3]):
            advice = truth if ai_right else _other(truth)
            follows = FOLLOW_RIGHT_ADVICE if ai_right else FOLLOW_WRONG_ADVICE[condition]
            answer = advice if rng.random() < follows else _other(advice)
            trials.append(_trial(pid, condition, index, item, truth, advice, answer, is_bot,
                                 confidence=int(rng.integers(3, 6)),
                                 rt_ms=int(rng.integers(3000, 12000))))
        trials.append(_trial(pid, condition, len(items), "attention", ">50K", ">50K", ">50K",
                             is_bot, kind="attention", confidence=5, rt_ms=4000))
        answers = np.clip(np.round(4 + 1.2 * trust + rng.normal(0, 0.8, 12)), 1, 7).astype(int)
        answers[:5] = 8 - answers[:5]  # distrust items run the other way
        participants.append({
            "participant": pid, "condition": condition, "design_group": "", "block_order": "",
            "status": "completed" if completed else "returned", "source": "prolific",
            "spec_hash": "synthetic", "seed": str(seed), "started_at": "2026-02-01T12:00:00Z",
            "completed_at": "2026-02-01T12:20:00Z" if completed else "",
            "duration_s": str(int(rng.integers(600, 1500))) if completed else "",
            "comprehension_attempts": "1", "attention_passed": "true",
            "is_bot": str(is_bot).lower(),
            **{f"q_jian_{k + 1}": str(v) for k, v in enumerate(answers)},
        })
    directory.mkdir(parents=True, exist_ok=True)
    _write_csv(directory / "trials.csv", [c.name for c in TRIAL_COLUMNS], trials)
    _write_csv(directory / "participants.csv", list(participants[0]), participants)
    (directory / "datapackage.json").write_text(json.dumps({"name": "synthetic-study"}))
    return directory


def _other(label: str) -> str:
    return LABELS[1] if label == LABELS[0] else LABELS[0]


def _trial(pid: str, condition: str, index: int, item: str, truth: str, advice: str,
           answer: str, is_bot: bool, *, kind: str = "main", confidence: int,
           rt_ms: int) -> dict[str, str]:
    explained = condition == "explanation"
    return {
        "participant": pid, "condition": condition, "trial_index": str(index), "item_id": item,
        "task": "decision", "phase": "main", "trial_kind": kind, "ai_prediction": advice,
        "ai_confidence": "0.8", "ai_correct": str(advice == truth).lower(), "truth": truth,
        "final_response": answer, "correct": str(answer == truth).lower(),
        "agreed_with_ai": str(answer == advice).lower(), "confidence": str(confidence),
        "rt_ms": str(rt_ms), "explanation_visible_ms": str(rt_ms // 2) if explained else "",
        "explanation_id": f"e-{item}" if explained else "",
        "explanation_method": "shap" if explained else "", "is_bot": str(is_bot).lower(),
    }


def _write_csv(path: Path, columns: list[str], rows: list[dict[str, str]]) -> None:
    with path.open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=columns, restval="")
        writer.writeheader()
        writer.writerows(rows)


@pytest.fixture(scope="module")
def synthetic_export(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_synthetic_export(tmp_path_factory.mktemp("export"))


def test_the_synthetic_export_satisfies_the_schema(synthetic_export: Path) -> None:
    export = load_export(synthetic_export)
    assert export.participants["participant"].nunique() == 42
    assert {c.name for c in PARTICIPANT_COLUMNS} <= set(export.participants.columns)


def test_the_notebook_executes_and_shows_the_planted_effect(synthetic_export: Path,
                                                             tmp_path: Path) -> None:
    # Without random slopes the two GLMMs fit in a few seconds.
    options = ReportOptions(n_boot=200, confidence_scale=(1, 5), random_slopes=False,
                            reference_condition="prediction")
    path = build_notebook(synthetic_export, tmp_path / "analysis.ipynb", options=options)
    notebook = nbformat.read(path, as_version=4)
    outputs = [o for cell in notebook.cells if cell.cell_type == "code" for o in cell.outputs]
    assert not [o for o in outputs if o.output_type == "error"]
    text = "\n".join(o.get("text", "") for o in outputs if o.output_type == "stream")
    assert "40 participants enrolled" not in text and "42 participants enrolled, 40" in text
    match = re.search(r"accuracy difference \(decision, explanation - prediction\): ([+-][\d.]+)",
                      text)
    assert match is not None, text
    assert float(match.group(1)) > 0
    assert sum("image/png" in o.get("data", {}) for o in outputs) >= 2
    # The kernel is this interpreter (the venv), not whatever "python" a kernel spec names.
    assert f"({sys.executable})" in text


def test_the_notebook_can_be_written_without_running_it(synthetic_export: Path,
                                                        tmp_path: Path) -> None:
    path = build_notebook(synthetic_export, tmp_path / "plain.ipynb", execute=False)
    notebook = nbformat.read(path, as_version=4)
    nbformat.validate(notebook)
    sources = "\n".join(cell.source for cell in notebook.cells)
    assert "apply_exclusions" in sources and 'glmer(formula, ' in sources
    assert notebook.metadata["kernelspec"]["name"] == "python3"


def test_the_html_report_is_self_contained(synthetic_export: Path, tmp_path: Path) -> None:
    # The models are exercised by the notebook test; here only the page matters.
    path = build_html_report(synthetic_export, tmp_path / "report.html",
                             options=ReportOptions(n_boot=200, fit_models=False))
    page = path.read_text("utf-8")
    assert page.startswith("<!DOCTYPE html>")
    assert "data:image/png;base64," in page
    assert not re.search(r"""(src|href)=["']?(https?:)?//""", page)
    assert "<script" not in page
    assert "over_reliance" in page and "synthetic-study" in page


def test_the_r_script_fits_the_glmm_with_lme4(synthetic_export: Path, tmp_path: Path) -> None:
    script = build_r_script(synthetic_export, tmp_path / "analysis.R").read_text("utf-8")
    assert "library(lme4)" in script
    assert "glmer(correct_answer ~ condition + (1 | participant) + (1 | item)" in script
    assert "family = binomial" in script
    assert str(synthetic_export.resolve()) in script


def _rscript_with_lme4() -> str:
    """Path of Rscript, skipping the test when R or lme4 is missing."""
    rscript = shutil.which("Rscript")
    if rscript is None:
        pytest.skip("R is not installed")
    check = subprocess.run([rscript, "-e", "library(lme4)"], capture_output=True)
    if check.returncode != 0:
        pytest.skip("R package lme4 is not installed")
    return rscript


def _run_r_script(export_dir: Path, tmp_path: Path) -> None:
    script = build_r_script(export_dir, tmp_path / "analysis.R",
                            options=ReportOptions(random_slopes=False))
    run = subprocess.run([_rscript_with_lme4(), str(script)], cwd=tmp_path, capture_output=True,
                         text=True, timeout=300)
    assert run.returncode == 0, run.stderr


@pytest.mark.r
@pytest.mark.slow
def test_the_r_script_runs_and_agrees_with_python(synthetic_export: Path,
                                                  tmp_path: Path) -> None:
    _run_r_script(synthetic_export, tmp_path)
    from_r = pd.read_csv(tmp_path / "summary_by_condition_R.csv")
    export = load_export(synthetic_export)
    from analysis.exclusions import apply_exclusions

    kept = apply_exclusions(export.trials, export.participants)
    from_python = summarise_study(kept.trials)
    for metric in ("accuracy", "over_reliance", "under_reliance", "time_per_trial_s",
                   "agreement"):
        r_rows = from_r[from_r["metric"] == metric].set_index("condition")
        py_rows = from_python[from_python["metric"] == metric].set_index("condition")
        for condition in ("prediction", "explanation"):
            assert r_rows.loc[condition, "estimate"] == pytest.approx(
                py_rows.loc[condition, "estimate"], rel=1e-9)
            assert r_rows.loc[condition, "ci_low"] == pytest.approx(
                py_rows.loc[condition, "ci_low"], rel=1e-9)


@pytest.mark.r
@pytest.mark.slow
def test_the_r_script_survives_a_study_with_constant_metrics_and_one_condition(
    tmp_path: Path,
) -> None:
    # After exclusions the tiny export keeps two participants of one condition, whose
    # over-reliance is 0.5 for both: an interval of width 0, and no model to fit.
    _run_r_script(Path(__file__).parent / "data" / "tiny", tmp_path)
    from_r = pd.read_csv(tmp_path / "summary_by_condition_R.csv").set_index("metric")
    assert from_r.loc["accuracy", "estimate"] == pytest.approx(0.625)
    assert from_r.loc["over_reliance", "ci_low"] == pytest.approx(0.5)


@pytest.mark.r
@pytest.mark.slow
def test_the_r_script_agrees_on_two_step_reliance_calibration_and_trust(tmp_path: Path) -> None:
    """Oracle: the Python metrics (analysis.reliance, analysis.calibration, questionnaires) on
    the same judge-advisor export; R must give the same per-condition estimates."""
    from analysis.calibration import brier_score
    from analysis.exclusions import apply_exclusions
    from analysis.questionnaires import JIAN_TRUST, score
    from analysis.reliance import rair, rsr, switch_fraction

    export = write_synthetic_export(tmp_path / "export", n_participants=30, seed=3)
    trials = pd.read_csv(export / "trials.csv", dtype=str, keep_default_na=False)
    rng = np.random.default_rng(5)
    trials["task"] = "judge_advisor"
    trials["initial_response"] = [LABELS[int(b)] for b in rng.integers(0, 2, len(trials))]
    trials.to_csv(export / "trials.csv", index=False)
    script = build_r_script(export, tmp_path / "analysis.R",
                            options=ReportOptions(random_slopes=False, confidence_scale=(1, 5)))
    run = subprocess.run([_rscript_with_lme4(), str(script)], cwd=tmp_path,
                         capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr
    from_r = pd.read_csv(tmp_path / "summary_by_condition_R.csv")
    kept = apply_exclusions(load_export(export).trials, load_export(export).participants)
    python = {"switch_fraction": switch_fraction(kept.trials), "rair": rair(kept.trials),
              "rsr": rsr(kept.trials), "brier_score": brier_score(kept.trials, scale=(1, 5))}
    for metric, table in python.items():
        r_rows = from_r[from_r["metric"] == metric].set_index("condition")
        for condition, estimate in table.set_index("condition")["estimate"].items():
            assert r_rows.loc[condition, "estimate"] == pytest.approx(estimate, rel=1e-9)
    jian = score(kept.participants, JIAN_TRUST).groupby(kept.participants["condition"]).mean()
    trust = pd.read_csv(tmp_path / "trust_by_condition_R.csv").set_index("condition")
    for condition, value in jian.items():
        assert trust.loc[condition, "score_jian"] == pytest.approx(value, rel=1e-9)
    from analysis.questionnaires import item_responses
    from analysis.reliability import cronbach_alpha

    alpha = cronbach_alpha(item_responses(kept.participants, JIAN_TRUST).dropna())
    assert trust["cronbach_alpha"].iloc[0] == pytest.approx(alpha, rel=1e-9)
