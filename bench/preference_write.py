"""Benchmark: preference changes per second through the person API, against a bare route,
under wrk.

Goal: `PATCH /api/v1/me/relationships/{brand_id}` (a signed-in person's cookie session plus the
X-CSRF-Token header; each request turns one topic on or off, which is one decision and so one
hash-chained ledger event, written in the same transaction) serves at least 0.3x the requests
per second of a bare FastAPI route returning the same JSON from the same kind of uvicorn
server, with a p99 latency under 50 ms, both loaded by `wrk` with 16 connections in the same
run (a Lua script: each request is the next person's change, each person's topic turned on
and off in turn). wrk is a C program, so the client does not cap what is measured
(`apt-get install wrk`; the bench says so when it is missing).

Set-up goes through the real CLI and API: `accord db upgrade`, `accord brand create`,
`accord apikey create`, a topic by `POST /api/v1/topics` with the key, people who sign up by
`POST /api/v1/people`, sign in with the magic link from the dev mailbox and follow the brand.
At the end `accord ledger verify` must exit 0, no request may have failed, and the ledger may
hold no more new events than successful changes (two changes of one person that cross may
make the second a no-op, which writes nothing), give or take the one request per connection
that each wrk run leaves in flight when it stops (the server commits it, wrk never counts it).

Both servers are configured alike, as in bench/api_overhead.py: no access log
(`ACCORD_ACCESS_LOG=false`; the bare server runs at uvicorn's `warning` level) and no
background work beside the web app (`ACCORD_WORKER_IN_PROCESS=false`: production runs the
delivery worker and the digests in `accord worker` processes).

Prints absolute requests per second and p50/p99 of both, and
`RESULT preference_write_vs_bare_<backend> <ratio>` for each backend.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import httpx
from _common import free_port, fresh_postgres, stop, wait_up
from _people import SLUG, cli, expect, lua_literal, sign_up_and_follow, wrk_script
from sqlalchemy import func, select
from sqlalchemy.engine import Engine

from accord.consent.models import LedgerEvent
from accord.core.db import make_engine


def serve_bare(port: int, payload_file: str) -> None:
    """The baseline: the smallest FastAPI app that answers the same route with the same JSON."""
    import uvicorn
    from fastapi import FastAPI

    payload: dict[str, object] = json.loads(Path(payload_file).read_text())
    app = FastAPI()

    @app.api_route("/api/v1/me/relationships/{brand_id}", methods=["GET", "PATCH"])
    def relationship(brand_id: str) -> dict[str, object]:
        return payload

    uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning")


# --- set-up through the CLI and the API ------------------------------------------------------


def prepare_database(env: dict[str, str]) -> str:
    """Migrate, create the brand and an API key through the real CLI; return the key."""
    cli(env, "db", "upgrade")
    cli(env, "brand", "create", "--name", "Bench", "--slug", SLUG,
        "--sender-email", "b@bench.example", "--support-email", "h@bench.example")  # fmt: skip
    out = cli(env, "apikey", "create", "--brand", SLUG, "--name", "bench")
    return next(line for line in out.splitlines() if line.startswith("acc_"))


@dataclass
class Person:
    email: str
    session_cookie: str
    csrf: str


# --- load ------------------------------------------------------------------------------------

CONNECTIONS = 16
GOAL, P99_GOAL_MS = 0.3, 50.0
LUA = r"""
local spec = dofile(os.getenv("BENCH_SPEC"))
local threads = {}
local counter = 0
local state = {}

function setup(thread)
  thread:set("tid", #threads + 1)
  table.insert(threads, thread)
end

function init(args)
  ok, errors, first_error = 0, 0, ""
end

function request()
  -- Each thread takes its own half of the people, each person in turn, toggling the topic.
  counter = counter + 1
  local half = math.floor(#spec.people / 2)
  local i = (counter % half) + 1 + (tid - 1) * half
  local on = not state[i]
  state[i] = on
  return wrk.format("PATCH", spec.path, spec.people[i],
    '{"topics": {"' .. spec.topic .. '": ' .. (on and "true" or "false") .. '}}')
end

function response(status, headers, body)
  if status == 200 then
    ok = ok + 1
  else
    errors = errors + 1
    if first_error == "" then first_error = status .. " " .. string.sub(body, 1, 200) end
  end
end

function done(summary, latency, requests)
  local ok_all, errors_all, first = 0, 0, ""
  for _, thread in ipairs(threads) do
    ok_all = ok_all + thread:get("ok")
    errors_all = errors_all + thread:get("errors")
    if first == "" then first = thread:get("first_error") end
  end
  local e = summary.errors
  io.write(string.format(
    "BENCH {\"ok\": %d, \"errors\": %d, \"socket_errors\": %d, \"seconds\": %f, "
    .. "\"p50_ms\": %f, \"p99_ms\": %f, \"first_error\": %q}\n",
    ok_all, errors_all, e.connect + e.read + e.write + e.timeout, summary.duration / 1e6,
    latency:percentile(50) / 1e3, latency:percentile(99) / 1e3, first))
end
"""


@dataclass
class Run:
    ok: int
    errors: int
    socket_errors: int
    seconds: float
    p50_ms: float
    p99_ms: float
    first_error: str

    @property
    def rps(self) -> float:
        return self.ok / self.seconds

    def line(self) -> str:
        return f"{self.rps:8,.0f} req/s, p50 {self.p50_ms:6.1f} ms, p99 {self.p99_ms:6.1f} ms"


def wrk_run(base: str, script: Path, spec: Path, seconds: float) -> Run:
    return Run(**wrk_script(base, script, spec, connections=CONNECTIONS, seconds=seconds))


def count_events(engine: Engine) -> int:
    with engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(LedgerEvent)).scalar_one())


# --- one backend -----------------------------------------------------------------------------


@dataclass
class Outcome:
    accord: Run
    bare: Run
    changes: int
    events: int


def measure(db_url: str, workdir: Path, people_count: int, seconds: float, rounds: int) -> Outcome:
    workdir.mkdir(parents=True, exist_ok=True)
    env = {
        **os.environ,
        "ACCORD_DATABASE_URL": db_url,
        "ACCORD_VAR_DIR": str(workdir / "var"),
        "ACCORD_ENVIRONMENT": "dev",
        "ACCORD_EMAIL_BACKEND": "dev",
        # Every bench person signs up from 127.0.0.1: lift the per-network hourly limit.
        "ACCORD_MAGIC_LINK_PER_IP_PER_HOUR": "100000",
    }
    env.pop("ACCORD_BASE_URL", None)
    key = prepare_database(env)
    engine = make_engine(db_url)
    port, bare_port = free_port(), free_port()
    base = f"http://127.0.0.1:{port}"
    log = (workdir / "accord.log").open("wb")
    accord = subprocess.Popen(
        [sys.executable, "-m", "accord", "serve", "--port", str(port)],
        # As the bare server (see the docstring).
        env={**env, "ACCORD_ACCESS_LOG": "false", "ACCORD_WORKER_IN_PROCESS": "false"},
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    bare: subprocess.Popen[bytes] | None = None
    try:
        wait_up(f"{base}/signin", accord)
        auth = {"Authorization": f"Bearer {key}"}
        brand_id = expect(httpx.get(f"{base}/api/v1/brand", headers=auth), 200).json()["id"]
        topic = expect(
            httpx.post(
                f"{base}/api/v1/topics",
                headers=auth,
                json={"slug": "news", "name": "News", "purpose": "marketing",
                      "description": "Our news, now and then."},
            ),
            201,
        ).json()["id"]  # fmt: skip
        people = [
            Person(email, *sign_up_and_follow(base, engine, email))
            for email in (f"bench.person{n}@example.com" for n in range(people_count))
        ]
        path = f"/api/v1/me/relationships/{brand_id}"
        # The bare route answers what Accord answers to a PATCH that turns the topic on.
        sample = httpx.patch(
            base + path,
            json={"topics": {topic: True}},
            headers={"X-CSRF-Token": people[0].csrf},
            cookies={"accord_session": people[0].session_cookie},
        )
        payload = workdir / "payload.json"
        payload.write_text(expect(sample, 200).text)
        expect(
            httpx.patch(
                base + path,
                json={"topics": {topic: False}},
                headers={"X-CSRF-Token": people[0].csrf},
                cookies={"accord_session": people[0].session_cookie},
            ),
            200,
        )
        bare = subprocess.Popen(
            [sys.executable, __file__, "--serve-bare", str(bare_port), str(payload)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        bare_base = f"http://127.0.0.1:{bare_port}"
        wait_up(bare_base + path, bare)
        script = workdir / "prefs.lua"
        script.write_text(LUA)
        spec = workdir / "spec.lua"
        headers = [
            {"Cookie": f"accord_session={p.session_cookie}", "X-CSRF-Token": p.csrf,
             "Content-Type": "application/json"}
            for p in people
        ]  # fmt: skip
        spec_table = lua_literal({"path": path, "topic": topic, "people": headers})
        spec.write_text(f"return {spec_table}\n")
        events_before = count_events(engine)
        warm = wrk_run(base, script, spec, 1)  # warm both up
        changes = warm.ok
        wrk_run(bare_base, script, spec, 1)
        accord_runs: list[Run] = []
        bare_runs: list[Run] = []
        for _ in range(rounds):  # interleaved, so drift in machine load hits both alike
            bare_runs.append(wrk_run(bare_base, script, spec, seconds))
            run = wrk_run(base, script, spec, seconds)
            changes += run.ok
            accord_runs.append(run)
        failed = [r for r in [warm, *accord_runs, *bare_runs] if r.errors or r.socket_errors]
        if failed:
            raise RuntimeError(f"failed requests: {failed[0]}")
        events = count_events(engine) - events_before
        verified = cli(env, "ledger", "verify")  # exits non-zero on any broken chain
        print(f"  accord ledger verify: {' '.join(verified.split())}")
        # When wrk stops, each connection may leave one request in flight: the server finishes
        # and commits it, but wrk never counts its answer.
        in_flight = CONNECTIONS * (1 + len(accord_runs))
        if events > changes + in_flight or events == 0:
            raise RuntimeError(f"{changes} changes made but {events} ledger events written")
        best = max(accord_runs, key=lambda r: r.rps)
        return Outcome(best, max(bare_runs, key=lambda r: r.rps), changes, events)
    except BaseException:
        log.flush()
        tail = (workdir / "accord.log").read_text(errors="replace")[-3000:]
        print(f"accord server log (tail):\n{tail}", file=sys.stderr)
        raise
    finally:
        stop(bare)
        stop(accord)
        log.close()
        engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--quick", action="store_true", help="short runs (under a minute each)")
    parser.add_argument(
        "--backend", choices=["sqlite", "postgres", "both"], default="both", help="database(s)"
    )
    parser.add_argument("--people", type=int, default=32, help="people changing preferences")
    parser.add_argument("--serve-bare", nargs=2, metavar=("PORT", "JSON"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve_bare:
        serve_bare(int(args.serve_bare[0]), args.serve_bare[1])
        return
    seconds, rounds = (3.0, 2) if args.quick else (10.0, 3)
    backends = ["sqlite", "postgres"] if args.backend == "both" else [args.backend]
    with tempfile.TemporaryDirectory() as tmp:
        for backend in backends:
            started = time.perf_counter()
            if backend == "sqlite":
                url = f"sqlite:///{tmp}/prefs.db"
            else:
                found = fresh_postgres("accord_bench_prefs")
                if found is None:
                    print("postgres: not reachable, skipped")
                    continue
                url = found
            out = measure(url, Path(tmp) / backend, args.people, seconds, rounds)
            ratio = out.accord.rps / out.bare.rps
            print(f"{backend}: accord {out.accord.line()} ({CONNECTIONS} connections)")
            print(f"{backend}: bare   {out.bare.line()}")
            print(
                f"{backend}: {out.events} ledger events for {out.changes} changes, ledger "
                f"verified ({time.perf_counter() - started:.0f}s)"
            )
            print(f"RESULT preference_write_vs_bare_{backend} {ratio:.3f}")
            print(f"RESULT preference_write_p99_ms_{backend} {out.accord.p99_ms:.1f}")
            met = ratio >= GOAL and out.accord.p99_ms < P99_GOAL_MS
            print(f"goal >= {GOAL} with p99 < {P99_GOAL_MS:.0f} ms: {'met' if met else 'NOT met'}")
            sys.stdout.flush()


if __name__ == "__main__":
    main()
