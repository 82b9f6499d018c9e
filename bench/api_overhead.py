"""Benchmark: an authenticated, brand-scoped API read against a bare FastAPI route, under wrk.

Goal: requests per second of `GET /api/v1/brand` with an API key (key lookup by hash,
brand-scoped query, Accord's middleware), served by `accord serve` (uvicorn with uvloop and
httptools, from uvicorn[standard]), are at least 0.5x those of a bare FastAPI route returning
the same JSON from the same kind of uvicorn server, both loaded by `wrk` (8 connections, two
threads) in the same run, on SQLite and on PostgreSQL. The load generator is wrk, a C program,
so the client does not cap the rates it measures (`apt-get install wrk`; the bench says so
when it is missing).

Both servers are configured alike: no access log (`ACCORD_ACCESS_LOG=false`; the bare server
runs at uvicorn's `warning` level, which logs no requests either) and no background work beside
the web app (`ACCORD_WORKER_IN_PROCESS=false`: `accord serve` would otherwise run a delivery
worker and the digest loop in the same process, polling the database while wrk runs). What is
compared is the cost of answering one authenticated API read, not of logging it or of work
that production runs in `accord worker` processes.

Prints the absolute requests per second and p50/p99 latency of both, and
`RESULT api_read_vs_bare_<backend> <ratio>` for each backend (best of the interleaved rounds).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import httpx
from _common import WrkRun, free_port, stop, wait_up, wrk

ROOT = Path(__file__).resolve().parents[1]
GOAL = 0.5
CONNECTIONS = 8


def serve_bare(port: int, payload_file: str) -> None:
    """The floor: the smallest FastAPI app that returns the same JSON, on the same server."""
    import uvicorn
    from fastapi import FastAPI

    payload = json.loads(Path(payload_file).read_text())
    app = FastAPI()

    @app.get("/api/v1/brand")
    def brand() -> dict[str, object]:
        return payload

    uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning")


def prepare_database(url: str, env: dict[str, str]) -> str:
    """Migrate, create a brand and an API key through the real CLI; return the key."""
    py = [sys.executable, "-m", "accord"]
    subprocess.run([*py, "db", "upgrade"], env=env, check=True, capture_output=True)
    subprocess.run(
        [*py, "brand", "create", "--name", "Bench", "--slug", "bench",
         "--sender-email", "b@bench.example", "--support-email", "h@bench.example"],
        env=env, check=True, capture_output=True,
    )  # fmt: skip
    out = subprocess.run(
        [*py, "apikey", "create", "--brand", "bench", "--name", "bench"],
        env=env, check=True, capture_output=True, text=True,
    ).stdout  # fmt: skip
    return next(line for line in out.splitlines() if line.startswith("acc_"))


def postgres_url() -> str | None:
    import psycopg

    admin = os.environ.get("ACCORD_TEST_PG", "postgresql://postgres@127.0.0.1:5432/postgres")
    try:
        with psycopg.connect(admin, autocommit=True, connect_timeout=3) as conn:
            conn.execute('DROP DATABASE IF EXISTS "accord_bench_api" WITH (FORCE)')
            conn.execute('CREATE DATABASE "accord_bench_api"')
    except psycopg.OperationalError:
        return None
    return admin.rsplit("/", 1)[0] + "/accord_bench_api"


def measure(backend: str, db_url: str, workdir: Path, seconds: float, rounds: int) -> float:
    env = {**os.environ, "ACCORD_DATABASE_URL": db_url, "ACCORD_VAR_DIR": str(workdir / "var")}
    key = prepare_database(db_url, env)
    auth = {"Authorization": f"Bearer {key}"}
    accord_port, bare_port = free_port(), free_port()
    accord = subprocess.Popen(
        [sys.executable, "-m", "accord", "serve", "--port", str(accord_port)],
        env={
            **env,
            "ACCORD_ENVIRONMENT": "prod",
            "ACCORD_ACCESS_LOG": "false",  # as the bare server (see the docstring)
            "ACCORD_WORKER_IN_PROCESS": "false",
        },
        stdout=(workdir / "accord.log").open("wb"),
        stderr=subprocess.STDOUT,
    )
    bare = None
    try:
        accord_url = f"http://127.0.0.1:{accord_port}/api/v1/brand"
        wait_up(accord_url, accord, auth)
        payload = workdir / "payload.json"
        payload.write_text(httpx.get(accord_url, headers=auth).text)
        bare = subprocess.Popen(
            [sys.executable, __file__, "--serve-bare", str(bare_port), str(payload)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        bare_url = f"http://127.0.0.1:{bare_port}/api/v1/brand"
        wait_up(bare_url, bare)
        assert httpx.get(bare_url).json() == httpx.get(accord_url, headers=auth).json()
        wrk(accord_url, connections=CONNECTIONS, seconds=1, headers=auth)  # warm both up
        wrk(bare_url, connections=CONNECTIONS, seconds=1)
        accord_runs: list[WrkRun] = []
        bare_runs: list[WrkRun] = []
        for _ in range(rounds):  # interleaved, so drift in machine load hits both alike
            bare_runs.append(wrk(bare_url, connections=CONNECTIONS, seconds=seconds))
            accord_runs.append(
                wrk(accord_url, connections=CONNECTIONS, seconds=seconds, headers=auth)
            )
        best_accord = max(accord_runs, key=lambda r: r.rps)
        best_bare = max(bare_runs, key=lambda r: r.rps)
        if best_accord.errors or best_bare.errors:
            raise RuntimeError(f"errors: accord {best_accord.errors}, bare {best_bare.errors}")
        print(f"{backend}: accord {best_accord.line()}")
        print(f"{backend}: bare   {best_bare.line()}")
        return best_accord.rps / best_bare.rps
    finally:
        stop(bare)
        stop(accord)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--quick", action="store_true", help="short runs (well under a minute)")
    parser.add_argument(
        "--backend", choices=["sqlite", "postgres", "both"], default="both", help="database(s)"
    )
    parser.add_argument("--serve-bare", nargs=2, metavar=("PORT", "JSON"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve_bare:
        serve_bare(int(args.serve_bare[0]), args.serve_bare[1])
        return
    seconds, rounds = (3.0, 2) if args.quick else (10.0, 3)
    backends = ["sqlite", "postgres"] if args.backend == "both" else [args.backend]
    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        for backend in backends:
            if backend == "sqlite":
                url = f"sqlite:///{workdir}/bench.db"
            else:
                found = postgres_url()
                if found is None:
                    print("postgres: not reachable, skipped")
                    continue
                url = found
            (workdir / backend).mkdir(parents=True, exist_ok=True)
            ratio = measure(backend, url, workdir / backend, seconds, rounds)
            print(f"RESULT api_read_vs_bare_{backend} {ratio:.3f}")
            print(f"goal >= {GOAL}: {'met' if ratio >= GOAL else 'NOT met'}")


if __name__ == "__main__":
    main()
