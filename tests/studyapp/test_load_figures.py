"""The figures of a load run, from hand-made samples: page types in the participant's order,
the server's own timings joined by request id, concurrency and throughput."""

from __future__ import annotations

import pytest

from studyapp.bots.load import LoadRun, Sample, format_table, peak_concurrency
from studyapp.bots.runner import BotResult


def _run(samples: list[Sample]) -> LoadRun:
    return LoadRun(participants=2, wall_seconds=10.0, client_cpu_seconds=1.0,
                   peak_concurrency=peak_concurrency(samples), results=[BotResult("A")],
                   samples=samples)


def test_pages_are_listed_in_the_participants_order_with_client_and_server_percentiles():
    samples = [Sample(f"A-{n}", "answer POST", 0.010 * n, 303, float(n)) for n in range(1, 6)]
    samples += [Sample("A-9", "arrival", 0.050, 303, 0.5)]
    stats = _run(samples).stats({"A-1": 0.001, "A-2": 0.002})
    assert [s.page_type for s in stats] == ["arrival", "answer POST"]
    answers = stats[1]
    assert answers.count == 5 and answers.client.p50 == pytest.approx(30.0)
    assert answers.server is not None and answers.server.p50 == pytest.approx(1.5)
    assert stats[0].server is None  # the server did not report that request
    assert "answer POST" in format_table(stats)


def test_concurrency_counts_bots_between_their_first_and_last_request():
    # A: 0-10 s; B: 5-20 s; C: 30-31 s -> at most two at once.
    samples = [Sample("A-1", "arrival", 1.0, 303, 1.0), Sample("A-2", "done GET", 1.0, 200, 10.0),
               Sample("B-1", "arrival", 1.0, 303, 6.0), Sample("B-2", "done GET", 1.0, 200, 20.0),
               Sample("C-1", "arrival", 1.0, 303, 31.0)]
    assert peak_concurrency(samples) == 2


def test_throughput_counts_stored_answers_only():
    samples = [Sample(f"A-{n}", "answer POST", 0.01, 303, n * 0.5) for n in range(10)]
    samples.append(Sample("A-99", "answer POST", 0.01, 400, 1.0))  # refused: not stored
    run = _run(samples)
    assert run.answers == 10
    assert run.answers_per_second == pytest.approx(1.0)
    assert run.peak_answers_per_second(window=5.0) == pytest.approx(2.0)
