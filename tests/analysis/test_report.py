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
from types import SimpleNamespace

import nbformat
import numpy as np
import pandas as pd
import pytest

from analysis.exclusions import apply_exclusions
from analysis.io import load_export
from analysis.reliance import complementarity
from analysis.report import ReportOptions, build_html_report, build_notebook, build_r_script
from analysis.report.design import study_design
from analysis.report.flow import consort_flow
from analysis.report.pipeline import analyse_export, by_ai_correctness, fit_accuracy_models
from analysis.report.tables import fit_problems, fixed_effects_table, interval_text
from analysis.schema import PARTICIPANT_COLUMNS, TRIAL_COLUMNS
from analysis.summary import summarise_study, trial_outcomes

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
            "language": "en", "spec_version": "1", "spec_hash": "synthetic", "seed": str(seed),
            "started_at": "2026-02-01T12:00:00Z",
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
    assert page.count('<figure class="result"') >= 3 and "<svg" in page
    assert not re.search(r"""(src|href)=["']?(https?:)?//""", page)
    assert "<script" not in page
    assert "over reliance" in page and "synthetic-study" in page


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


# --- The report as a results section (issue 12) ---------------------------------------------

STUDY_YAML = """title: A synthetic study
task: {design: decision}
conditions:
  - {name: prediction, label: No AI, show_ai: false}
  - {name: explanation, label: AI + SHAP, explanation: {method: tree_shap}}
"""


@pytest.fixture(scope="module")
def declared_export(synthetic_export: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The synthetic export with a study.yaml that declares ``prediction`` a no-AI condition
    (the platform's trials still carry the AI's prediction there, as a real export does)."""
    directory = tmp_path_factory.mktemp("declared")
    shutil.copytree(synthetic_export, directory, dirs_exist_ok=True)
    (directory / "study.yaml").write_text(STUDY_YAML)
    return directory


def _quick(**changes: object) -> ReportOptions:
    return ReportOptions(**{"n_boot": 200, "fit_models": False, **changes})  # type: ignore[arg-type]


def test_the_settings_are_a_readable_list_not_a_repr(synthetic_export: Path,
                                                     tmp_path: Path) -> None:
    page = build_html_report(synthetic_export, tmp_path / "r.html",
                             options=_quick()).read_text("utf-8")
    assert "ReportOptions(" not in page
    assert '<dl class="options">' in page and "<dt>speeder_fraction</dt>" in page
    assert "excluded as speeders" in page


def test_reliance_is_not_reported_for_a_condition_that_saw_no_ai(declared_export: Path,
                                                                  tmp_path: Path) -> None:
    analysis = analyse_export(declared_export, _quick())
    rows = analysis.summary.set_index(["metric", "condition"]).index
    for metric in ("agreement", "over_reliance", "under_reliance"):
        assert (metric, "prediction") not in rows
        assert (metric, "explanation") in rows
    assert "prediction" not in set(analysis.contrasts["condition"])
    reliance = analysis.by_ai_correctness.query("measure == 'reliance'")
    assert set(reliance["condition"]) == {"explanation"}
    page = build_html_report(declared_export, tmp_path / "r.html",
                             options=_quick()).read_text("utf-8")
    assert "n/a: no AI shown" in page and "Results: A synthetic study" in page


def test_one_participant_gets_no_bootstrap_interval_of_width_zero() -> None:
    # Oracle: resampling one participant returns that participant every time, so the old
    # interval was [x, x]; a single participant carries no information about spread.
    trials = pd.DataFrame({
        "participant": ["a", "a", "h1", "h1", "h2", "h2"],
        "condition": ["team", "team", "alone", "alone", "alone", "alone"],
        "trial_kind": "main", "item_id": ["i1", "i2"] * 3, "truth": "A",
        "final_response": ["A", "B", "A", "A", "B", "A"], "initial_response": "",
        "ai_prediction": "A", "ai_correct": True, "task": "decision", "phase": "main",
    })
    table = complementarity(trials, human_alone="alone", n_boot=50, seed=1)
    team = table.set_index("metric").loc["team_accuracy"]
    assert team["n"] == 1 and team["estimate"] == 0.5
    assert np.isnan(team["ci_low"]) and np.isnan(team["ci_high"])


def test_an_interval_reads_n_too_small_below_the_minimum_and_all_equal_at_width_zero(
) -> None:
    assert "n too small" in interval_text({"estimate": 0.5, "ci_low": 0.5, "ci_high": 0.5,
                                           "n": 1})
    assert "no CI: all equal" in interval_text({"estimate": 0.5, "ci_low": 0.5, "ci_high": 0.5,
                                            "n": 8})
    assert interval_text({"estimate": 0.6, "ci_low": 0.25, "ci_high": 0.95, "n": 5},
                         percent=True) == "60% [25%, 95%]"


def test_the_t_interval_by_ai_correctness_matches_a_hand_worked_case() -> None:
    # Hand-worked: proportions 2/4, 3/4, 4/4, 1/4, 2/4 -> mean 0.6, sd = sqrt(0.325 / 4) =
    # 0.2850439, se = 0.1274755, t(0.975, 4) = 2.776445 (table), half-width 0.3539287.
    correct = {"p1": [1, 1, 0, 0], "p2": [1, 1, 1, 0], "p3": [1, 1, 1, 1], "p4": [1, 0, 0, 0],
               "p5": [0, 1, 0, 1]}
    outcomes = pd.DataFrame([
        {"participant": p, "item": f"i{k}", "condition": "ai", "task": "decision",
         "phase": "main", "correct": float(v), "ai_correct": 1.0, "agreed": float(v)}
        for p, values in correct.items() for k, v in enumerate(values)])
    design = SimpleNamespace(saw_ai=lambda condition: True)
    table = by_ai_correctness(outcomes, design, min_participants=5)  # type: ignore[arg-type]
    row = table.query("measure == 'accuracy'").iloc[0]
    assert row["n"] == 5 and row["estimate"] == pytest.approx(0.6)
    assert row["ci_low"] == pytest.approx(0.6 - 0.3539287, abs=1e-6)
    assert row["ci_high"] == pytest.approx(0.6 + 0.3539287, abs=1e-6)
    four = by_ai_correctness(outcomes[outcomes["participant"] != "p5"], design,  # type: ignore[arg-type]
                             min_participants=5)
    assert four["ci_low"].isna().all()


def test_no_model_is_fitted_to_two_participants_and_the_report_says_why(
        tmp_path: Path) -> None:
    # The tiny export keeps two participants per condition; the old report fitted a GLMM to
    # them and printed "Converged: True".
    options = ReportOptions(n_boot=100, include_bots=False, speeder_fraction=None)
    analysis = analyse_export(Path(__file__).parent / "data" / "tiny", options)
    assert analysis.models == {}
    assert any("too few participants" in note for note in analysis.notes)
    page = build_html_report(Path(__file__).parent / "data" / "tiny", tmp_path / "r.html",
                             options=options).read_text("utf-8")
    assert 'class="warnings"' in page and "Too few participants for inference" in page


def _fake_fit(**changes: object) -> SimpleNamespace:
    fit = {"family": "binomial", "converged": True, "warnings": [],
           "params": pd.Series({"Intercept": 0.2, "condition[T.b]": 0.9}),
           "bse": pd.Series({"Intercept": 0.1, "condition[T.b]": 0.3}),
           "var_corr": pd.DataFrame({"group": ["participant", "item"],
                                           "term": ["Intercept", "Intercept"],
                                           "term2": [None, None], "sd_or_cor": [0.8, 0.4]})}
    fit.update(changes)
    return SimpleNamespace(**fit)


def test_a_fit_that_claims_convergence_is_still_flagged_when_singular_or_separated() -> None:
    assert fit_problems(_fake_fit()) == []
    separated = _fake_fit(var_corr=pd.DataFrame({
        "group": ["participant", "item"], "term": ["Intercept", "Intercept"],
        "term2": [None, None], "sd_or_cor": [0.0, 40.7]}))
    problems = " ".join(fit_problems(separated))
    assert "singular" in problems and "40.7" in problems
    assert "did not converge" in " ".join(fit_problems(_fake_fit(converged=False)))
    assert "singular" in " ".join(fit_problems(_fake_fit(singular=True)))


def test_the_model_table_gives_wald_intervals_and_odds_ratios() -> None:
    # Oracle: closed form, estimate +/- 1.959964 SE, OR = exp(.), p = 2 * (1 - Phi(|z|)).
    table = fixed_effects_table(_fake_fit()).set_index("term")
    row = table.loc["condition[T.b]"]
    assert row["ci_low"] == pytest.approx(0.9 - 1.959964 * 0.3, abs=1e-6)
    assert row["odds_ratio"] == pytest.approx(np.exp(0.9))
    assert row["or_high"] == pytest.approx(np.exp(0.9 + 1.959964 * 0.3), abs=1e-6)
    assert row["p_value"] == pytest.approx(0.0026998, abs=1e-6)  # z = 3
    assert row["test"] == "Wald z"


def test_the_consort_counts_add_up_per_condition(synthetic_export: Path) -> None:
    export = load_export(synthetic_export)
    kept = apply_exclusions(export.trials, export.participants)
    flows = {f.condition: f for f in consort_flow(export.participants, kept,
                                                  ["prediction", "explanation"])}
    # P040 (a bot) and P041 (returned early) are the two extra participants.
    assert flows["prediction"].excluded == {"scripted bot": 1}
    assert flows["explanation"].not_finished == {"returned": 1}
    for flow in flows.values():
        assert flow.assigned == (sum(flow.not_finished.values()) + sum(flow.excluded.values())
                                 + flow.analysed)
    assert sum(f.analysed for f in flows.values()) == len(kept.participants) == 40


def test_figures_are_saved_as_svg_and_png_with_their_numbers_in_words(declared_export: Path,
                                                                      tmp_path: Path) -> None:
    page = build_html_report(declared_export, tmp_path / "report.html",
                             options=_quick()).read_text("utf-8")
    for name in ("accuracy", "reliance", "score-jian"):
        assert (tmp_path / f"figure-{name}.svg").read_text().lstrip().startswith("<?xml")
        assert (tmp_path / f"figure-{name}.png").read_bytes()[:4] == b"\x89PNG"
    assert '<svg class="consort"' in page
    analysis = analyse_export(declared_export, _quick())
    row = analysis.by_ai_correctness.query(
        "measure == 'accuracy' and condition == 'explanation' and ai_correct == False").iloc[0]
    words = (f"AI + SHAP, AI wrong: {100 * row['estimate']:.0f}% "
             f"[{100 * row['ci_low']:.0f}%, {100 * row['ci_high']:.0f}%]")
    assert words in page  # the figure's text alternative carries the plotted numbers
    assert "#0072b2" in page.lower()  # Okabe-Ito blue, the first condition's colour


def test_each_condition_is_compared_with_the_control_in_words(declared_export: Path) -> None:
    from analysis.report.html import render_html

    options = _quick()
    analysis = analyse_export(declared_export, options)
    page = render_html(analysis, options)
    assert "declares no pre-registered comparisons" in page
    row = analysis.contrasts.query("metric == 'accuracy'").iloc[0]
    assert row["condition"] == "explanation" and row["reference"] == "prediction"
    assert f"{100 * row['difference']:.1f} percentage points higher in AI + SHAP" in page


def test_the_models_contrast_each_condition_with_the_control(synthetic_export: Path) -> None:
    export = load_export(synthetic_export)
    kept = apply_exclusions(export.trials, export.participants)
    # "explanation" sorts first; the control is "prediction".
    models, notes = fit_accuracy_models(trial_outcomes(kept.trials), random_slopes=False,
                                        reference="prediction")
    assert not notes
    assert "condition[T.explanation]" in models["decision: condition"].params.index
    design = study_design(export, reference="prediction")
    assert design.control == "prediction"


def test_linear_models_take_satterthwaite_tests_from_the_inference_module(
        monkeypatch: pytest.MonkeyPatch) -> None:
    # analysis.mixed.inference's table (indexed by term, columns estimate, se, df, statistic,
    # p_value, lower, upper) becomes the report's, named as such.
    from analysis.report import tables

    calls = []

    def fake_table(fit: object, ddf: str = "satterthwaite") -> pd.DataFrame:
        calls.append(ddf)
        return pd.DataFrame({"estimate": [1.5], "se": [0.5], "df": [17.3], "statistic": [3.0],
                             "p_value": [0.008], "lower": [0.45], "upper": [2.55]},
                            index=pd.Index(["condition[T.b]"]))

    monkeypatch.setattr(tables, "satterthwaite_table", fake_table)
    table = fixed_effects_table(_fake_fit(family="gaussian"))
    assert calls == ["satterthwaite"]
    row = table.set_index("term").loc["condition[T.b]"]
    assert (row["df"], row["ci_low"], row["test"]) == (17.3, 0.45, "Satterthwaite t")
    assert "odds_ratio" not in table.columns
    assert fixed_effects_table(_fake_fit())["test"].iloc[0] == "Wald z"  # logistic: Wald


def test_report_options_refuse_an_unknown_interval_or_a_minimum_below_two() -> None:
    with pytest.raises(ValueError, match="interval must be"):
        ReportOptions(interval="wald")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="min_participants must be at least 2"):
        ReportOptions(min_participants=1)


@pytest.mark.r
@pytest.mark.slow
def test_the_r_script_contrasts_with_the_same_control_as_the_report(synthetic_export: Path,
                                                                   tmp_path: Path) -> None:
    """Oracle: lme4's glmer in R on the same export; both contrast with ``prediction``
    (which does not sort first, so neither may fall back to the first level)."""
    script = build_r_script(synthetic_export, tmp_path / "analysis.R",
                            options=ReportOptions(random_slopes=False,
                                                  reference_condition="prediction"))
    run = subprocess.run([_rscript_with_lme4(), str(script)], cwd=tmp_path,
                         capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr
    match = re.search(r"^conditionexplanation\s+(-?[\d.]+)", run.stdout, re.MULTILINE)
    assert match is not None, run.stdout
    export = load_export(synthetic_export)
    kept = apply_exclusions(export.trials, export.participants)
    models, _ = fit_accuracy_models(trial_outcomes(kept.trials), random_slopes=False,
                                    reference="prediction")
    python = models["decision: condition"].params["condition[T.explanation]"]
    # R prints 4 decimals; lme4's default PIRLS tolerance moves its GLMM estimates by ~1e-3
    # (analysis.mixed's docstring), and the sign and size are what the report relies on.
    assert python == pytest.approx(float(match.group(1)), abs=2e-3)
