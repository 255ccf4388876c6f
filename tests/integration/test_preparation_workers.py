"""Two real Celery workers (Redis broker, PostgreSQL) share one study's preparation chunks.

Oracle: each worker's own log names the chunk tasks it ran; the stored rows are counted in the
database (one per item and method, none twice).
"""

from __future__ import annotations

import os
import re
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from studyapp import tasks
from studyapp.models import Explanation, Study
from studyapp.services import studies
from tests.factories import small_spec, to_yaml
from tests.faultkit.procs import celery_worker_command
from tests.integration.test_celery_worker import _test_database_url, _wait_for

pytestmark = pytest.mark.integration
ROOT = Path(__file__).resolve().parents[2]
CHUNK_DONE = re.compile(r"Task studyapp\.tasks\.prepare_chunk\[[^\]]+\] succeeded")


@pytest.fixture
def two_workers(transactional_db) -> Iterator[list[Path]]:
    """Two single-process workers on this test's database; yields their log files."""
    env = {**os.environ, "DATABASE_URL": _test_database_url(),
           "DJANGO_SETTINGS_MODULE": "studyapp.settings", "PREPARATION_CHUNK_SIZE": "2",
           "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1",
           # Unbuffered, so that each log shows its chunks as they finish (the oracle).
           "PYTHONUNBUFFERED": "1"}
    logs = [ROOT / "var" / f"celery-prep-worker-{n}.log" for n in (1, 2)]
    processes = []
    for n, path in enumerate(logs, start=1):
        with open(path, "wb") as log:
            processes.append(subprocess.Popen(
                celery_worker_command(hostname=f"prep{n}@%h"),
                cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT))
    # Both must be listening before the chunks are queued, or the first could take them all.
    deadline = time.monotonic() + 120
    while not all(" ready." in path.read_text(errors="replace") for path in logs):
        assert time.monotonic() < deadline, "the workers did not start; see " + str(logs)
        time.sleep(0.2)
    yield logs
    for process in processes:
        process.terminate()
    for process in processes:
        process.wait(timeout=30)


def test_two_workers_both_take_chunks_and_every_explanation_is_stored_once(two_workers, owner):
    spec = small_spec(trials={"count": 4, "pool_size": 24, "attention_checks": 1}, conditions=[
        {"name": "no_ai", "label": "No AI", "show_ai": False},
        {"name": "ai_lime", "label": "AI + LIME",
         "explanation": {"method": "lime", "quality": "basic", "params": {"num_samples": 500}}}])
    study, _ = studies.study_load_spec(text=to_yaml(spec), owner=owner)
    tasks.prepare_study.delay(study.pk)
    study = _wait_for(study, Study.Preparation.DONE)
    assert study.preparation_done == study.preparation_total == 24
    assert Explanation.objects.filter(item__study=study, method="lime").count() == 24
    # The study is marked done inside the last chunk, a moment before its worker logs it.
    deadline = time.monotonic() + 30
    while sum(_chunks_run(two_workers)) < 12 and time.monotonic() < deadline:
        time.sleep(0.2)
    chunks_run = _chunks_run(two_workers)
    assert sum(chunks_run) == 12  # 24 explanations in chunks of 2, none run twice
    assert all(n > 0 for n in chunks_run), f"chunks per worker: {chunks_run}"


def _chunks_run(logs: list[Path]) -> list[int]:
    return [len(CHUNK_DONE.findall(log.read_text(errors="replace"))) for log in logs]
