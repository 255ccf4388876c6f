"""The production stack on one machine, with one command: ``make stack`` (or
``python deploy/stack.py``).

nginx (the only public port) → gunicorn (gthread, loopback) → Django, with a Celery worker and
Celery beat, against PostgreSQL and Redis. The services' addresses come from the environment
(defaults: the local PostgreSQL and Redis); the database is created if missing and migrated,
static files are collected for nginx to serve. Ctrl-C (or SIGTERM) stops every process.

Plain HTTP on the chosen port: a lab's server terminates TLS in nginx (add `listen 443 ssl`
and its certificate to deploy/nginx.conf) or in front of it; set ``SECURE_SSL_REDIRECT=1``
then. The integration tests, the load run and the slow-connection run start this same stack.
"""

from __future__ import annotations

import argparse
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit
from urllib.request import urlopen

ROOT = Path(__file__).resolve().parents[1]
DEPLOY = ROOT / "deploy"
NGINX = shutil.which("nginx") or "/usr/sbin/nginx"


@dataclass
class StackConfig:
    """Where the stack listens, what it talks to, and how big it is."""

    port: int = 8080
    database_url: str = "postgres://postgres@127.0.0.1:5432/explainlab"
    broker_url: str = "redis://127.0.0.1:6379/0"
    cache_url: str = "redis://127.0.0.1:6379/1"
    directory: Path = ROOT / "var" / "stack"
    gunicorn_workers: int = 4
    gunicorn_threads: int = 4
    celery: bool = True  # a worker and beat; off for runs that need only the web tier
    access_log: bool = False
    extra_env: dict[str, str] = field(default_factory=dict)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def stack_env(config: StackConfig) -> dict[str, str]:
    """Production settings behind one trusted proxy (nginx), on plain HTTP loopback."""
    secret_file = config.directory / "secret_key"
    if not secret_file.exists():
        secret_file.write_text(secrets.token_urlsafe(50))
        secret_file.chmod(0o600)
    return {**os.environ,
            "DJANGO_SETTINGS_MODULE": "studyapp.settings", "DEBUG": "0",
            "SECRET_KEY": os.environ.get("SECRET_KEY") or secret_file.read_text().strip(),
            "ALLOWED_HOSTS": os.environ.get("ALLOWED_HOSTS", "127.0.0.1,localhost"),
            "TRUSTED_PROXIES": "1",
            "SECURE_SSL_REDIRECT": os.environ.get("SECURE_SSL_REDIRECT", "0"),
            "SESSION_COOKIE_SECURE": os.environ.get("SESSION_COOKIE_SECURE", "0"),
            "CSRF_COOKIE_SECURE": os.environ.get("CSRF_COOKIE_SECURE", "0"),
            "DATABASE_URL": config.database_url, "CELERY_BROKER_URL": config.broker_url,
            "CACHE_URL": config.cache_url, "CELERY_TASK_ALWAYS_EAGER": "",
            "STATIC_ROOT": str(config.directory / "static"),
            "EXPLAINLAB_VAR_DIR": str(config.directory / "var"),
            "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1",
            **config.extra_env}


def database_ensure(url: str) -> None:
    """Create the stack's database when it does not exist yet (never drops anything)."""
    import psycopg
    from psycopg import sql

    parts = urlsplit(url)
    name = parts.path.lstrip("/")
    server = urlunsplit(parts._replace(path="/postgres"))
    with psycopg.connect(server, autocommit=True) as conn:
        found = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone()
        if not found:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))


def nginx_conf(directory: Path, *, port: int, gunicorn_port: int,
               access_log: bool = False) -> Path:
    """deploy/nginx.conf with these ports filled in; its files live under ``directory``
    (``nginx/`` for its own, ``static/`` for the collected static files)."""
    prefix = directory / "nginx"
    for sub in ("body", "proxy", "fastcgi", "uwsgi", "scgi"):
        (prefix / "tmp" / sub).mkdir(parents=True, exist_ok=True)
    # Running as root (CI, a container): nginx's workers drop to www-data, which must be able
    # to write its buffers and read the static files.
    as_root = os.geteuid() == 0
    if as_root:
        _readable_by_others(directory)
        for path in [prefix / "tmp", *(prefix / "tmp").iterdir()]:
            shutil.chown(path, user="www-data")
    text = (DEPLOY / "nginx.conf").read_text().format(
        user_directive="user www-data;" if as_root else "",
        prefix=prefix, listen=f"127.0.0.1:{port}", gunicorn_port=gunicorn_port,
        static_root=directory / "static", max_body="10m",
        access_log=f"{prefix}/access.log" if access_log else "off")
    path = prefix / "nginx.conf"
    path.write_text(text)
    return path


@contextmanager
def nginx_front(directory: Path, *, port: int, gunicorn_port: int,
                access_log: bool = False) -> Iterator[str]:
    """nginx on 127.0.0.1:``port`` in front of gunicorn's ``gunicorn_port``; its URL.
    The load and fault harnesses put their gunicorn behind it as a deployment would."""
    conf = nginx_conf(directory, port=port, gunicorn_port=gunicorn_port, access_log=access_log)
    with open(directory / "nginx.log", "ab") as log:  # the child keeps its copy
        process = subprocess.Popen([NGINX, "-p", str(conf.parent), "-c", str(conf),
                                    "-g", "daemon off;"], cwd=ROOT, stdout=log,
                                   stderr=subprocess.STDOUT, start_new_session=True)
    try:
        deadline = time.monotonic() + 20
        while not _accepts(port):
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"nginx did not start: see {directory / 'nginx.log'} and "
                                   f"{conf.parent / 'nginx-error.log'}")
            time.sleep(0.1)
        yield f"http://127.0.0.1:{port}"
    finally:
        _stop({"nginx": process})


def _accepts(port: int) -> bool:
    with socket.socket() as probe:
        probe.settimeout(1)
        return probe.connect_ex(("127.0.0.1", port)) == 0


def _readable_by_others(directory: Path) -> None:
    """nginx's www-data workers must be able to reach the static files under ``directory``."""
    for folder in directory.parents:
        if not folder.stat().st_mode & 0o001:
            raise RuntimeError(f"{folder} is closed to other users, so nginx (www-data) could "
                               f"not serve the static files: choose a stack directory that "
                               f"other users may traverse")


def _manage(env: dict[str, str], *args: str) -> None:
    subprocess.run([sys.executable, "manage.py", *args], cwd=ROOT, env=env, check=True,
                   stdout=subprocess.DEVNULL)


def _processes(config: StackConfig, env: dict[str, str]) -> dict[str, list[str]]:
    commands = {
        "gunicorn": [sys.executable, "-m", "gunicorn", "studyapp.wsgi:application",
                     "--config", str(DEPLOY / "gunicorn.conf.py")],
    }
    if config.celery:
        commands["celery-worker"] = [sys.executable, "-m", "celery", "-A", "studyapp",
                                     "worker", "--concurrency=2", "--loglevel=INFO",
                                     "--without-gossip", "--without-mingle"]
        commands["celery-beat"] = [sys.executable, "-m", "celery", "-A", "studyapp", "beat",
                                   "--loglevel=INFO", "--schedule",
                                   str(config.directory / "celerybeat-schedule")]
    return commands


def _healthy(url: str) -> bool:
    try:
        with urlopen(f"{url}/healthz", timeout=3) as answer:
            return bool(answer.status == 200)
    except OSError:
        return False


def _worker_ready(config: StackConfig) -> bool:
    """The Celery worker has connected to the broker and taken its queue (or there is none)."""
    log = config.directory / "celery-worker.log"
    return not config.celery or (log.exists() and " ready." in log.read_text(errors="replace"))


def _stop(children: dict[str, subprocess.Popen[bytes]]) -> None:
    for process in children.values():
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGTERM)
    deadline = time.monotonic() + 15
    for process in children.values():
        try:
            process.wait(timeout=max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


@contextmanager
def running_stack(config: StackConfig, *, ready_timeout: float = 180) -> Iterator[StackConfig]:
    """Start the whole stack, wait until nginx answers /healthz, stop it all on exit."""
    config.directory.mkdir(parents=True, exist_ok=True)
    config.directory.chmod(0o755)  # nginx's workers read static/ (the secret stays 0600)
    env = stack_env(config) | {"GUNICORN_PORT": str(free_port()),
                               "GUNICORN_WORKERS": str(config.gunicorn_workers),
                               "GUNICORN_THREADS": str(config.gunicorn_threads)}
    database_ensure(config.database_url)
    _manage(env, "migrate", "--noinput")
    _manage(env, "collectstatic", "--noinput")
    children: dict[str, subprocess.Popen[bytes]] = {}
    try:
        for name, command in _processes(config, env).items():
            with open(config.directory / f"{name}.log", "ab") as log:  # the child's copy
                children[name] = subprocess.Popen(command, cwd=ROOT, env=env, stdout=log,
                                                  stderr=subprocess.STDOUT,
                                                  start_new_session=True)
        with nginx_front(config.directory, port=config.port,
                         gunicorn_port=int(env["GUNICORN_PORT"]),
                         access_log=config.access_log):
            _wait_ready(config, children, ready_timeout)
            yield config
    finally:
        _stop(children)


def _wait_ready(config: StackConfig, children: dict[str, subprocess.Popen[bytes]],
                ready_timeout: float) -> None:
    deadline = time.monotonic() + ready_timeout
    while not (_healthy(config.url) and _worker_ready(config)):
        dead = [name for name, p in children.items() if p.poll() is not None]
        if dead or time.monotonic() > deadline:
            raise RuntimeError(f"the stack did not start ({', '.join(dead) or 'timeout'}); "
                               f"see the logs in {config.directory}")
        time.sleep(0.5)


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt  # SIGTERM stops the stack as Ctrl-C does


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--port", type=int, default=int(os.environ.get("PORT", "8080")))
    parser.add_argument("--workers", type=int, default=4, help="gunicorn worker processes")
    parser.add_argument("--threads", type=int, default=4, help="threads per gunicorn worker")
    parser.add_argument("--no-celery", action="store_true", help="web tier only")
    parser.add_argument("--access-log", action="store_true")
    args = parser.parse_args(argv)
    config = StackConfig(
        port=args.port, gunicorn_workers=args.workers, gunicorn_threads=args.threads,
        celery=not args.no_celery, access_log=args.access_log,
        database_url=os.environ.get("DATABASE_URL", StackConfig.database_url),
        broker_url=os.environ.get("CELERY_BROKER_URL", StackConfig.broker_url),
        cache_url=os.environ.get("CACHE_URL", StackConfig.cache_url))
    signal.signal(signal.SIGTERM, _interrupt)
    with running_stack(config):
        print(f"ExplainLab stack: {config.url}/ (nginx → gunicorn {args.workers}x{args.threads}"
              f"{', Celery worker + beat' if config.celery else ''}); logs in "
              f"{config.directory}. Ctrl-C stops it.", flush=True)
        try:
            while True:
                time.sleep(3600)
        except KeyboardInterrupt:
            print("stopping…", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
