"""Fixtures shared by the analysis tests."""

from __future__ import annotations

import pandas as pd
import pytest

from analysis.io import load_export
from tests.analysis.data.handmade import TINY


@pytest.fixture(scope="module")
def tiny_trials() -> pd.DataFrame:
    """The tiny export's trials of the four human participants who finished (p1-p4); p5 is a
    bot and p6 returned early."""
    trials = load_export(TINY).trials
    return trials[trials["participant"].isin(["p1", "p2", "p3", "p4"])]
