"""Numeric answers (simulate then decide): the distances the report models, and the models.

Oracles: the closed forms |guess - m|, |h - m|, |h - y| for the outcomes; a planted effect
(condition B moves 20,000 dollars closer to the model, with known noise) for the fits.
"""

from __future__ import annotations

import numpy as np
import pytest

from analysis.report.pipeline import error_formulas, error_outcomes, fit_error_models
from tests.analysis.data.handmade import trials_frame


def _trials(seed: int = 0) -> list[dict[str, object]]:
    rng = np.random.default_rng(seed)
    rows = []
    for p in range(24):
        condition = "A" if p % 2 else "B"
        offset = rng.normal(0, 3000)  # a participant's own habit
        for i in range(10):
            ai, truth = 200000.0 + 1000 * i, 210000.0 + 1000 * i
            unusual = i < 2
            shift = (40000 if condition == "A" else 20000) + offset + rng.normal(0, 2000)
            final, guess = ai + shift, ai + rng.normal(0, 5000)
            rows.append({
                "participant": f"p{p}", "condition": condition, "task": "simulate_then_decide",
                "item_id": f"h{i}", "trial_index": i, "phase": "main",
                "ai_prediction": str(ai), "truth": str(truth), "final_response": str(final),
                "simulation_response": str(guess), "simulation_error": abs(guess - ai),
                "deviation_from_ai": abs(final - ai), "absolute_error": abs(final - truth),
                "unusual": "true" if unusual else "false"})
    return rows


def test_error_outcomes_carry_the_three_distances_and_the_unusual_flag():
    rows = _trials()
    outcomes = error_outcomes(trials_frame(rows))
    assert len(outcomes) == len(rows)
    first = rows[0]
    assert outcomes.loc[0, "deviation_from_ai"] == pytest.approx(first["deviation_from_ai"])
    assert outcomes.loc[0, "unusual"] == 1.0 and outcomes["unusual"].sum() == 2 * 24


def test_the_planted_effect_on_deviation_from_the_model_is_recovered():
    outcomes = error_outcomes(trials_frame(_trials()))
    formulas = error_formulas(outcomes)
    assert "simulate_then_decide: deviation_from_ai x unusual" in formulas
    models, notes = fit_error_models(outcomes)
    assert notes == []
    fit = models["simulate_then_decide: deviation_from_ai"]
    effect = dict(zip(fit.params.index, fit.params, strict=True))["condition[T.B]"]
    # Oracle: B was planted 20,000 closer; the estimate is within 3 standard errors.
    se = dict(zip(fit.bse.index, fit.bse, strict=True))["condition[T.B]"]
    assert abs(effect + 20000) < 3 * se


def test_a_study_without_numbers_has_no_error_models():
    rows = [{"participant": "a", "task": "decision", "truth": "A", "final_response": "A",
             "condition": "x"}]
    assert error_outcomes(trials_frame(rows)).empty


@pytest.mark.r
@pytest.mark.slow
def test_the_r_script_fits_the_same_deviation_model_as_python(tmp_path):
    """Oracle: R's lme4 on the same export; its condition effect on the deviation from the
    model equals analysis.mixed.lmer's."""
    import csv
    import re
    import subprocess

    from analysis.report import ReportOptions, build_r_script
    from analysis.schema import PARTICIPANT_COLUMNS, TRIAL_COLUMNS
    from tests.analysis.test_report import _rscript_with_lme4

    rows = _trials()
    with open(tmp_path / "trials.csv", "w", newline="") as handle:
        writer = csv.DictWriter(handle, [c.name for c in TRIAL_COLUMNS])
        writer.writeheader()
        for row in rows:
            writer.writerow({"trial_kind": "main", "is_bot": "false", "trial_index": 0,
                             **row})
    with open(tmp_path / "participants.csv", "w", newline="") as handle:
        writer = csv.DictWriter(handle, [c.name for c in PARTICIPANT_COLUMNS])
        writer.writeheader()
        for p in sorted({str(r["participant"]) for r in rows}):
            writer.writerow({"participant": p, "condition": "A" if int(p[1:]) % 2 else "B",
                             "status": "completed", "spec_hash": "x", "seed": 1,
                             "started_at": "2026-01-01T00:00:00Z",
                             "completed_at": "2026-01-01T00:10:00Z", "duration_s": 600,
                             "attention_passed": "true", "is_bot": "false"})
    script = build_r_script(tmp_path, tmp_path / "analysis.R",
                            options=ReportOptions(random_slopes=False))
    run = subprocess.run([_rscript_with_lme4(), str(script)], cwd=tmp_path,
                         capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr
    block = run.stdout.split("deviation_from_ai ~ condition + (1 | participant)")[1]
    r_effect = float(re.search(r"conditionB\s+(-?[\d.e+-]+)", block).group(1))
    models, _ = fit_error_models(error_outcomes(trials_frame(rows)))
    fit = models["simulate_then_decide: deviation_from_ai"]
    python_effect = dict(zip(fit.params.index, fit.params, strict=True))["condition[T.B]"]
    assert python_effect == pytest.approx(r_effect, rel=1e-4)
