"""An export's notebook and R script run on a machine without the repository.

The export is built here, copied to a folder outside the repository and the original deleted;
a throwaway virtual environment then installs what the export's ``requirements.txt`` names
(the vendored ``explainlab`` wheel, offline). Its third-party packages are borrowed from this
venv through a ``.pth`` file rather than downloaded: they are the very versions pinned. The
notebook's numbers are checked against R's (an independent implementation) and against this
checkout's analysis run on the same files.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import sysconfig
from importlib import metadata
from pathlib import Path

import nbformat
import pandas as pd
import pytest
from test_report import _rscript_with_lme4, write_synthetic_export

from analysis.exclusions import apply_exclusions
from analysis.io import load_export
from analysis.report import ReportOptions, build_notebook, build_r_script
from analysis.report.environment import REQUIREMENTS_FILE, write_environment
from analysis.summary import summarise_study
from analysis.wheel import project

pytestmark = pytest.mark.slow

REPOSITORY = Path(__file__).resolve().parents[2]
OPTIONS = ReportOptions(n_boot=200, random_slopes=False, confidence_scale=(1, 5),
                        reference_condition="prediction")
METRICS = ("accuracy", "over_reliance", "under_reliance", "agreement", "time_per_trial_s")


def outside_env() -> dict[str, str]:
    """This process's environment without anything that could point back at the checkout."""
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    env.update(OPENBLAS_NUM_THREADS="1", OMP_NUM_THREADS="1", PIP_NO_INDEX="1")
    return env


def run(command: list[str], cwd: Path) -> subprocess.CompletedProcess[str]:
    done = subprocess.run([str(c) for c in command], cwd=cwd, env=outside_env(),
                          capture_output=True, text=True, timeout=900)
    assert done.returncode == 0, f"{command}\n{done.stdout}\n{done.stderr}"
    return done


@pytest.fixture(scope="module")
def export(tmp_path_factory: pytest.TempPathFactory) -> Path:
    built = write_synthetic_export(tmp_path_factory.mktemp("built"))
    build_notebook(built, built / "analysis.ipynb", execute=False, options=OPTIONS)
    build_r_script(built, built / "analysis.R", options=OPTIONS)
    write_environment(built)
    moved = tmp_path_factory.mktemp("elsewhere") / "study-export"
    shutil.copytree(built, moved)
    shutil.rmtree(built)  # nothing may refer to where the export was made
    assert not moved.resolve().is_relative_to(REPOSITORY)
    return moved


@pytest.fixture(scope="module")
def installed(export: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    """(the throwaway venv's python, pip's output) after ``pip install -r requirements.txt``."""
    venv = tmp_path_factory.mktemp("venv") / "env"
    run([sys.executable, "-m", "venv", venv], cwd=export)
    python = venv / "bin" / "python"
    purelib = run([python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                  cwd=export).stdout.strip()
    (Path(purelib) / "borrowed_site_packages.pth").write_text(
        sysconfig.get_paths()["purelib"] + "\n", "utf-8")
    pip = run([python, "-m", "pip", "install", "--no-index", "-r", REQUIREMENTS_FILE], cwd=export)
    return python, pip.stdout


@pytest.fixture(scope="module")
def notebook_run(export: Path, installed: tuple[Path, str]) -> str:
    """The exported notebook re-run in place by the venv; the text of its outputs."""
    python, _ = installed
    run([python, "-m", "analysis.report", "run", "analysis.ipynb"], cwd=export)
    notebook = nbformat.read(export / "analysis.ipynb", as_version=4)
    outputs = [o for cell in notebook.cells if cell.cell_type == "code" for o in cell.outputs]
    assert not [o for o in outputs if o.output_type == "error"]
    return "\n".join(o.get("text", "") for o in outputs if o.output_type == "stream")


def test_the_export_pins_the_versions_its_reports_were_built_with(export: Path) -> None:
    lines = (export / REQUIREMENTS_FILE).read_text("utf-8").splitlines()
    assert "./explainlab-0.1.0-py3-none-any.whl" in lines
    for name in ("numpy", "pandas", "scipy", "formulaic", "ipykernel"):
        assert f"{name}=={metadata.version(name)}" in lines


def test_the_notebook_runs_outside_the_repository_from_the_shipped_wheel(
    export: Path, installed: tuple[Path, str], notebook_run: str
) -> None:
    python, pip_output = installed
    assert "Successfully installed explainlab-0.1.0" in pip_output
    # The analysis the kernel imported is the venv's copy of the wheel, not this checkout.
    venv = python.parent.parent
    location = next(line for line in notebook_run.splitlines()
                    if line.startswith("analysis package: "))
    assert Path(location.removeprefix("analysis package: ")).is_relative_to(venv)
    assert f"({python})" in notebook_run
    assert "42 participants enrolled, 40 analysed" in notebook_run
    # Installed, the package describes itself from its metadata: the same project.
    described = run([python, "-c", "from analysis.wheel import project; print(project())"],
                    cwd=export).stdout.strip()
    assert described == repr(project())
    # Oracle: this checkout's analysis on the same CSVs, in this process.
    data = load_export(export)
    kept = apply_exclusions(data.trials, data.participants)
    here = summarise_study(kept.trials).set_index(["metric", "condition"])
    there = pd.read_csv(export / "summary_by_condition_python.csv").set_index(
        ["metric", "condition"])
    for metric in METRICS:
        for condition in ("prediction", "explanation"):
            assert there.loc[(metric, condition), "estimate"] == pytest.approx(
                here.loc[(metric, condition), "estimate"], rel=1e-12)


@pytest.mark.r
def test_the_r_script_runs_outside_the_repository_and_agrees_with_the_notebook(
    export: Path, notebook_run: str
) -> None:
    # Oracle: base R's own computation of the same metrics and t intervals.
    r = run([_rscript_with_lme4(), "analysis.R"], cwd=export)
    assert f"export: {export.resolve()}" in r.stdout
    from_r = pd.read_csv(export / "summary_by_condition_R.csv").set_index(
        ["metric", "condition"])
    from_notebook = pd.read_csv(export / "summary_by_condition_python.csv").set_index(
        ["metric", "condition"])
    for metric in METRICS:
        for condition in ("prediction", "explanation"):
            for column in ("estimate", "ci_low", "ci_high"):
                assert from_r.loc[(metric, condition), column] == pytest.approx(
                    from_notebook.loc[(metric, condition), column], rel=1e-9
                ), (metric, condition, column)


def test_pip_builds_the_same_wheel_from_the_repository_offline(
    export: Path, tmp_path: Path
) -> None:
    # Oracle: the build is reproducible, so pip's build from the checkout (through the
    # in-tree backend) and the export's vendored wheel must be the same bytes.
    run([sys.executable, "-m", "pip", "wheel", "--no-index", "--no-deps", "-w", tmp_path,
         REPOSITORY], cwd=tmp_path)
    built = tmp_path / "explainlab-0.1.0-py3-none-any.whl"
    assert built.read_bytes() == (export / built.name).read_bytes()
