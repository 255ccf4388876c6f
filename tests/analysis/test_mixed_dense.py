"""The command line's numpy-only path for small linear mixed models (analysis.mixed.dense and
analysis.mixed.columns).

Oracles: lme4's fits of the same data (fixtures/reference.json, fixtures/r_fixtures.json); the
full path (pandas, formulaic and the sparse fitter, itself checked against lme4) on the same
CSV file; ``pandas.read_csv`` for parsing and the full path's formulaic coding for designs.
"""

from __future__ import annotations

import json
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from analysis.mixed import lmer
from analysis.mixed.columns import NA_STRINGS, NotSimple, read_table, simple_model_data
from analysis.mixed.dense import fit_csv
from analysis.mixed.design import build_model_data

FIXTURES = Path(__file__).parent / "fixtures"
REFERENCE = json.loads((FIXTURES / "reference.json").read_text())
R_FITS = json.loads((FIXTURES / "r_fixtures.json").read_text())


def _trials(seed: int = 3, n_p: int = 30, n_i: int = 12) -> pd.DataFrame:
    """Crossed participants x items with a between condition, a numeric x, a session and a
    numeric-coded block; y has participant intercepts and slopes and item intercepts."""
    rng = np.random.default_rng(seed)
    p = np.repeat(np.arange(n_p), n_i)
    i = np.tile(np.arange(n_i), n_p)
    x = rng.normal(size=n_p * n_i)
    block = np.array([2, 10, 9])[i % 3]  # as a factor, levels sort as strings: 10, 2, 9
    y = (2.0 + 0.5 * x + 0.3 * (p % 2) + 0.02 * block + rng.normal(0, 0.8, n_p)[p]
         + rng.normal(0, 0.3, n_p)[p] * x + rng.normal(0, 0.5, n_i)[i]
         + rng.normal(0, 1.0, n_p * n_i))
    return pd.DataFrame({"y": y.round(4), "x": x.round(4),
                         "condition": np.where(p % 2 == 0, "ai", "control"),
                         "participant": [f"p{k:02d}" for k in p],
                         "item": [f"i{k:02d}" for k in i], "session": 1 + i % 2,
                         "block": block})


def _dense(csv: Path, formula: str, *, reml: bool = True,
           factors: tuple[str, ...] = ()) -> tuple[dict[str, Any], list[str]]:
    return fit_csv(str(csv), formula, reml=reml, factors=list(factors))


def _full(csv: Path, formula: str, *, reml: bool = True,
          factors: tuple[str, ...] = ()) -> tuple[dict[str, Any], list[str]]:
    """The full path, as the command line runs it (warnings recorded, not raised)."""
    frame = pd.read_csv(csv, dtype={name: str for name in factors})
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        out = lmer(formula, frame, reml=reml).to_dict()
    return out, [str(w.message) for w in caught]


def _assert_same(dense: dict[str, Any], full: dict[str, Any]) -> None:
    """Same keys, names, flags and warnings; numbers to the optimiser's precision (the
    dense path's Newton search may end a little higher on the likelihood, never lower)."""
    assert list(dense) == list(full)
    assert list(dense["fixed"]) == list(full["fixed"])
    for name, ours in dense["fixed"].items():
        theirs = full["fixed"][name]
        assert ours["estimate"] == pytest.approx(theirs["estimate"], abs=1e-4 * theirs["se"])
        assert ours["se"] == pytest.approx(theirs["se"], rel=1e-4)
    assert [(r["group"], r["term"], r["term2"]) for r in dense["random"]] == \
        [(r["group"], r["term"], r["term2"]) for r in full["random"]]
    scale = full["residual_sd"]
    for ours, theirs in zip(dense["random"], full["random"], strict=True):
        assert ours["sd_or_cor"] == pytest.approx(theirs["sd_or_cor"], rel=1e-3,
                                                  abs=1e-3 * scale)
    assert dense["loglik"] == pytest.approx(full["loglik"], abs=1e-6 * abs(full["loglik"]))
    assert dense["loglik"] >= full["loglik"] - 1e-7 * abs(full["loglik"])
    for key in ("family", "method", "converged", "singular", "warnings", "nobs", "ngroups"):
        assert dense[key] == full[key], key


@pytest.fixture
def trials_csv(tmp_path: Path) -> Path:
    path = tmp_path / "trials.csv"
    _trials().to_csv(path, index=False)
    return path


@pytest.mark.parametrize(("formula", "reml", "factors"), [
    ("y ~ x * condition + (1 + x | participant) + (1 | item)", True, ()),
    ("y ~ x * condition + (1 + x | participant) + (1 | item)", False, ()),
    ("y ~ condition + (1 + x || participant) + (1 | item)", True, ()),
    ("y ~ condition * block + x + (1 | participant) + (1 | item)", True, ("block",)),
    ("y ~ x * condition * block + (1 | participant)", True, ("block",)),
    ("y ~ 0 + x + (1 | participant)", True, ()),
    ("y ~ block:x + x + (1 | participant:session)", True, ("block",)),
    ("y ~ x + (1 | participant/session)", False, ()),
    ("y ~ x + (0 + x | item) + (1 | participant)", True, ()),
])
def test_it_fits_what_the_full_path_fits(trials_csv: Path, formula: str, reml: bool,
                                         factors: tuple[str, ...]) -> None:
    dense, alarms = _dense(trials_csv, formula, reml=reml, factors=factors)
    full, caught = _full(trials_csv, formula, reml=reml, factors=factors)
    _assert_same(dense, full)
    assert alarms == caught


def test_rows_with_missing_values_are_dropped_as_pandas_reads_them(tmp_path: Path) -> None:
    frame = _trials().astype({"x": object, "y": object})
    for row, (column, missing) in enumerate([("y", "NA"), ("x", ""), ("condition", "n/a"),
                                             ("item", "NULL"), ("y", "nan"), ("x", "#N/A")]):
        frame.loc[row * 7, column] = missing
    csv = tmp_path / "gaps.csv"
    frame.to_csv(csv, index=False)
    formula = "y ~ x * condition + (1 | participant) + (1 | item)"
    dense, _ = _dense(csv, formula)
    assert dense["nobs"] == len(frame) - 6
    _assert_same(dense, _full(csv, formula)[0])


def test_an_aliased_column_is_dropped_with_the_full_paths_warning(tmp_path: Path) -> None:
    frame = _trials().assign(x2=lambda d: 2 * d["x"])
    csv = tmp_path / "aliased.csv"
    frame.to_csv(csv, index=False)
    dense, _ = _dense(csv, "y ~ x + x2 + (1 | participant)")
    assert list(dense["fixed"]) == ["Intercept", "x"]
    assert "dropped columns ['x2']" in dense["warnings"][0]
    _assert_same(dense, _full(csv, "y ~ x + x2 + (1 | participant)")[0])


def test_a_singular_fit_says_so_and_warns(tmp_path: Path) -> None:
    # y is noise alone: lme4 puts both SDs at 0 (isSingular TRUE).
    frame = _trials().assign(y=np.random.default_rng(5).normal(size=360).round(4))
    csv = tmp_path / "noise.csv"
    frame.to_csv(csv, index=False)
    formula = "y ~ condition + (1 | participant) + (1 | item)"
    dense, alarms = _dense(csv, formula)
    full, caught = _full(csv, formula)
    assert dense["singular"] and alarms == caught and alarms[0].startswith("singular fit")
    _assert_same(dense, full)


# ----- against lme4 -------------------------------------------------------------------------
def _assert_matches_r(out: dict[str, Any], ref: dict[str, Any], names: dict[str, str]) -> None:
    for r_name, ours in names.items():
        assert out["fixed"][ours]["estimate"] == pytest.approx(ref["fixed"][r_name], rel=1e-5)
        assert out["fixed"][ours]["se"] == pytest.approx(ref["se"][r_name], rel=1e-4)
    sdcor = [row["sd_or_cor"] for row in out["random"]]
    np.testing.assert_allclose(sdcor, [v["sdcor"] for v in ref["vc"]], rtol=1e-4)
    assert out["loglik"] == pytest.approx(ref["loglik"], rel=1e-7)


@pytest.mark.parametrize("reml", [True, False])
def test_it_matches_lme4_on_sleepstudy(reml: bool) -> None:
    out, alarms = _dense(FIXTURES / "sleepstudy.csv", "Reaction ~ Days + (Days | Subject)",
                         reml=reml)
    ref = REFERENCE["sleepstudy_reml" if reml else "sleepstudy_ml"]
    _assert_matches_r(out, ref, {"(Intercept)": "Intercept", "Days": "Days"})
    assert out["converged"] and not alarms


@pytest.mark.parametrize("reml", [True, False])
def test_it_matches_lme4_on_crossed_correlated_slopes(reml: bool) -> None:
    out, _ = _dense(FIXTURES / "sim_crossed_gaussian.csv",
                    "y ~ x * condition + (1 + x | participant) + (1 | item)", reml=reml)
    _assert_matches_r(out, R_FITS["gauss_reml" if reml else "gauss_ml"],
                      {"(Intercept)": "Intercept", "x": "x",
                       "conditioncontrol": "condition[T.control]",
                       "x:conditioncontrol": "x:condition[T.control]"})


def test_it_matches_lme4_on_penicillin() -> None:
    out, _ = _dense(FIXTURES / "penicillin.csv", "diameter ~ 1 + (1 | plate) + (1 | sample)")
    _assert_matches_r(out, REFERENCE["penicillin"], {"(Intercept)": "Intercept"})
    assert out["ngroups"] == {"plate": 24, "sample": 6}


# ----- reading and coding -------------------------------------------------------------------
def test_values_are_read_as_pandas_reads_them(tmp_path: Path) -> None:
    numbers = ["1", "+1", "-2.", ".5", "-.5e-3", "1E5", "007", "3.25"]
    nas = sorted(NA_STRINGS)
    n = max(len(numbers), len(nas))
    frame = {"numbers": (numbers * n)[:n], "gaps": [nas[k % len(nas)] if k % 2 else "4.5"
                                                   for k in range(n)],
             "words": (["1_000", "0x10", "1,5", "a b"] * n)[:n],
             "factor": (["2", "10", "NA"] * n)[:n]}
    csv = tmp_path / "values.csv"
    pd.DataFrame(frame).to_csv(csv, index=False)
    table = read_table(str(csv), ["factor"])
    expected = pd.read_csv(csv, dtype={"factor": str})
    for name in ("numbers", "gaps"):
        assert table[name].numbers is not None
        np.testing.assert_array_equal(table[name].numbers, expected[name].to_numpy(float))
    for name in ("words", "factor"):
        assert table[name].numbers is None
        assert not pd.api.types.is_numeric_dtype(expected[name])
        np.testing.assert_array_equal(table[name].missing, expected[name].isna().to_numpy())


@pytest.mark.parametrize("text", [
    "y,g\n1,a\ninf,b\n",  # pandas reads an infinity
    "y,g\n1,a\n1e400,b\n",  # ... also here
    "y,g\n1,True\n2,False\n",  # ... and booleans
    "y,g\n1, a\n2,b\n",  # ... and keeps the space
    "y,g\n1,a,3\n2,b\n",  # a ragged row
    "y,y\n1,a\n2,b\n",  # a repeated name
    "y,g\n",  # no data
])
def test_what_pandas_parses_its_own_way_goes_to_the_full_path(tmp_path: Path,
                                                              text: str) -> None:
    csv = tmp_path / "odd.csv"
    csv.write_text(text)
    with pytest.raises(NotSimple):
        read_table(str(csv), [])


@pytest.mark.parametrize("formula", [
    "y ~ x * condition * block + (1 + x | participant) + (1 | item)",
    "y ~ condition:block + condition + block + (1 | participant)",
    "y ~ block + x:block + x + 1 + (1 + condition | item)",
    "y ~ 0 + x + (1 | participant:session)",
])
def test_designs_are_coded_and_named_as_formulaic_codes_them(trials_csv: Path,
                                                             formula: str) -> None:
    ours = simple_model_data(formula, read_table(str(trials_csv), ["block"]))
    theirs = build_model_data(formula, pd.read_csv(trials_csv, dtype={"block": str}),
                              "gaussian")
    assert ours.fixed_names == theirs.fixed_names
    np.testing.assert_array_equal(ours.X, theirs.X)
    for a, b in zip(ours.terms, theirs.terms, strict=True):
        assert (a.group, a.names, a.n_levels) == (b.group, b.names, b.n_levels)
        np.testing.assert_array_equal(a.matrix, b.matrix)


@pytest.mark.parametrize("formula", [
    "y ~ log(x) + (1 | participant)",  # a function
    "y ~ C(block) + (1 | participant)",
    "y ~ 0 + condition + (1 | participant)",  # full coding without an intercept
    "y ~ x:condition + (1 | participant)",  # an interaction without its margin
    "y ~ x * condition:block + (1 | participant)",  # '*' and ':' in one term
    "y ~ x:x + (1 | participant)",  # formulaic reads a repeated variable once
    "y ~ " + "*".join(f"v{k}" for k in range(8)) + " + (1 | participant)",  # 255 terms
    "log(y) ~ x + (1 | participant)",  # a response expression
    "y ~ x + (1 | participant) + (1 | nowhere)",  # a missing column
])
def test_formulas_beyond_plain_terms_go_to_the_full_path(trials_csv: Path,
                                                        formula: str) -> None:
    with pytest.raises(NotSimple):
        simple_model_data(formula, read_table(str(trials_csv), []))


def test_a_model_too_big_for_dense_matrices_goes_to_the_full_path(tmp_path: Path) -> None:
    frame = _trials(n_p=450, n_i=2)
    csv = tmp_path / "wide.csv"
    frame.to_csv(csv, index=False)
    with pytest.raises(NotSimple):
        _dense(csv, "y ~ x + (1 | participant)")


def test_the_command_line_falls_back_to_the_full_path(
        capsys: pytest.CaptureFixture[str]) -> None:
    from analysis.__main__ import main

    # An expression in the formula: the dense path declines and formulaic codes it.
    code = main(["fit", "--data", str(FIXTURES / "sleepstudy.csv"), "--formula",
                 "Reaction ~ log(Days + 1) + (1 | Subject)", "--json"])
    out = json.loads(capsys.readouterr().out)
    assert code == 0 and list(out["fixed"]) == ["Intercept", "log(Days + 1)"]
