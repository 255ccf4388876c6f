"""A timed load run: many bots at once against a running server, each HTTP request timed and
tagged with its page type, then the export checked against what the bots were told.

The server is whatever ``BotConfig.base_url`` points at; ``benchmarks/loadtest.py`` starts
gunicorn on PostgreSQL and prints these figures. Nothing here asserts on time.
"""

from __future__ import annotations

import multiprocessing
import threading
import time
from collections import Counter
from collections.abc import Mapping
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field, replace
from itertools import pairwise

import numpy as np

from studyapp.bots.reconcile import reconcile
from studyapp.bots.runner import BotConfig, BotResult, run_bots
from studyapp.models import Participant, Study
from studyapp.services.exports import participant_pseudonym, study_export_files

# The order of rows in a report: the participant's path.
PAGE_ORDER = ("arrival", "consent GET", "consent POST", "instructions GET",
              "instructions POST", "comprehension GET", "comprehension POST", "trial GET",
              "event POST", "answer POST", "questionnaire GET", "questionnaire POST",
              "done GET")


@dataclass(frozen=True)
class Sample:
    """One HTTP request as the client saw it (``at``: monotonic time when it finished)."""

    request_id: str
    page_type: str
    seconds: float
    status: int
    at: float


class LatencyLog:
    """A thread-safe ``RequestObserver`` that keeps every sample."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.samples: list[Sample] = []

    def __call__(self, request_id: str, page_type: str, seconds: float, status: int) -> None:
        sample = Sample(request_id, page_type, seconds, status, time.monotonic())
        with self._lock:
            self.samples.append(sample)


@dataclass(frozen=True)
class Percentiles:
    """Milliseconds."""

    p50: float
    p95: float
    p99: float

    @classmethod
    def of(cls, seconds: list[float]) -> Percentiles | None:
        if not seconds:
            return None
        p50, p95, p99 = np.percentile(np.array(seconds) * 1000, [50, 95, 99])
        return cls(float(p50), float(p95), float(p99))

    def __str__(self) -> str:
        return f"{self.p50:>8.1f}{self.p95:>8.1f}{self.p99:>8.1f}"


@dataclass(frozen=True)
class PageStats:
    """One page type: latency as the client saw it and, when the server reported it, as the
    server timed it (from request parsed to response written: no queueing, no client)."""

    page_type: str
    count: int
    client: Percentiles
    server: Percentiles | None
    errors_5xx: int


@dataclass
class LoadRun:
    """What one run measured on the client side."""

    participants: int
    wall_seconds: float
    client_cpu_seconds: float
    peak_concurrency: int
    results: list[BotResult]
    samples: list[Sample] = field(default_factory=list)

    def _stored(self) -> list[Sample]:
        """The answer posts the server accepted (a refused one re-renders with a 4xx)."""
        return [s for s in self.samples if s.page_type == "answer POST" and s.status < 400]

    @property
    def answers(self) -> int:
        return len(self._stored())

    @property
    def answers_per_second(self) -> float:
        return self.answers / self.wall_seconds if self.wall_seconds else 0.0

    def peak_answers_per_second(self, window: float = 5.0) -> float:
        """The most answers stored in any ``window`` seconds, per second."""
        times = np.sort([s.at for s in self._stored()])
        if len(times) == 0:
            return 0.0
        in_window = np.searchsorted(times, times + window) - np.arange(len(times))
        return float(in_window.max()) / window

    def p95_over_time(self, page_types: tuple[str, ...], window: float = 10.0
                      ) -> list[tuple[float, int, float]]:
        """(seconds into the run, requests, p95 ms) of these page types per ``window``, to
        tell a slow moment (the arrivals, someone else's job) from a slow server."""
        chosen = [s for s in self.samples if s.page_type in page_types]
        if not chosen:
            return []
        start = min(s.at - s.seconds for s in self.samples)
        slots: dict[int, list[float]] = {}
        for s in chosen:
            slots.setdefault(int((s.at - start) // window), []).append(s.seconds * 1000)
        return [(k * window, len(v), float(np.percentile(v, 95)))
                for k, v in sorted(slots.items())]

    @property
    def server_errors(self) -> int:
        """5xx answers the bots ended up with (after any retries)."""
        return sum(1 for s in self.samples if s.status >= 500)

    @property
    def retries(self) -> int:
        """Requests the bots had to send again (connection lost, 502/503/504)."""
        return sum(len(r.retries) for r in self.results)

    def stats(self, server_seconds: Mapping[str, float] | None = None) -> list[PageStats]:
        """Per page type, in the order of the participant's path."""
        by_type: dict[str, list[Sample]] = {}
        for sample in self.samples:
            by_type.setdefault(sample.page_type, []).append(sample)
        ordered = [t for t in PAGE_ORDER if t in by_type]
        ordered += sorted(set(by_type) - set(ordered))
        return [_page_stats(t, by_type[t], server_seconds or {}) for t in ordered]


def _page_stats(page_type: str, samples: list[Sample],
                server_seconds: Mapping[str, float]) -> PageStats:
    client = Percentiles.of([s.seconds for s in samples])
    assert client is not None, "a page type is only listed once it has samples"
    server = Percentiles.of([server_seconds[s.request_id] for s in samples
                             if s.request_id in server_seconds])
    return PageStats(page_type, len(samples), client, server,
                     errors_5xx=sum(1 for s in samples if s.status >= 500))


@dataclass
class _Share:
    """What one client process brings back: its bots' results and samples, and its CPU."""

    results: list[BotResult]
    samples: list[Sample]
    cpu_seconds: float


def _play_share(config: BotConfig, numbers: range, ramp: range, ramp_seconds: float,
                start_at: float) -> _Share:
    """Bots ``numbers``, part of the bots ``ramp`` that start one by one over
    ``ramp_seconds`` from ``start_at``: each starts where the whole ramp puts it."""
    log, cpu = LatencyLog(), time.process_time()
    step = ramp_seconds / max(len(ramp), 1)
    results = run_bots(replace(config, observer=log), len(numbers), concurrency=len(numbers),
                       ramp_seconds=step * len(numbers), first=numbers.start,
                       start_at=start_at + step * (numbers.start - ramp.start))
    return _Share(results, log.samples, time.process_time() - cpu)


def load_run(config: BotConfig, participants: int, *, ramp_seconds: float = 0.0,
             first: int = 0, processes: int = 1) -> LoadRun:
    """Run ``participants`` bots all at once (started over ``ramp_seconds``), timing every
    request. With ``processes`` > 1 the bots are shared among that many forked client
    processes, so that waiting for one client's interpreter lock does not add to the
    latencies it measures. Client CPU is that of all client threads and processes, to show
    whether the bots themselves were a bottleneck."""
    everyone = range(first, first + participants)
    bounds = np.linspace(first, first + participants, max(processes, 1) + 1).astype(int)
    shares = [range(int(lo), int(hi)) for lo, hi in pairwise(bounds) if hi > lo]
    cpu, start = time.process_time(), time.monotonic()
    if len(shares) == 1:
        played = [_play_share(config, everyone, everyone, ramp_seconds, start)]
    else:
        # fork: the children only speak HTTP, never to the parent's database connection.
        context = multiprocessing.get_context("fork")
        with ProcessPoolExecutor(len(shares), mp_context=context) as pool:
            n = len(shares)
            played = list(pool.map(_play_share, [config] * n, shares, [everyone] * n,
                                   [ramp_seconds] * n, [start] * n))
    samples = [sample for share in played for sample in share.samples]
    client_cpu = time.process_time() - cpu if len(shares) == 1 else sum(
        share.cpu_seconds for share in played)
    return LoadRun(participants=participants, wall_seconds=time.monotonic() - start,
                   client_cpu_seconds=client_cpu, peak_concurrency=peak_concurrency(samples),
                   results=[r for share in played for r in share.results], samples=samples)


def peak_concurrency(samples: list[Sample]) -> int:
    """The most bots mid-walk at once: each from the start of its first request to the end
    of its last (request ids are ``<bot>-<n>``)."""
    spans: dict[str, tuple[float, float]] = {}
    for s in samples:
        bot = s.request_id.rsplit("-", 1)[0]
        begun, ended = spans.get(bot, (s.at - s.seconds, s.at))
        spans[bot] = (min(begun, s.at - s.seconds), max(ended, s.at))
    edges = sorted([(b, 1) for b, _ in spans.values()] + [(e, -1) for _, e in spans.values()])
    return int(max(np.cumsum([change for _, change in edges]), default=0))


def export_problems(study: Study, results: list[BotResult]) -> list[str]:
    """Every answer a bot was told was saved is in the export exactly once (and nothing
    else of theirs is), and conditions are balanced within one."""
    trials_csv = study_export_files(study=study)["trials.csv"]
    problems = reconcile(results, trials_csv, lambda pid: participant_pseudonym(study, pid))
    counts = condition_counts(study)
    if counts and max(counts.values()) - min(counts.values()) > 1:
        problems.append(f"conditions are not balanced within one: {counts}")
    return problems


def condition_counts(study: Study) -> dict[str, int]:
    """Participants per condition (previews excluded), every condition listed."""
    counts = Counter(Participant.objects.filter(study=study, is_preview=False)
                     .values_list("condition__name", flat=True))
    return {c.name: counts.get(c.name, 0) for c in study.conditions.all()}


def format_table(stats: list[PageStats]) -> str:
    """A fixed-width table: count, client p50/p95/p99 and server p50/p95/p99 in ms."""
    lines = [f"{'page type':<20}{'count':>6}  {'p50':>8}{'p95':>8}{'p99':>8}  "
             f"{'srv p50':>8}{'srv p95':>8}{'srv p99':>8}{'5xx':>5}"]
    for s in stats:
        server = str(s.server) if s.server else f"{'-':>8}{'-':>8}{'-':>8}"
        lines.append(f"{s.page_type:<20}{s.count:>6}  {s.client}  {server}{s.errors_5xx:>5}")
    return "\n".join(lines)
