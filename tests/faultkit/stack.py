"""What each fault run needs, its database, and the environment all its processes share.

No Django here: this is decided before Django is set up, because settings come from the
environment (``studyapp/settings.py``).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from urllib.parse import urlsplit, urlunsplit

import psycopg
from psycopg import sql


@dataclass(frozen=True)
class Needs:
    """What a scenario breaks, and so what it must own."""

    title: str
    private_postgres: bool = False  # it restarts PostgreSQL
    redis: bool = False  # it runs a broker and/or cache on a private Redis
    cache: bool = False  # participant pages use that Redis as their cache
    visibility_timeout: int | None = None  # seconds before an unacknowledged task returns


SCENARIOS: dict[str, Needs] = {
    "gunicorn_kill": Needs("gunicorn workers SIGKILLed mid-run; bots retry"),
    "pg_restart": Needs("PostgreSQL stopped and started mid-run; bots retry",
                        private_postgres=True),
    "redis_down": Needs("Redis (cache and broker) killed mid-run and mid-preparation",
                        redis=True, cache=True),
    "celery_kill": Needs("the Celery pool process, then the whole worker, SIGKILLed "
                         "mid-preparation", redis=True, visibility_timeout=10),
    "client_misbehaviour": Needs("clients re-send every POST, answer in two tabs, go back, "
                                 "come back after the time limit"),
}


def database_url_for(base_url: str, scenario: str) -> str:
    """A database of the run's own next to ``base_url``'s: ``<name>_faults_<scenario>``."""
    parts = urlsplit(base_url)
    name = parts.path.lstrip("/") or "explainlab"
    return urlunsplit(parts._replace(path="/" + f"{name}_faults_{scenario}"[:63]))


def _server_and_name(url: str) -> tuple[str, str]:
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path="/postgres")), parts.path.lstrip("/")


def database_recreate(url: str) -> None:
    """Drop (whoever is connected) and create the database of ``url``: every run starts
    from nothing, so runs repeat."""
    server, name = _server_and_name(url)
    with psycopg.connect(server, autocommit=True) as conn:
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)")
                     .format(sql.Identifier(name)))
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))


def database_drop(url: str) -> None:
    server, name = _server_and_name(url)
    with psycopg.connect(server, autocommit=True) as conn:
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)")
                     .format(sql.Identifier(name)))


def server_env(*, database_url: str, broker_url: str = "", cache_url: str = "",
               enrol_rate: int = 0, visibility_timeout: int | None = None) -> dict[str, str]:
    """The environment of the run's own process, gunicorn and Celery workers alike.

    Production settings (DEBUG off), except that cookies are not Secure because clients talk
    plain HTTP on loopback. Whatever the caller's environment says about services is
    replaced: a run touches only what it owns.
    """
    env = {**os.environ,
           "DJANGO_SETTINGS_MODULE": "studyapp.settings", "DEBUG": "0",
           "SECRET_KEY": "fault-runs-only-" + "k" * 40, "ALLOWED_HOSTS": "127.0.0.1,localhost",
           "SECURE_SSL_REDIRECT": "0", "SESSION_COOKIE_SECURE": "0", "CSRF_COOKIE_SECURE": "0",
           "DATABASE_URL": database_url, "CELERY_BROKER_URL": broker_url,
           "CACHE_URL": cache_url, "CELERY_TASK_ALWAYS_EAGER": "",
           "ENROL_RATE_PER_MINUTE": str(enrol_rate),
           "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1", "LOG_LEVEL": "WARNING"}
    env.pop("CELERY_VISIBILITY_TIMEOUT", None)
    if visibility_timeout is not None:
        env["CELERY_VISIBILITY_TIMEOUT"] = str(visibility_timeout)
    return env
