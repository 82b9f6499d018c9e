"""Helpers shared by the benchmarks in bench/: ports, server start-up, a fresh PostgreSQL database.

Not a benchmark itself. The scripts import it as `_common` (bench/ is on sys.path when a script
in it runs).
"""

from __future__ import annotations

import atexit
import os
import re
import shutil
import socket
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
# The instance secret the benchmarks give Accord (brands' signing keys are wrapped under it).
BENCH_SECRET = "bench-secret-not-for-production"
PG_ADMIN = os.environ.get("ACCORD_TEST_PG", "postgresql://postgres@127.0.0.1:5432/postgres")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_up(url: str, proc: subprocess.Popen[bytes], headers: dict[str, str] | None = None) -> None:
    """Wait until GET `url` answers 200, failing early if the server process has died."""
    deadline = time.monotonic() + 120  # a loaded machine starts slowly
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"server exited: {proc.returncode}")
        try:
            if httpx.get(url, headers=headers, timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    raise RuntimeError(f"{url} did not come up")


def stop(proc: subprocess.Popen[bytes] | None) -> None:
    """Stop a server this benchmark started (by its own handle, never by name)."""
    if proc is None or proc.poll() is not None:
        return
    proc.terminate()
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(timeout=10)


def fresh_postgres(name: str) -> str | None:
    """Drop and create database `name` (suffixed with this process's id) on the benchmark server;
    its URL, or None if unreachable.

    The suffix keeps two bench runs on one machine (two people, two worktrees) from dropping
    each other's database mid-run; the process drops what it created when it exits."""
    import psycopg

    name = f"{name}_{os.getpid()}"
    try:
        with psycopg.connect(PG_ADMIN, autocommit=True, connect_timeout=3) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            conn.execute(f'CREATE DATABASE "{name}"')
    except psycopg.OperationalError:
        return None
    if name not in _CREATED:
        _CREATED.append(name)
    return PG_ADMIN.rsplit("/", 1)[0] + f"/{name}"


_CREATED: list[str] = []


@atexit.register
def _drop_created() -> None:
    import psycopg

    try:
        with psycopg.connect(PG_ADMIN, autocommit=True, connect_timeout=3) as conn:
            for name in _CREATED:
                conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    except psycopg.Error:
        pass  # the server is gone; nothing of ours is left on it to drop


WRK_MISSING = "wrk is not installed: `apt-get install wrk` (Debian/Ubuntu), then run again."


@dataclass(frozen=True)
class WrkRun:
    """What `wrk --latency` reported: requests per second, latency percentiles, errors."""

    rps: float
    p50_ms: float
    p99_ms: float
    requests: int
    errors: int

    def line(self) -> str:
        return f"{self.rps:8,.0f} req/s, p50 {self.p50_ms:6.1f} ms, p99 {self.p99_ms:6.1f} ms"


def _ms(value: str) -> float:
    number = float(re.sub(r"[a-z]+$", "", value))
    unit = re.sub(r"^[\d.]+", "", value)
    return number * {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0}[unit]


def wrk(
    url: str,
    *,
    connections: int,
    seconds: float,
    headers: dict[str, str] | None = None,
    script: Path | None = None,
) -> WrkRun:
    """Load `url` with wrk (two threads, never more than the connections) and parse its
    report. Exits with how to install wrk when it is missing."""
    if shutil.which("wrk") is None:
        raise SystemExit(WRK_MISSING)
    threads = max(1, min(2, connections))
    command = ["wrk", "-t", str(threads), "-c", str(connections), "-d", f"{max(seconds, 1):.0f}s",
               "--timeout", "10s", "--latency"]  # fmt: skip
    for name, value in (headers or {}).items():
        command += ["-H", f"{name}: {value}"]
    if script is not None:
        command += ["-s", str(script)]
    out = subprocess.run([*command, url], capture_output=True, text=True, check=True).stdout
    rps = re.search(r"Requests/sec:\s+([\d.]+)", out)
    p50 = re.search(r"^\s+50%\s+(\S+)", out, re.M)
    p99 = re.search(r"^\s+99%\s+(\S+)", out, re.M)
    total = re.search(r"(\d+) requests in", out)
    if not (rps and p50 and p99 and total):
        raise RuntimeError(f"wrk printed no report:\n{out}")
    bad = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    socket_errors = re.search(
        r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out
    )
    errors = int(bad.group(1)) if bad else 0
    if socket_errors:
        errors += sum(int(g) for g in socket_errors.groups())
    return WrkRun(
        float(rps.group(1)), _ms(p50.group(1)), _ms(p99.group(1)), int(total.group(1)), errors
    )
