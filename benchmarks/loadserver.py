"""The machinery of the load test (``benchmarks/loadtest.py``): its database, its gunicorn,
where the machine's CPU went during a run, and a py-spy profile of the workers.

No Django at import time: the load test sets the environment first.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path

from deploy.stack import nginx_front
from tests.faultkit.procs import children, free_port
from tests.faultkit.stack import database_recreate
from tests.faultkit.stack import server_env as faults_server_env

ROOT = Path(__file__).resolve().parents[1]
TICKS = os.sysconf("SC_CLK_TCK")


# ----- the server --------------------------------------------------------------------------

def server_env(database_url: str, *, enrol_rate: int) -> dict[str, str]:
    """The fault runs' production-like environment (DEBUG off, cookies not Secure-only: a
    deployment terminates TLS in front of gunicorn, while the bots talk plain HTTP to it), on
    the caller's cache and broker. One address sends the whole burst, so the enrolment rate
    limit is raised above it (not switched off: its cache round trip stays on the path)."""
    return faults_server_env(database_url=database_url,
                             broker_url=os.getenv("CELERY_BROKER_URL", ""),
                             cache_url=os.getenv("CACHE_URL", ""), enrol_rate=enrol_rate)


@dataclass
class Server:
    base_url: str
    process: subprocess.Popen[bytes]
    access_log: Path

    def _log(self) -> list[tuple[str, int, int]]:
        """(request id, status, microseconds) of every request, from the access log."""
        rows = [line.split() for line in self.access_log.read_text().splitlines()]
        return [(r[0], int(r[1]), int(r[2])) for r in rows if len(r) == 3]

    def server_seconds(self) -> dict[str, float]:
        """Request id -> seconds, as gunicorn timed each request (%(D)s in the access log)."""
        return {rid: micros / 1e6 for rid, _, micros in self._log() if rid != "-"}

    def server_errors(self) -> int:
        """Responses with a 5xx status the server sent (including any a bot sent again)."""
        return sum(1 for _, status, _ in self._log() if status >= 500)

    def worker_pids(self) -> list[int]:
        return children(self.process.pid)


@contextlib.contextmanager
def gunicorn(env: dict[str, str], *, port: int, workers: int, threads: int,
             log_dir: Path, behind_nginx: bool = True) -> Iterator[Server]:
    """gunicorn with gthread workers on 127.0.0.1:port, stopped on exit; by default behind
    the deployment's nginx (deploy/nginx.conf) on a port of its own, whose URL the server
    then has, as participants reach a real deployment. Keep-alive outlasts a bot's pause so
    a connection is never closed under a request being sent."""
    if behind_nginx:
        env = {**env, "TRUSTED_PROXIES": "1"}  # nginx writes X-Forwarded-For
    access_log = log_dir / "gunicorn-access.log"
    error_log = log_dir / "gunicorn-error.log"
    command = [sys.executable, "-m", "gunicorn", "studyapp.wsgi:application",
               "--bind", f"127.0.0.1:{port}", "--worker-class", "gthread",
               "--workers", str(workers), "--threads", str(threads), "--keep-alive", "30",
               "--backlog", "2048", "--chdir", str(ROOT), "--no-control-socket",
               "--access-logfile", str(access_log),
               "--access-logformat", "%({x-request-id}i)s %(s)s %(D)s",
               "--error-logfile", str(error_log)]
    process = subprocess.Popen(command, cwd=ROOT, env=env, preexec_fn=_die_with_parent)
    server = Server(f"http://127.0.0.1:{port}", process, access_log)
    try:
        _wait_until_up(server, error_log)
        if not behind_nginx:
            yield server
        else:
            with nginx_front(log_dir, port=free_port(), gunicorn_port=port) as url:
                yield replace(server, base_url=url)
    finally:
        process.terminate()
        process.wait(timeout=30)


def _die_with_parent() -> None:
    """In the child before exec: ask Linux to stop it when this process dies, so an
    interrupted run leaves no server or profiler behind holding the port."""
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG


def _wait_until_up(server: Server, error_log: Path, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            raise RuntimeError(f"gunicorn exited:\n{error_log.read_text()[-3000:]}")
        try:
            with urllib.request.urlopen(f"{server.base_url}/accounts/login/", timeout=2):
                return
        except urllib.error.HTTPError:
            return  # an answer, even an error page, means the server is up
        except OSError:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"gunicorn did not answer within {timeout:.0f}s")


def _process_cpu(pid: int, *, ended_children: bool = False) -> float:
    """CPU seconds the process used (utime + stime), or with ``ended_children`` the CPU of
    its children that have ended (cutime + cstime: a PostgreSQL backend that closed during a
    run is gone from /proc, and its CPU is found only there, with the postmaster)."""
    with contextlib.suppress(OSError):
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        at = 13 if ended_children else 11
        return (int(fields[at]) + int(fields[at + 1])) / TICKS
    return 0.0


def _parent(pid: int) -> int:
    with contextlib.suppress(OSError):
        return int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[1])
    return 0


def machine_cpu() -> tuple[float, float]:
    """(busy, total) CPU seconds of the whole machine so far, from /proc/stat: user, nice,
    system, idle, iowait, irq, softirq, steal (guest time is already in user)."""
    values = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:9]]
    idle = values[3] + values[4]
    return (sum(values) - idle) / TICKS, sum(values) / TICKS


# ----- the database ------------------------------------------------------------------------

def database_prepare(database_url: str, *, force: bool) -> None:
    """A fresh database: dropped and created again (so a run never depends on what an
    earlier run or an earlier schema left), migrated, and the demo study loaded."""
    from django.core.management import call_command

    _database_recreate(database_url, force=force)
    call_command("migrate", verbosity=0, interactive=False)
    # Quiet: load_demo prints the researcher's one-off login.
    with open(os.devnull, "w") as quiet, contextlib.redirect_stdout(quiet):
        call_command("load_demo")


def _database_recreate(database_url: str, *, force: bool) -> None:
    """Drop and create the database, unless it holds people's data (then only with force)."""
    people = _real_participants(database_url)
    if people and not force:
        raise SystemExit(f"{database_url} holds {people} participants who are not bots; the "
                         "load test drops its database (--force to do it)")
    database_recreate(database_url)


def _real_participants(database_url: str) -> int:
    """Participants who are neither bots nor previews (0 when there is no such database or
    table)."""
    import psycopg

    try:
        database = psycopg.connect(database_url)
    except psycopg.OperationalError:
        return 0  # no such database yet
    with database:
        table = database.execute("SELECT to_regclass('studyapp_participant')").fetchone()
        if table is None or table[0] is None:
            return 0
        row = database.execute("SELECT count(*) FROM studyapp_participant "
                               "WHERE NOT is_bot AND NOT is_preview").fetchone()
        return int(row[0]) if row else 0


# ----- where the time went ------------------------------------------------------------------

@contextlib.contextmanager
def profiled(server: Server, directory: Path | None) -> Iterator[None]:
    """py-spy sampling every gunicorn worker for the duration (collapsed stacks, one file
    per worker, readable by speedscope or flamegraph.pl), then a summary printed."""
    if directory is None:
        yield
        return
    py_spy = shutil.which("py-spy") or str(Path(sys.executable).parent / "py-spy")
    directory.mkdir(parents=True, exist_ok=True)
    outputs = [directory / f"worker-{pid}.txt" for pid in server.worker_pids()]
    # --nonblocking and a low rate: py-spy's default pauses the worker for every sample,
    # which stalls the very server it measures, and on a busy machine it falls behind.
    spies = [subprocess.Popen([py_spy, "record", "--pid", path.stem.split("-")[1],
                               "--nonblocking", "--rate", "25", "--format", "raw",
                               "--output", str(path)],
                              stdout=open(path.with_suffix(".log"), "wb"),  # noqa: SIM115
                              stderr=subprocess.STDOUT, preexec_fn=_die_with_parent)
             for path in outputs]
    try:
        yield
    finally:
        for spy in spies:
            spy.send_signal(signal.SIGINT)  # py-spy writes its profile and exits
        for spy in spies:
            try:
                spy.wait(timeout=60)
            except subprocess.TimeoutExpired:
                spy.kill()  # too far behind to finish: its profile is lost, not the run
        print_profile(outputs)


def print_profile(paths: list[Path], top: int = 25) -> None:
    """The functions (of this project and Django) with the largest share of the samples in
    which a worker thread was busy, counting a function once per stack (inclusive)."""
    inclusive: Counter[str] = Counter()
    total = 0
    for path in paths:
        for line in path.read_text().splitlines() if path.exists() else []:
            stack, _, samples = line.rpartition(" ")
            if not samples.isdigit():
                continue  # a line cut short when the profiler was stopped
            total += int(samples)
            for frame in {f for f in stack.split(";") if _interesting(f)}:
                inclusive[frame] += int(samples)
    print(f"\nprofile: {total} busy samples in the workers; inclusive share by function:")
    for frame, n in inclusive.most_common(top):
        print(f"  {100 * n / max(total, 1):5.1f}%  {_short(frame)}")


def _interesting(frame: str) -> bool:
    return any(part in frame for part in ("studyapp/", "django/", "psycopg/", "gunicorn/"))


def _short(frame: str) -> str:
    name, _, where = frame.partition(" (")
    return f"{name} ({where.rstrip(')').split('site-packages/')[-1]})"


@dataclass
class CpuSnapshot:
    """CPU seconds used so far: the machine's (busy, all), and per process (with its title)."""

    busy: float
    total: float
    processes: dict[int, tuple[float, str]]
    ended_children: dict[int, float]  # per process, the CPU of its children that ended

    @classmethod
    def take(cls) -> CpuSnapshot:
        processes, ended = {}, {}
        for cmdline in Path("/proc").glob("[0-9]*/cmdline"):
            with contextlib.suppress(OSError):
                title = cmdline.read_bytes().replace(b"\0", b" ").decode(errors="replace")
                pid = int(cmdline.parent.name)
                processes[pid] = (_process_cpu(pid), title.strip())
                ended[pid] = _process_cpu(pid, ended_children=True)
        return cls(*machine_cpu(), processes, ended)


class MachineSampler:
    """Every ``window`` seconds, in a thread: how busy the machine was (a share of all its
    CPUs) and how much of that was gunicorn's, to line up with the latencies over time."""

    def __init__(self, server: Server, window: float = 10.0) -> None:
        self.server, self.window = server, window
        self.shares: list[tuple[float, float]] = []  # (machine busy, gunicorn), 0..1
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)

    def __enter__(self) -> MachineSampler:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()

    def _gunicorn_cpu(self) -> float:
        pids = [self.server.process.pid, *self.server.worker_pids()]
        return sum(_process_cpu(pid) for pid in pids)

    def _sample(self) -> None:
        busy, total = machine_cpu()
        served = self._gunicorn_cpu()
        while not self._stop.wait(self.window):
            busy_now, total_now = machine_cpu()
            served_now = self._gunicorn_cpu()
            span = max(total_now - total, 1e-9)
            self.shares.append(((busy_now - busy) / span, (served_now - served) / span))
            busy, total, served = busy_now, total_now, served_now


def _is_backend(title: str, database: str) -> bool:
    """A PostgreSQL backend serving ``database`` (by its process title)."""
    return title.startswith("postgres: ") and f" {database} " in title


def _backends(snapshot: CpuSnapshot, database: str) -> set[int]:
    return {pid for pid, (_, title) in snapshot.processes.items()
            if _is_backend(title, database)}


def _ended_backends_cpu(before: CpuSnapshot, after: CpuSnapshot, database: str) -> float:
    """CPU of this database's backends that closed during the run (Django reconnects after
    CONN_MAX_AGE): what the postmaster's ended children gained, less what those backends
    had used before the run."""
    ended = {pid: cpu for pid, (cpu, title) in before.processes.items()
             if pid not in after.processes and _is_backend(title, database)}
    postmasters = {_parent(pid) for pid in _backends(after, database)}
    gained = sum(after.ended_children.get(p, 0.0) - before.ended_children.get(p, 0.0)
                 for p in postmasters)
    return max(0.0, gained - sum(ended.values()))


def cpu_used(before: CpuSnapshot, after: CpuSnapshot, *, server: Server, database: str,
             client: float) -> tuple[dict[str, float], list[tuple[float, str]]]:
    """CPU seconds spent during the run, by whom, and the busiest other processes. The
    machine is shared: what is left after the server, its database and the bots is someone
    else's (with the kernel's own work, and processes that ended during the run)."""
    spent = {pid: cpu - before.processes.get(pid, (0.0, ""))[0]
             for pid, (cpu, _) in after.processes.items()}
    gunicorn = {server.process.pid, *server.worker_pids()}
    backends = _backends(after, database)
    ours = gunicorn | backends | {os.getpid()}
    busy = after.busy - before.busy
    used = {"gunicorn": sum(spent[p] for p in gunicorn if p in spent),
            "PostgreSQL (this database)": sum(spent[p] for p in backends)
            + _ended_backends_cpu(before, after, database),
            "bots (client)": client}
    used["everything else"] = busy - sum(used.values())
    used.update({"machine busy": busy, "machine capacity": after.total - before.total})
    others = sorted(((cpu, after.processes[pid][1][:70]) for pid, cpu in spent.items()
                     if pid not in ours and cpu >= 1.0), reverse=True)
    return used, others[:3]
