"""Helpers shared by the benchmarks in bench/: ports, server start-up, a fresh PostgreSQL database.

Not a benchmark itself. The scripts import it as `_common` (bench/ is on sys.path when a script
in it runs).
"""

from __future__ import annotations

import os
import socket
import subprocess
import time
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


def wait_up(
    url: str,
    proc: subprocess.Popen[bytes],
    headers: dict[str, str] | None = None,
    *,
    seconds: float = 30,
) -> None:
    """Wait until GET `url` answers 200, failing early if the server process has died."""
    deadline = time.monotonic() + seconds
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
    """Drop and create database `name` on the benchmark server; its URL, or None if unreachable."""
    import psycopg

    try:
        with psycopg.connect(PG_ADMIN, autocommit=True, connect_timeout=3) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            conn.execute(f'CREATE DATABASE "{name}"')
    except psycopg.OperationalError:
        return None
    return PG_ADMIN.rsplit("/", 1)[0] + f"/{name}"
