"""The launch-day load test in a reduced form: 30 participants at once complete the demo study
through nginx and gunicorn on PostgreSQL (the harness of ``benchmarks/loadtest.py``), and no
answer is lost or doubled, no request fails. Correctness only: nothing here asserts on time."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

import pytest
import requests
from django.db import connection

from benchmarks.loadserver import gunicorn, server_env
from benchmarks.loadtest import bot_config_for
from studyapp.bots.load import export_problems, load_run
from studyapp.bots.runner import summarise
from studyapp.models import Study
from studyapp.services import preparation, studies
from tests.faultkit.procs import free_port

pytestmark = pytest.mark.integration
ROOT = Path(__file__).resolve().parents[2]
DEMO = ROOT / "examples" / "studies" / "demo.yaml"
PARTICIPANTS = 30


def _test_database_url() -> str:
    s = connection.settings_dict
    auth = s["USER"] + (f":{s['PASSWORD']}" if s["PASSWORD"] else "")
    return f"postgres://{auth}@{s['HOST'] or '127.0.0.1'}:{s['PORT'] or 5432}/{s['NAME']}"


@pytest.fixture
def demo_study(transactional_db: None, owner: Any) -> Study:
    study, _ = studies.study_load_spec(text=DEMO.read_text(encoding="utf-8"), owner=owner)
    preparation.study_prepare(study=study)
    studies.study_set_status(study=study, status="open")
    return study


def test_thirty_participants_at_once_through_nginx_and_gunicorn_lose_no_answer(demo_study):
    env = server_env(_test_database_url(), enrol_rate=10 * PARTICIPANTS)
    # Not a private temporary folder: nginx's workers (www-data) use its buffers.
    log_dir = Path(tempfile.mkdtemp(prefix="loadtest-", dir=ROOT / "var"))
    log_dir.chmod(0o755)
    with gunicorn(env, port=free_port(), workers=2, threads=4, log_dir=log_dir) as server:
        assert requests.get(f"{server.base_url}/healthz", timeout=5).headers["Server"] == \
            "nginx"
        config = bot_config_for(demo_study, server.base_url, seed=11, think=(0.0, 0.2))
        run = load_run(config, PARTICIPANTS, ramp_seconds=3.0, processes=2)
        timed_by_server = server.server_seconds()
        server_errors = server.server_errors()
    summary = summarise(run.results)
    assert summary["with_errors"] == 0, summary["errors"]
    assert summary["completed"] == PARTICIPANTS
    assert server_errors == 0 and run.server_errors == 0 and run.retries == 0
    assert export_problems(demo_study, run.results) == []
    assert run.peak_concurrency > 1
    # Every request was tagged and timed by the server too (the report joins the two).
    assert {s.request_id for s in run.samples} <= set(timed_by_server)
    page_types = {s.page_type for s in run.stats(timed_by_server)}
    assert {"arrival", "trial GET", "answer POST", "event POST", "done GET"} <= page_types
