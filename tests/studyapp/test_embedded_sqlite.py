"""The embedded default (SQLite, no services) under concurrent participants over real HTTP.

A browser sends requests at once: the answer, and the page's event log (``fetch`` with
``keepalive``) as it leaves. On SQLite the test server used to share the test's one in-memory
connection between its request threads, so one request committed while another's statement
was still running: "503 … cannot commit transaction - SQL statements in progress". Oracle:
every bot is told its answers were stored (no 5xx, retries off so none is hidden), and the
export holds exactly what the bots were told (``reconcile``).
"""

from __future__ import annotations

import pytest
from django.db import connection

from studyapp.bots.reconcile import reconcile
from studyapp.bots.runner import run_bots, summarise
from studyapp.management.commands.runbots import bot_config
from studyapp.services.exports import participant_pseudonym, study_export_files
from tests.factories import make_study


@pytest.fixture
def live_study(transactional_db, owner, settings):  # type: ignore[no-untyped-def]
    settings.ENROL_RATE_PER_MINUTE = 0
    return make_study(owner)


def test_the_live_server_gives_each_request_its_own_database_connection(live_server):
    """On SQLite the test database is a file, as the embedded default's is: with an
    in-memory one the live server's request threads all share the test's connection."""
    if connection.vendor == "sqlite":
        assert not connection.is_in_memory_db()
    assert not live_server.thread.connections_override


def test_concurrent_participants_on_the_embedded_database_all_get_their_answers_stored(
        live_server, live_study):
    config = bot_config(live_study, base_url=live_server.url, behaviour="random", seed=5,
                        mischief=False)
    config.log_events = True  # the page's own concurrent event posts
    config.retry_seconds = 0.0  # a 503 must show, not be retried away
    results = run_bots(config, 6, concurrency=6)
    summary = summarise(results)
    assert summary["with_errors"] == 0, summary["errors"]
    assert summary["completed"] == 6
    trials_csv = study_export_files(study=live_study)["trials.csv"]
    assert reconcile(results, trials_csv,
                     lambda pid: participant_pseudonym(live_study, pid)) == []
