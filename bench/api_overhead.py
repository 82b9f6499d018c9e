"""Benchmark: an authenticated, brand-scoped API read against a bare FastAPI route.

Goal: requests per second of `GET /api/v1/brand` with an API key (key lookup by hash,
brand-scoped query, Accord's middleware) are at least 0.3x those of a bare FastAPI route
returning the same JSON from the same kind of uvicorn server, measured in the same run.

Prints `RESULT api_overhead_<backend> <ratio>` for each backend, plus the raw rates.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
GOAL = 0.3


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def serve_bare(port: int, payload_file: str) -> None:
    """The floor: the smallest FastAPI app that returns the same JSON."""
    import uvicorn
    from fastapi import FastAPI

    payload = json.loads(Path(payload_file).read_text())
    app = FastAPI()

    @app.get("/api/v1/brand")
    def brand() -> dict[str, object]:
        return payload

    uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning")


def wait_up(url: str, proc: subprocess.Popen[bytes], headers: dict[str, str] | None = None) -> None:
    deadline = time.monotonic() + 30
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


async def _load(url: str, headers: dict[str, str], seconds: float, concurrency: int) -> float:
    done = 0
    stop = time.perf_counter() + seconds
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(headers=headers, limits=limits, timeout=10) as client:

        async def worker() -> None:
            nonlocal done
            while time.perf_counter() < stop:
                response = await client.get(url)
                if response.status_code != 200:
                    raise RuntimeError(f"{url}: {response.status_code} {response.text}")
                done += 1

        start = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        return done / (time.perf_counter() - start)


def rate(url: str, headers: dict[str, str], seconds: float, concurrency: int) -> float:
    return asyncio.run(_load(url, headers, seconds, concurrency))


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
        env={**env, "ACCORD_ENVIRONMENT": "prod"},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
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
        rate(accord_url, auth, 1.0, 8)  # warm both up
        rate(bare_url, {}, 1.0, 8)
        accord_rates, bare_rates = [], []
        for _ in range(rounds):  # interleaved, so drift in machine load hits both alike
            bare_rates.append(rate(bare_url, {}, seconds, 8))
            accord_rates.append(rate(accord_url, auth, seconds, 8))
        best_accord, best_bare = max(accord_rates), max(bare_rates)
        print(f"{backend}: accord {best_accord:.0f} req/s, bare {best_bare:.0f} req/s")
        return best_accord / best_bare
    finally:
        for proc in (accord, bare):
            if proc is not None:
                proc.terminate()
                proc.wait(timeout=10)


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
    seconds, rounds = (2.0, 2) if args.quick else (5.0, 3)
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
            ratio = measure(backend, url, workdir / backend, seconds, rounds)
            print(f"RESULT api_overhead_{backend} {ratio:.3f}")
            print(f"goal >= {GOAL}: {'met' if ratio >= GOAL else 'NOT met'}")


if __name__ == "__main__":
    main()
