"""The export benchmark (benchmarks/bench_export.py) builds what it says, at a small size:
participants enrolled through the service with their plans, every trial answered, every
participant completed, the events spread over them, and an archive that holds them all.
Oracle: the database's own counts. Time and memory are printed by the benchmark, never
asserted here."""

from __future__ import annotations

import pytest

from benchmarks import bench_export
from studyapp.models import Event, Participant, Response, Trial

pytestmark = pytest.mark.django_db


def test_the_export_benchmark_fills_a_study_and_its_archive_holds_every_row(study, capsys):
    bench_export.populate(study, 4)
    bench_export.add_events(study, 30)
    participants = Participant.objects.filter(study=study)
    assert participants.count() == 4
    assert set(participants.values_list("status", flat=True)) == {"completed"}
    for participant in participants:
        assert participant.trial_pointer == participant.trials.count() > 0
    assert Response.objects.count() == Trial.objects.filter(participant__study=study).count()
    figures = bench_export.measure(study, "30 events")
    assert figures["rows"] == {
        "trials.csv": Response.objects.count(), "participants.csv": 4,
        "events.csv": Event.objects.filter(participant__study=study).count()}
    assert figures["peak_bytes"] > 0 and "30 events" in capsys.readouterr().out
