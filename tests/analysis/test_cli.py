"""``python -m analysis``: the fit and power sub-commands."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from analysis.__main__ import main

FIXTURES = Path(__file__).parent / "fixtures"
REFERENCE = json.loads((FIXTURES / "reference.json").read_text())


def test_fit_prints_one_json_object_with_the_agreed_keys(
        capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["fit", "--data", str(FIXTURES / "sleepstudy.csv"), "--formula",
                 "Reaction ~ Days + (Days | Subject)", "--json"])
    out = json.loads(capsys.readouterr().out)
    assert code == 0
    assert {"fixed", "random", "residual_sd", "loglik", "converged", "warnings"} <= set(out)
    # Oracle: lme4's REML fit (reference.json).
    assert out["fixed"]["Days"]["estimate"] == pytest.approx(10.4672859596, rel=1e-6)
    assert out["random"][2] == {"group": "Subject", "term": "Intercept", "term2": "Days",
                                "sd_or_cor": pytest.approx(0.065551238238, rel=1e-3)}


def test_fit_reads_factor_columns_and_fits_a_binomial_model(
        capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["fit", "--data", str(FIXTURES / "cbpp.csv"), "--formula",
                 "cbind(incidence, size - incidence) ~ period + (1 | herd)",
                 "--family", "binomial", "--factor", "period", "--json"])
    out = json.loads(capsys.readouterr().out)
    assert code == 0
    assert out["residual_sd"] is None
    # Oracle: lme4's glmer on cbpp (reference.json), to lme4's own PIRLS tolerance.
    assert out["fixed"]["period[T.2]"]["estimate"] == pytest.approx(-0.99192497498, rel=1e-3)


def test_fit_fits_an_ordinal_model_with_thresholds(capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["fit", "--data", str(FIXTURES / "wine.csv"), "--formula",
                 "rating ~ temp + contact + (1 | judge)", "--family", "ordinal", "--json"])
    out = json.loads(capsys.readouterr().out)
    assert code == 0
    assert out["thresholds"]["1|2"]["estimate"] == pytest.approx(-1.6236669241, rel=1e-3)


def test_fit_without_json_prints_a_summary(capsys: pytest.CaptureFixture[str]) -> None:
    main(["fit", "--data", str(FIXTURES / "penicillin.csv"), "--formula",
          "diameter ~ 1 + (1 | plate) + (1 | sample)", "--ml"])
    assert "fit by ML" in capsys.readouterr().out


def test_a_bad_formula_is_reported_on_stderr_with_exit_code_2(
        capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["fit", "--data", str(FIXTURES / "sleepstudy.csv"), "--formula",
                 "Reaction ~ Days", "--json"])
    captured = capsys.readouterr()
    assert code == 2
    assert captured.out == ""
    assert "random-effect term" in captured.err


def test_a_missing_file_is_reported_with_exit_code_2(capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["fit", "--data", "/nonexistent.csv", "--formula", "y ~ (1 | g)"])
    assert code == 2
    assert "cannot read" in capsys.readouterr().err


def test_power_shows_progress_on_stderr_and_prints_json(
        capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["power", "--participants", "10", "--items", "6", "--effect", "0.5",
                 "--sims", "4", "--seed", "3", "--json"])
    captured = capsys.readouterr()
    assert code == 0
    assert json.loads(captured.out)["n_sims"] == 4
    assert "4/4" in captured.err


@pytest.mark.skipif(shutil.which(sys.executable) is None, reason="needs the interpreter")
def test_it_runs_as_a_module() -> None:
    run = subprocess.run([sys.executable, "-m", "analysis", "fit", "--data",
                          str(FIXTURES / "penicillin.csv"), "--formula",
                          "diameter ~ (1 | plate)", "--json"],
                         capture_output=True, text=True, check=False,
                         cwd=Path(__file__).parents[2])
    assert run.returncode == 0, run.stderr
    assert json.loads(run.stdout)["converged"] is True
