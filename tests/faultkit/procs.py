"""The processes a fault run starts, owns, breaks and stops. No Django here.

Everything runs on free loopback ports; PostgreSQL and Redis instances are private to the run
(their own data directory and port), so that restarting or killing them disturbs no one else
using the machine's shared services.
"""

from __future__ import annotations

import contextlib
import glob
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from types import TracebackType
from typing import Any

import requests

from deploy.stack import nginx_front

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def wait_until(condition: Callable[[], bool], *, timeout: float, what: str,
               interval: float = 0.1) -> float:
    """Poll until ``condition()`` holds; returns the seconds waited, or raises TimeoutError."""
    start = time.monotonic()
    while not condition():
        if time.monotonic() - start > timeout:
            raise TimeoutError(f"still waiting after {timeout:.0f}s for {what}")
        time.sleep(interval)
    return time.monotonic() - start


def children(pid: int) -> list[int]:
    """The direct child processes of ``pid`` (Linux)."""
    try:
        text = Path(f"/proc/{pid}/task/{pid}/children").read_text()
    except OSError:
        return []
    return [int(part) for part in text.split()]


def established_sockets(port: int) -> set[str]:
    """The inodes of the open (ESTABLISHED) TCP connections whose local port is ``port``."""
    inodes: set[str] = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        with contextlib.suppress(OSError):
            for line in Path(table).read_text().splitlines()[1:]:
                fields = line.split()
                local_port = int(fields[1].rsplit(":", 1)[1], 16)
                if local_port == port and fields[3] == "01":  # 01: TCP_ESTABLISHED
                    inodes.add(fields[9])
    return inodes


def socket_inodes(pid: int) -> set[str]:
    """The inodes of the sockets process ``pid`` holds open (none if it has gone)."""
    inodes: set[str] = set()
    with contextlib.suppress(OSError):
        for fd in os.listdir(f"/proc/{pid}/fd"):
            with contextlib.suppress(OSError):
                target = os.readlink(f"/proc/{pid}/fd/{fd}")
                if target.startswith("socket:["):
                    inodes.add(target[len("socket:["):-1])
    return inodes


def postgres_bin() -> Path | None:
    """Where PostgreSQL's server programs are (PG_BIN, else the newest Debian install)."""
    if os.getenv("PG_BIN"):
        return Path(os.environ["PG_BIN"])
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"),
                   key=lambda p: int(Path(p).parts[-3]))
    if found:
        return Path(found[-1]).parent
    initdb = shutil.which("initdb")
    return Path(initdb).parent if initdb else None


def missing_programs(*, postgres: bool = False, redis: bool = False) -> str | None:
    """Why a private PostgreSQL / Redis cannot be started here, or None when it can."""
    if postgres and postgres_bin() is None:
        return "PostgreSQL server programs (initdb, pg_ctl) are not installed"
    if postgres and os.geteuid() == 0 and (shutil.which("runuser") is None or
                                           _no_user("postgres")):
        return "running as root needs runuser and a 'postgres' user to own a private cluster"
    if redis and shutil.which("redis-server") is None:
        return "redis-server is not installed"
    return None


def _no_user(name: str) -> bool:
    import pwd

    try:
        pwd.getpwnam(name)
    except KeyError:
        return True
    return False


class _Managed:
    """A context manager that stops what it started, even when the run fails."""

    def __enter__(self) -> Any:
        self.start()
        return self

    def launch(self) -> None:
        """Start without waiting (servers that boot slowly boot side by side)."""
        self.start()

    def wait_ready(self) -> None:
        """Wait until a launched process serves."""

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 trace: TracebackType | None) -> None:
        self.close()

    def start(self) -> None:
        raise NotImplementedError

    def close(self) -> None:
        raise NotImplementedError


def _stop(process: subprocess.Popen[bytes] | None, *, grace: float = 20.0,
          how: signal.Signals = signal.SIGTERM) -> None:
    """``how`` (SIGTERM), then SIGKILL to the whole process group if it does not go in time."""
    if process is None or process.poll() is not None:
        return
    process.send_signal(how)
    try:
        process.wait(timeout=grace)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=10)


@contextlib.contextmanager
def running(*processes: _Managed) -> Iterator[None]:
    """Launch them all, wait for each to serve, and stop them all on the way out."""
    with contextlib.ExitStack() as stack:
        for process in processes:
            stack.callback(process.close)
            process.launch()
        for process in processes:
            process.wait_ready()
        yield


class PrivatePostgres(_Managed):
    """A throwaway PostgreSQL cluster in ``directory``: restarting it is this run's business.

    Durability is switched off (fsync, synchronous commit): a restart here is a clean
    shutdown of the server, and what the run checks is the application's side of it.
    """

    def __init__(self) -> None:
        # Its own directory straight under the temporary root: the server's user (postgres,
        # when we are root) must be able to reach it.
        self.directory = Path(tempfile.mkdtemp(prefix="explainlab-faults-pg-"))
        self.data = self.directory / "data"
        self.port = free_port()
        self.bin = postgres_bin() or Path("/nonexistent")

    def url(self, name: str) -> str:
        return f"postgres://postgres@127.0.0.1:{self.port}/{name}"

    def _run(self, program: str, *args: str) -> None:
        command = [str(self.bin / program), *args]
        if os.geteuid() == 0:  # PostgreSQL refuses to run as root
            command = ["runuser", "-u", "postgres", "--", *command]
        done = subprocess.run(command, capture_output=True, text=True, timeout=120)
        if done.returncode:
            raise RuntimeError(f"{program} failed ({done.returncode}): {done.stderr.strip()}")

    def start(self) -> None:
        if not self.data.exists():
            if os.geteuid() == 0:
                shutil.chown(self.directory, "postgres")
            self._run("initdb", "-D", str(self.data), "-U", "postgres", "--auth=trust",
                      "-E", "UTF8", "--no-sync")
        options = (f"-p {self.port} -k {self.directory} -c listen_addresses=127.0.0.1 "
                   "-c fsync=off -c synchronous_commit=off -c full_page_writes=off")
        self._run("pg_ctl", "-D", str(self.data), "-l", str(self.directory / "server.log"),
                  "-o", options, "-w", "start")

    def stop(self, mode: str = "fast") -> None:
        """``fast`` ends every session (their open transactions roll back) and shuts down."""
        self._run("pg_ctl", "-D", str(self.data), "-m", mode, "-w", "stop")

    def close(self) -> None:
        if (self.data / "postmaster.pid").exists():
            self.stop("immediate")
        shutil.rmtree(self.directory, ignore_errors=True)


class PrivateRedis(_Managed):
    """A redis-server on its own port, without persistence, that the run may kill."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.port = free_port()
        self.process: subprocess.Popen[bytes] | None = None

    def url(self, db: int) -> str:
        return f"redis://127.0.0.1:{self.port}/{db}"

    def start(self) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)
        with open(self.directory / "redis.log", "ab") as log:  # the child keeps its copy
            self.process = subprocess.Popen(
                ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save",
                 "", "--appendonly", "no", "--dir", str(self.directory)],
                stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        wait_until(self._answers, timeout=30, what=f"redis on port {self.port}")

    def _answers(self) -> bool:
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=1) as conn:
                conn.sendall(b"PING\r\n")
                return conn.recv(16).startswith(b"+PONG")
        except OSError:
            return False

    def kill(self) -> None:
        """SIGKILL: every connection drops at once, nothing is saved."""
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=10)

    def close(self) -> None:
        self.kill()


class Gunicorn(_Managed):
    """``gunicorn studyapp.wsgi`` with sync workers on a free port, behind the deployment's
    nginx (deploy/nginx.conf) as deployed: ``url`` is nginx's, where participants arrive."""

    def __init__(self, env: dict[str, str], directory: Path, *, workers: int = 3) -> None:
        self.env = {**env, "TRUSTED_PROXIES": "1"}  # nginx writes X-Forwarded-For
        self.directory = directory
        self.workers = workers
        self.port = free_port()
        self.front_port = free_port()
        self.process: subprocess.Popen[bytes] | None = None
        self._front = contextlib.ExitStack()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.front_port}"

    @property
    def direct_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        self.launch()
        self.wait_ready()

    def launch(self) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)
        with open(self.directory / "gunicorn.log", "ab") as log:  # the child keeps its copy
            self.process = subprocess.Popen(
                [sys.executable, "-m", "gunicorn", "studyapp.wsgi:application",
                 "--bind", f"127.0.0.1:{self.port}", "--workers", str(self.workers),
                 "--timeout", "60", "--graceful-timeout", "5", "--no-control-socket",
                 # Loaded once, then forked: a killed worker is replaced in milliseconds
                 # instead of re-importing the scientific stack on a busy machine.
                 "--preload"],
                cwd=ROOT, env=self.env, stdout=log, stderr=subprocess.STDOUT,
                start_new_session=True)

    def wait_ready(self) -> None:
        wait_until(self._serving, timeout=180, what="gunicorn to serve /healthz")
        wait_until(lambda: len(self.worker_pids()) == self.workers, timeout=60,
                   what="every gunicorn worker")
        self.directory.chmod(0o755)  # nginx's workers (www-data) keep their buffers here
        self._front.enter_context(nginx_front(self.directory, port=self.front_port,
                                              gunicorn_port=self.port))

    def _serving(self) -> bool:
        if self.process is not None and self.process.poll() is not None:
            raise RuntimeError(f"gunicorn exited: see {self.directory / 'gunicorn.log'}")
        try:
            return requests.get(f"{self.direct_url}/healthz", timeout=5).status_code == 200
        except requests.RequestException:
            return False

    def worker_pids(self) -> list[int]:
        return children(self.process.pid) if self.process is not None else []

    def kill_worker(self, pid: int) -> None:
        """SIGKILL one worker, mid-request if it is busy; the master forks a new one."""
        os.kill(pid, signal.SIGKILL)

    def busy_worker(self, *, within: float) -> int | None:
        """A worker in the middle of a request, waited for up to ``within`` seconds; None if
        every worker stayed idle. A sync worker holds an open connection on gunicorn's port
        only while it serves a request (it closes each one after its response), so a kill
        aimed at such a worker lands on a request in flight, however short requests are."""
        end = time.monotonic() + within
        while True:
            connections = established_sockets(self.port)
            busy = [pid for pid in self.worker_pids() if socket_inodes(pid) & connections]
            if busy or time.monotonic() >= end:
                return busy[0] if busy else None
            time.sleep(0.001)

    def close(self) -> None:
        self._front.close()
        _stop(self.process, how=signal.SIGINT, grace=3)  # quick: the run is over


def celery_worker_command(
    *, pool: str = "solo", concurrency: int | None = None, hostname: str | None = None
) -> list[str]:
    """The command line of one studyapp Celery worker, quiet towards its peers (no gossip,
    mingle or heartbeat), logging at INFO so that its " ready." line can be waited for."""
    return [
        sys.executable, "-m", "celery", "-A", "studyapp", "worker", f"--pool={pool}",
        *([f"--concurrency={concurrency}"] if concurrency is not None else []),
        *([f"--hostname={hostname}"] if hostname is not None else []),
        "--loglevel=INFO", "--without-gossip", "--without-mingle", "--without-heartbeat",
    ]


class CeleryWorker(_Managed):
    """``celery -A studyapp worker`` with one prefork pool process, in its own process group
    (so that the whole worker can be killed at once, as when its machine dies)."""

    def __init__(self, env: dict[str, str], directory: Path, name: str) -> None:
        self.env = env
        self.name = name
        self.log_path = directory / f"celery-{name}.log"
        self.process: subprocess.Popen[bytes] | None = None
        directory.mkdir(parents=True, exist_ok=True)

    def start(self) -> None:
        self.launch()
        self.wait_ready()

    def launch(self) -> None:
        with open(self.log_path, "ab") as log:  # the child keeps its copy
            self.process = subprocess.Popen(
                celery_worker_command(pool="prefork", concurrency=1, hostname=f"{self.name}@%h"),
                cwd=ROOT, env=self.env, stdout=log, stderr=subprocess.STDOUT,
                start_new_session=True)

    def wait_ready(self) -> None:
        wait_until(lambda: " ready." in self.log(), timeout=180,
                   what=f"celery worker {self.name} to be ready")

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def received(self, task: str) -> int:
        """How many times this worker was handed ``task`` (redeliveries included)."""
        return sum(1 for line in self.log().splitlines()
                   if f"{task}[" in line and line.rstrip().endswith("received"))

    def kill_pool_process(self) -> list[int]:
        """SIGKILL the pool process running the task; the worker itself survives it."""
        pids = children(self.process.pid) if self.process is not None else []
        for pid in pids:
            os.kill(pid, signal.SIGKILL)
        return pids

    def kill(self) -> None:
        """SIGKILL the worker and its pool at once: no chance to hand anything back."""
        if self.process is not None and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=10)

    def close(self) -> None:
        _stop(self.process, grace=10)
