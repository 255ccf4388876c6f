"""A real Celery worker (Redis broker, PostgreSQL) prepares a study, with visible progress."""

from __future__ import annotations

import os
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.db import connection

from studyapp import tasks
from studyapp.models import Study
from studyapp.services import studies
from tests.factories import small_spec, to_yaml
from tests.faultkit.procs import celery_worker_command

pytestmark = pytest.mark.integration
ROOT = Path(__file__).resolve().parents[2]


def _test_database_url() -> str:
    s = connection.settings_dict
    auth = s["USER"] + (f":{s['PASSWORD']}" if s["PASSWORD"] else "")
    return f"postgres://{auth}@{s['HOST'] or '127.0.0.1'}:{s['PORT'] or 5432}/{s['NAME']}"


@pytest.fixture
def worker(transactional_db) -> Iterator[subprocess.Popen[bytes]]:
    """A Celery worker process pointed at this test's database."""
    env = {**os.environ, "DATABASE_URL": _test_database_url(),
           "DJANGO_SETTINGS_MODULE": "studyapp.settings"}
    log = open(ROOT / "var" / "celery-worker-test.log", "wb")  # noqa: SIM115
    process = subprocess.Popen(
        celery_worker_command(), cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    yield process
    process.terminate()
    process.wait(timeout=30)
    log.close()


def _wait_for(study: Study, state: str, timeout: float = 300) -> Study:
    deadline = time.monotonic() + timeout
    seen_progress = set()
    while time.monotonic() < deadline:
        study.refresh_from_db()
        seen_progress.add(study.preparation_done)
        if study.preparation == state:
            return study
        time.sleep(0.2)
    raise AssertionError(f"preparation still {study.preparation} after {timeout}s "
                         f"(progress seen: {sorted(seen_progress)})")


def test_a_real_worker_prepares_a_study_and_reports_progress(worker, owner):
    from studyapp.celery import app

    assert not app.conf.task_always_eager
    study, _ = studies.study_load_spec(text=to_yaml(small_spec()), owner=owner)
    tasks.prepare_study.delay(study.pk)
    study = _wait_for(study, Study.Preparation.DONE)
    assert study.items.filter(role="pool").count() == 16
    assert study.preparation_done == study.preparation_total == 16
    explained = study.items.filter(explanations__method="tree_shap").count()
    assert explained == 16
