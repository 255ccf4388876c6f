"""Export at scale: a study with 1,000 participants and 100k events, streamed.

    .venv/bin/python benchmarks/bench_export.py [--participants 1000] [--events 100000]

Takes ``DATABASE_URL`` (default postgres://postgres@127.0.0.1:5432/h_export), which it DROPS
and creates (refusing if it holds participants who are not bots, unless --force), loads and
prepares the demo study, and enrols the participants through the enrolment service (each
with the trial plan a real arrival gets, balanced over the conditions). Every trial gets its
answer, every participant completes, and the events are spread over them (the shape the
event API stores, at most ``EVENTS_PER_PARTICIPANT`` each).

Then it streams the export archive as the researcher's download does, with a tenth of the
events and with all of them, and prints for each: seconds, archive bytes, rows, and the
peak of Python memory (tracemalloc, in a second pass so that it does not slow the timed
one). Time should grow with the data; memory should not. A benchmark: it checks that the
archive holds every answer and event, never the time.
"""

from __future__ import annotations

import argparse
import io
import os
import sys
import time
import tracemalloc
import zipfile
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.loadserver import database_prepare, server_env  # noqa: E402

DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/h_export"


def populate(study: Any, participants: int) -> None:
    """``participants`` bots enrolled, every trial answered, every one completed."""
    from django.db.models import Count, OuterRef, Subquery
    from django.utils import timezone

    from studyapp.models import Participant, Response, Trial
    from studyapp.services import enrolment

    for n in range(participants):
        enrolment.participant_enrol(study=study, is_bot=True, recruitment=enrolment.Recruitment(
            source="prolific", external_id=f"e{n:023x}"))
    trials = Trial.objects.filter(participant__study=study).select_related("item")
    Response.objects.bulk_create(
        (Response(trial=t, step="final", confidence=3, rt_ms=2500, idempotency_key=f"k{t.pk}",
                  answer=t.item.expected_answer or study.answer_options[0]["value"])
         for t in trials.iterator(chunk_size=2000)), batch_size=2000)
    Participant.objects.filter(study=study).update(
        trial_pointer=Subquery(Trial.objects.filter(participant=OuterRef("pk"))
                               .values("participant").annotate(n=Count("pk")).values("n")),
        status=Participant.Status.COMPLETED, stage=Participant.Stage.DONE,
        completed_at=timezone.now())


def add_events(study: Any, events: int) -> None:
    """``events`` client events, as many for each participant (explanation views and tab
    switches, with the detail the page sends)."""
    from studyapp.models import Event, Participant

    ids = list(Participant.objects.filter(study=study).values_list("pk", flat=True))
    kinds = ("explanation_shown", "page_hidden", "page_visible", "blur", "focus")
    Event.objects.bulk_create(
        (Event(participant_id=ids[k % len(ids)], kind=kinds[k % len(kinds)], page="trial",
               trial_index=k % 13, client_ms=1_700_000_000_000 + k,
               detail={"visible_ms": 1200 + k % 900, "viewport": "1280x720"})
         for k in range(events)), batch_size=5000)


def stream(study: Any) -> tuple[float, bytes]:
    """Seconds to stream the whole archive, and the archive."""
    from studyapp.services.exports import study_export_stream

    started = time.perf_counter()
    archive = b"".join(study_export_stream(study=study))
    return time.perf_counter() - started, archive


def peak_memory(study: Any) -> int:
    """Peak bytes Python allocated while the archive was streamed (and each chunk dropped,
    as a download does)."""
    from studyapp.services.exports import study_export_stream

    tracemalloc.start()
    for _ in study_export_stream(study=study):
        pass
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return peak


def rows(archive: bytes, slug: str) -> dict[str, int]:
    with zipfile.ZipFile(io.BytesIO(archive)) as files:
        return {name: files.read(f"{slug}/{name}").count(b"\n") - 1
                for name in ("trials.csv", "participants.csv", "events.csv")}


def measure(study: Any, label: str) -> dict[str, Any]:
    seconds, archive = stream(study)
    figures: dict[str, Any] = {"label": label, "seconds": seconds, "bytes": len(archive),
               "peak_bytes": peak_memory(study), "rows": rows(archive, study.slug)}
    print(f"{label:>18}: {seconds:6.2f} s, archive {len(archive) / 2**20:6.1f} MiB, "
          f"peak Python memory {figures['peak_bytes'] / 2**20:6.1f} MiB, rows {figures['rows']}")
    return figures


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--participants", type=int, default=1000)
    parser.add_argument("--events", type=int, default=100_000)
    parser.add_argument("--force", action="store_true",
                        help="drop the database even if it holds people's data")
    args = parser.parse_args(argv)
    database_url = os.getenv("DATABASE_URL") or DEFAULT_DATABASE_URL
    os.environ.update(server_env(database_url, enrol_rate=120))
    import django

    django.setup()
    from studyapp.models import Event, Response, Study

    print(f"database {database_url}: drop, create, migrate, load and prepare the demo study")
    database_prepare(database_url, force=args.force)
    study = Study.objects.get(slug="demo")
    started = time.perf_counter()
    populate(study, args.participants)
    print(f"{args.participants} participants enrolled and completed, "
          f"{Response.objects.count()} answers, in {time.perf_counter() - started:.0f} s")
    tenth = args.events // 10
    add_events(study, tenth)
    small = measure(study, f"{tenth:,} events")
    add_events(study, args.events - tenth)
    large = measure(study, f"{args.events:,} events")
    print(f"ratio {args.events:,} / {tenth:,} events: "
          f"time x{large['seconds'] / small['seconds']:.2f}, "
          f"peak memory x{large['peak_bytes'] / small['peak_bytes']:.2f}")
    expected = {"trials.csv": Response.objects.count(), "participants.csv": args.participants,
                "events.csv": Event.objects.filter(participant__study=study).count()}
    if large["rows"] != expected:
        print(f"FAILED: the archive's rows {large['rows']} are not the database's {expected}")
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
