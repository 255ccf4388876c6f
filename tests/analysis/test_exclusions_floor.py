"""The absolute speeder floor: a median time per trial below the spec's minimum excludes,
whatever everyone else did. Oracle: hand-made participants whose trial times are planted
(the reported case: 13 trials in 7-10 seconds, where most participants rushed, so the
relative rule's median moved with them)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pandas as pd
import pytest

from analysis.exclusions import apply_exclusions, exclusion_flags, trial_seconds

START = datetime(2026, 12, 5, 9, 0, tzinfo=UTC)


def _iso(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")


def _study(seconds_per_trial: dict[str, float], n_trials: int = 13
           ) -> tuple[pd.DataFrame, pd.DataFrame]:
    trials, participants = [], []
    for pid, seconds in seconds_per_trial.items():
        at = START
        for index in range(n_trials):
            shown, at = at, at + timedelta(seconds=seconds)
            trials.append({"participant": pid, "trial_index": index, "trial_kind": "main",
                           "shown_at": _iso(shown), "answered_at": _iso(at),
                           "rt_ms": round(seconds * 1000), "correct": True, "is_bot": False})
        participants.append({"participant": pid, "condition": "shap", "status": "completed",
                             "duration_s": seconds * n_trials + 5, "is_bot": False,
                             "attention_passed": True})
    return pd.DataFrame(trials), pd.DataFrame(participants)


# Four of six rushed: 13 trials in 7.8 s, 9.1 s, 10.4 s; the median duration is theirs.
RUSHED = {"r1": 0.6, "r2": 0.6, "r3": 0.7, "r4": 0.8, "c1": 15.0, "c2": 22.0}


def test_the_relative_rule_alone_misses_a_study_where_most_rush():
    trials, participants = _study(RUSHED)
    flags = exclusion_flags(trials, participants, speeder_fraction=0.3)
    assert not flags["speeder"].any()


def test_the_absolute_floor_flags_every_rushed_participant():
    trials, participants = _study(RUSHED)
    result = apply_exclusions(trials, participants, min_seconds_per_trial=2.0)
    assert set(result.excluded["participant"]) == {"r1", "r2", "r3", "r4"}
    assert set(result.excluded["reason"]) == {"speeder"}
    assert sorted(result.participants["participant"]) == ["c1", "c2"]


def test_the_floor_alone_still_runs_the_speeder_step():
    trials, participants = _study(RUSHED)
    result = apply_exclusions(trials, participants, speeder_fraction=None,
                              min_seconds_per_trial=1.0)
    assert result.flow["reason"].tolist()[-1] == "speeder"
    assert result.flow["excluded"].tolist()[-1] == 4


def test_a_trial_s_time_is_the_servers_and_the_page_s_rt_where_missing():
    trials, _ = _study({"a": 3.0}, n_trials=2)
    assert trial_seconds(trials).tolist() == [3.0, 3.0]
    trials.loc[0, ["shown_at", "answered_at"]] = None
    trials.loc[0, "rt_ms"] = 1500
    assert trial_seconds(trials).tolist() == [1.5, 3.0]


def test_one_long_pause_does_not_hide_a_rushed_participant():
    """The median, not the mean: one 60-second trial among 0.5-second ones still rushes."""
    trials, participants = _study({"a": 0.5, "b": 10.0})
    first = trials.index[trials["participant"] == "a"][0]
    trials.loc[first, "answered_at"] = _iso(START + timedelta(seconds=60))
    flags = exclusion_flags(trials, participants, speeder_fraction=None,
                            min_seconds_per_trial=2.0)
    assert flags["speeder"].tolist() == [True, False]


def test_a_negative_floor_is_refused():
    trials, participants = _study(RUSHED)
    with pytest.raises(ValueError, match="min_seconds_per_trial"):
        exclusion_flags(trials, participants, min_seconds_per_trial=-1.0)


def test_the_r_script_carries_the_floor(tmp_path):  # type: ignore[no-untyped-def]
    from analysis.report import ReportOptions, build_r_script

    script = build_r_script(tmp_path, tmp_path / "analysis.R",
                            options=ReportOptions(min_seconds_per_trial=2.5)).read_text()
    floor_line = "min_seconds_per_trial <- 2.5"  # a line of R the script carries, not a timing
    assert floor_line in script
    off = build_r_script(tmp_path, tmp_path / "off.R", options=ReportOptions()).read_text()
    assert "min_seconds_per_trial <- NA" in off


@pytest.mark.r
def test_the_r_script_flags_the_same_rushed_participants(tmp_path):  # type: ignore[no-untyped-def]
    """Oracle: the Python rule above; the R script's exclusion block, run on the same CSVs."""
    import shutil
    import subprocess

    from analysis.report import ReportOptions, build_r_script

    rscript = shutil.which("Rscript")
    if rscript is None:
        pytest.skip("R is not installed")
    trials, participants = _study(RUSHED)
    trials.to_csv(tmp_path / "trials.csv", index=False)
    participants.to_csv(tmp_path / "participants.csv", index=False)
    script = build_r_script(tmp_path, tmp_path / "full.R",
                            options=ReportOptions(speeder_fraction=None,
                                                  min_seconds_per_trial=2.0)).read_text()
    exclusions_only = script.split("print(flow)")[0].replace("library(lme4)", "library(stats)")
    (tmp_path / "exclusions.R").write_text(
        exclusions_only + '\nwriteLines(participants$participant[speeder], "speeders.txt")\n')
    run = subprocess.run([rscript, str(tmp_path / "exclusions.R")], capture_output=True,
                         text=True, timeout=120, cwd=tmp_path)
    assert run.returncode == 0, run.stderr
    assert set((tmp_path / "speeders.txt").read_text().split()) == {"r1", "r2", "r3", "r4"}
