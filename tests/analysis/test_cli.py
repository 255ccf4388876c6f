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


def _fit_bad(tmp_path: Path, formula: str, *extra: str,
             rows: dict[str, list[object]] | None = None) -> tuple[int, str, str]:
    """Run ``fit`` in a child process (a traceback would show there) on a small crossed set."""
    import pandas as pd

    n_p, n_i = 20, 10
    participant = [f"p{k // n_i}" for k in range(n_p * n_i)]
    condition = ["ai" if k // n_i % 2 == 0 else "control" for k in range(n_p * n_i)]
    frame = pd.DataFrame({"participant": participant, "item": [f"i{k % n_i}" for k in
                                                               range(n_p * n_i)],
                          "condition": condition, "score": [(k * 7919) % 101 / 10.0
                                                            for k in range(n_p * n_i)]})
    for name, values in (rows or {}).items():
        frame[name] = values
    csv = tmp_path / "trials.csv"
    frame.to_csv(csv, index=False)
    run = subprocess.run([sys.executable, "-m", "analysis", "fit", "--data", str(csv),
                          "--formula", formula, *extra], capture_output=True, text=True,
                         check=False, cwd=Path(__file__).parents[2])
    return run.returncode, run.stdout, run.stderr


@pytest.mark.parametrize(("formula", "named"), [
    ("score ~ condition * + (1 | participant)", "syntax error in 'condition *'"),
    ("score ~ condition | participant", "outside a random-effect term"),
    ("score ~ condition + (1 | participant) +", "empty term"),
    # 2^40 - 1 terms: formulaic expanded them for minutes before this was refused.
    ("score ~ " + "*".join(f"v{k}" for k in range(40)) + " + (1 | participant)",
     "crosses 40 factors"),
    ("score ~ 1 + (" + "*".join(f"v{k}" for k in range(40)) + " | participant)",
     "crosses 40 factors"),
])
def test_a_malformed_formula_gets_a_plain_message_and_exit_2(tmp_path: Path, formula: str,
                                                             named: str) -> None:
    code, out, err = _fit_bad(tmp_path, formula)
    assert code == 2 and out == ""
    assert named in err and "Traceback" not in err


def test_a_constant_response_is_refused_instead_of_fitted(tmp_path: Path) -> None:
    code, out, err = _fit_bad(tmp_path, "rt ~ condition + (1 | participant)", "--json",
                              rows={"rt": [3.0] * 200})
    assert code == 2 and out == ""
    assert "response is constant" in err and "Traceback" not in err


@pytest.mark.parametrize(("column", "value"), [("score", "1e400"), ("x", "inf")])
def test_an_infinite_number_is_refused_not_fitted_to_nan(tmp_path: Path, column: str,
                                                        value: str) -> None:
    # pandas reads both as infinity; the fit used to print NaN for every estimate, exit 0.
    values: list[object] = [float(k % 7) for k in range(200)]
    values[3] = value
    formula = "score ~ x + (1 | participant)"
    rows = {"x": [float(k % 3) for k in range(200)], column: values}
    code, out, err = _fit_bad(tmp_path, formula, "--json", rows=rows)
    assert code == 2 and out == ""
    assert f"infinite values in the {'response' if column == 'score' else 'fixed'}" in err
    assert f"'{column}'" in err and "Traceback" not in err


def test_complete_separation_is_named_as_such(tmp_path: Path) -> None:
    # Every "ai" answer is correct and every "control" answer wrong: the MLE of the
    # condition effect is infinite (closed-form reasoning, no fit can succeed).
    correct = [1 if k // 10 % 2 == 0 else 0 for k in range(200)]
    code, out, err = _fit_bad(tmp_path, "correct ~ condition + (1 | participant)",
                              "--family", "binomial", rows={"correct": correct})
    assert code == 2 and out == ""
    assert "complete separation" in err and "condition[T.control]" in err
    assert "positive definite" not in err and "Traceback" not in err


def test_a_singular_fit_prints_a_plain_warning_line(tmp_path: Path) -> None:
    # Scores unrelated to participant or item: lme4 estimates both SDs as 0 (isSingular TRUE).
    code, out, err = _fit_bad(tmp_path, "score ~ condition + (1 | participant) + (1 | item)",
                              "--json")
    assert code == 0
    assert json.loads(out)["singular"] is True
    assert err.startswith("warning: singular fit")


def _imported(*arguments: str) -> set[str]:
    """Modules a ``python -m analysis fit`` run imports. Oracle: the interpreter's own import
    log (-X importtime)."""
    run = subprocess.run([sys.executable, "-X", "importtime", "-m", "analysis", "fit",
                          "--data", str(FIXTURES / "penicillin.csv"), "--formula",
                          "diameter ~ (1 | plate)", *arguments],
                         capture_output=True, text=True, check=True, cwd=Path(__file__).parents[2])
    return {line.split("|")[-1].strip() for line in run.stderr.splitlines()
            if line.startswith("import time:")}


def test_fit_imports_only_what_a_fit_needs() -> None:
    # Start-up is most of what a researcher waits for on a small model: scipy.stats alone
    # took 0.3 s. The text summary takes the full path.
    imported = _imported()
    assert "analysis.mixed.lmm" in imported
    unneeded = {"scipy.stats", "statsmodels.api", "statsmodels.regression", "matplotlib",
                "sklearn", "analysis.power", "analysis.report"}
    assert not unneeded & imported


def test_a_small_json_fit_imports_numpy_alone() -> None:
    # Importing pandas, scipy and formulaic took 1 s, R's whole sleepstudy fit 1.4 s: a small
    # gaussian model is read and fitted without them (analysis.mixed.dense).
    imported = _imported("--json")
    assert "analysis.mixed.dense" in imported and "numpy" in imported
    heavy = {"pandas", "scipy", "formulaic", "statsmodels", "analysis.mixed.lmm"}
    assert not heavy & imported
