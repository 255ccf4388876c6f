"""The production stack (deploy/stack.py: nginx → gunicorn → Django, Celery worker and beat,
PostgreSQL, Redis) starts with one command and keeps serving under slow connections.

Oracle: a visitor's probes of /healthz and a database-backed page during 200 slow
connections held for 20 s. Through nginx every probe is answered; the same attack on
gunicorn's own port (what the repository shipped before) leaves probes unanswered — which
shows the attack is real and the test can fail.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from deploy.stack import StackConfig, free_port, running_stack
from tests.faultkit.slowclients import attack
from tests.faultkit.stack import database_drop, database_url_for

pytestmark = [pytest.mark.integration, pytest.mark.slow]
# Not a private temporary folder: nginx's workers (www-data) must reach the static files.
VAR = Path(__file__).resolve().parents[2] / "var"
VAR.mkdir(exist_ok=True)


@pytest.fixture(scope="module")
def stack() -> Iterator[StackConfig]:
    base = os.environ["DATABASE_URL"]
    database = database_url_for(base, "stack")
    broker = os.environ["CELERY_BROKER_URL"].rsplit("/", 1)[0]
    config = StackConfig(port=free_port(), database_url=database, broker_url=f"{broker}/12",
                         cache_url=f"{broker}/13", gunicorn_workers=2, gunicorn_threads=4,
                         directory=Path(tempfile.mkdtemp(prefix="stack-", dir=VAR)))
    try:
        with running_stack(config):
            yield config
    finally:
        database_drop(database)
        shutil.rmtree(config.directory, ignore_errors=True)


def test_one_command_starts_nginx_gunicorn_and_celery(stack):
    page = requests.get(f"{stack.url}/accounts/login/", timeout=10)
    assert page.status_code == 200 and page.headers["Server"] == "nginx"
    assert "Content-Security-Policy" in page.headers
    css = requests.get(f"{stack.url}/static/css/explainlab.css", timeout=10)
    assert css.status_code == 200  # served by nginx from the collected static files
    logs = {name: (stack.directory / f"{name}.log").read_text(errors="replace")
            for name in ("celery-worker", "celery-beat")}
    assert " ready." in logs["celery-worker"]
    assert "beat: Starting" in logs["celery-beat"]


def test_oversized_bodies_stop_at_nginx(stack):
    response = requests.post(f"{stack.url}/accounts/login/", data=b"x" * (11 * 2**20),
                             timeout=30)
    assert response.status_code == 413


def test_slow_connections_do_not_silence_the_stack(stack):
    seen = attack(stack.url, connections=200, seconds=20, probe_paths=("/healthz",
                                                                       "/accounts/login/"))
    for path, result in seen.items():
        assert result.served == len(result.statuses) >= 5, (path, result.statuses)


def test_the_same_attack_silences_gunicorn_alone(stack):
    """The control: gunicorn's own port, with no nginx in front."""
    gunicorn_port = _gunicorn_port(stack)
    seen = attack(f"http://127.0.0.1:{gunicorn_port}", connections=200, seconds=15,
                  probe_paths=("/healthz",), probe_timeout=3)
    assert seen["/healthz"].served < len(seen["/healthz"].statuses)


def _gunicorn_port(stack: StackConfig) -> int:
    conf = (stack.directory / "nginx" / "nginx.conf").read_text()
    return int(conf.split("server 127.0.0.1:")[1].split(";")[0])
