"""Run R on a data frame for the live-oracle tests (marker ``r``), and say whether R can."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pandas as pd


def r_has_packages(*packages: str) -> bool:
    """Whether ``Rscript`` exists and loads every package (the tests skip otherwise)."""
    if shutil.which("Rscript") is None:
        return False
    loads = "; ".join(f"library({name})" for name in packages)
    probe = subprocess.run(["Rscript", "-e", loads], capture_output=True, check=False)
    return probe.returncode == 0


def run_r_json(script: str, data: pd.DataFrame, folder: Path) -> Any:
    """Write ``data`` as CSV, run ``script`` on it (path in ``commandArgs(TRUE)[1]``) and
    parse the JSON the script prints."""
    csv, source = folder / "data.csv", folder / "oracle.R"
    data.to_csv(csv, index=False)
    source.write_text(script)
    run = subprocess.run(["Rscript", str(source), str(csv)], capture_output=True, text=True,
                         check=True)
    return json.loads(run.stdout)
