"""Benchmark: concurrent writes through the web app never fail, on SQLite and PostgreSQL.

Goal: 0 failed requests with 16 concurrent clients doing mixed writes for 30 s on each
backend (`RESULT write_errors_sqlite 0`, `RESULT write_errors_postgres 0`): on the embedded
SQLite default every write waits its turn for the one write lock instead of answering
500 "database is locked". Also printed: the write throughput of 16 clients as a ratio to one
client's, measured in the same run (`RESULT concurrent_vs_one_client_<backend>`; SQLite
takes one writer at a time, so about 1 is what it can do; PostgreSQL should gain), with the
absolute requests per second and p50/p99 latencies beside it.

The mix, in turn on every connection: a sign-in link for a new address (anonymous), consent
recorded by the brand with evidence (API key; a person, a ledger event and a confirmation
mail), an invitation (API key), and a person's topic switched on or off (cookie session and
CSRF header; a hash-chained ledger event). Served by `accord serve` (with its in-process
delivery worker, as the embedded default runs); set up through the real CLI and API. Load comes
from `wrk` with a Lua script (never a Python client on the same cores); a write error is any
answer other than the expected 2xx, or a socket error.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

import httpx
from _common import free_port, fresh_postgres, stop, wait_up
from _people import SLUG, cli, expect, lua_literal, sign_up_and_follow, wrk_script
from sqlalchemy.engine import Engine

from accord.core.db import make_engine

CLIENTS = 16

# Each wrk thread keeps its own Lua state: counters per thread, summed in done().
LUA = r"""
local spec = dofile(os.getenv("BENCH_SPEC"))
local threads = {}
local counter = 0

function setup(thread)
  thread:set("tid", #threads + 1)
  table.insert(threads, thread)
end

function init(args)
  ok, errors, server_errors = 0, 0, 0
  first_error = ""
end

local function address(kind)
  counter = counter + 1
  return string.format("%s-%d-%d-%d@load.example", kind, tid, counter, math.random(1, 1e9))
end

function request()
  counter = counter + 1
  local turn = counter % 4
  if turn == 0 then
    return wrk.format("POST", "/api/v1/auth/sign-in-links", spec.json,
      '{"email": "' .. address("link") .. '"}')
  elseif turn == 1 then
    return wrk.format("POST", "/api/v1/consent/records", spec.brand,
      '{"email": "' .. address("consent") .. '", "purpose": "marketing", "channels": ["email"],'
      .. ' "evidence": ' .. spec.evidence .. '}')
  elseif turn == 2 then
    return wrk.format("POST", "/api/v1/invitations", spec.brand,
      '{"email": "' .. address("invite") .. '"}')
  else
    local person = spec.people[(counter % #spec.people) + 1]
    local on = (math.floor(counter / 4) % 2 == 0) and "true" or "false"
    return wrk.format("PATCH", spec.relationship, person,
      '{"topics": {"' .. spec.topic .. '": ' .. on .. '}}')
  end
end

function response(status, headers, body)
  if status >= 200 and status < 300 then
    ok = ok + 1
  else
    errors = errors + 1
    if status >= 500 then server_errors = server_errors + 1 end
    if first_error == "" then first_error = status .. " " .. string.sub(body, 1, 200) end
  end
end

function done(summary, latency, requests)
  local ok_all, errors_all, server_all, first = 0, 0, 0, ""
  for _, thread in ipairs(threads) do
    ok_all = ok_all + thread:get("ok")
    errors_all = errors_all + thread:get("errors")
    server_all = server_all + thread:get("server_errors")
    if first == "" then first = thread:get("first_error") end
  end
  local e = summary.errors
  io.write(string.format(
    "BENCH {\"ok\": %d, \"errors\": %d, \"server_errors\": %d, \"socket_errors\": %d, "
    .. "\"seconds\": %f, \"p50_ms\": %f, \"p99_ms\": %f, \"first_error\": %q}\n",
    ok_all, errors_all, server_all, e.connect + e.read + e.write + e.timeout,
    summary.duration / 1e6, latency:percentile(50) / 1e3, latency:percentile(99) / 1e3,
    first))
end
"""


def person_headers(base: str, engine: Engine, email: str) -> dict[str, str]:
    """Sign up, use the link from the dev mailbox, follow the brand: the session's headers."""
    cookie, csrf = sign_up_and_follow(base, engine, email)
    return {
        "Content-Type": "application/json",
        "X-CSRF-Token": csrf,
        "Cookie": f"accord_session={cookie}",
    }


@dataclass
class Run:
    ok: int
    errors: int
    server_errors: int
    socket_errors: int
    seconds: float
    p50_ms: float
    p99_ms: float
    first_error: str

    @property
    def rate(self) -> float:
        return self.ok / self.seconds

    @property
    def failed(self) -> int:
        return self.errors + self.socket_errors


def wrk(base: str, script: Path, spec: Path, connections: int, seconds: float) -> Run:
    return Run(**wrk_script(base, script, spec, connections=connections, seconds=seconds))


def measure(backend: str, db_url: str, workdir: Path, seconds: float) -> tuple[Run, Run]:
    """(one client, 16 clients) on one backend."""
    workdir.mkdir(parents=True, exist_ok=True)
    env = {
        **os.environ,
        "ACCORD_DATABASE_URL": db_url,
        "ACCORD_VAR_DIR": str(workdir / "var"),
        "ACCORD_ENVIRONMENT": "dev",
        "ACCORD_EMAIL_BACKEND": "dev",
        # The load comes from one address and asks for many links: the limits are not measured.
        "ACCORD_MAGIC_LINK_PER_IP_PER_HOUR": "10000000",
        "ACCORD_MAGIC_LINK_GLOBAL_PER_HOUR": "10000000",
        "ACCORD_AUTH_ANSWER_FLOOR_MS": "0",
    }
    env.pop("ACCORD_BASE_URL", None)
    cli(env, "db", "upgrade")
    cli(env, "brand", "create", "--name", "Bench", "--slug", SLUG,
        "--sender-email", "b@bench.example", "--support-email", "h@bench.example")  # fmt: skip
    out = cli(env, "apikey", "create", "--brand", SLUG, "--name", "bench")
    key = next(line for line in out.splitlines() if line.startswith("acc_"))
    engine = make_engine(db_url)
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    log = (workdir / "accord.log").open("wb")
    accord = subprocess.Popen(
        [sys.executable, "-m", "accord", "serve", "--port", str(port)],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        wait_up(f"{base}/signin", accord)
        brand = {"Authorization": f"Bearer {key}", "Content-Type": "application/json"}
        brand_id = expect(httpx.get(f"{base}/api/v1/brand", headers=brand), 200).json()["id"]
        topic = expect(
            httpx.post(
                f"{base}/api/v1/topics",
                headers=brand,
                json={"slug": "news", "name": "News", "purpose": "marketing",
                      "description": "Our news, now and then."},
            ),
            201,
        ).json()["id"]  # fmt: skip
        people = [person_headers(base, engine, f"bench{n}@people.example") for n in range(8)]
        evidence = {
            "collected_at": "2025-01-01T00:00:00Z",
            "method": "web form",
            "notice_version": "v1",
            "form_url": "https://shop.example/signup",
            "ip": "192.0.2.1",
        }
        spec = {
            "json": {"Content-Type": "application/json"},
            "brand": brand,
            "people": people,
            "relationship": f"/api/v1/me/relationships/{brand_id}",
            "topic": topic,
            "evidence": json.dumps(evidence),
        }
        spec_file = workdir / "spec.lua"
        spec_file.write_text("return " + lua_literal(spec) + "\n")
        script = workdir / "mix.lua"
        script.write_text(LUA)
        wrk(base, script, spec_file, 1, 2)  # warm up
        one = wrk(base, script, spec_file, 1, seconds)
        many = wrk(base, script, spec_file, CLIENTS, seconds)
        if many.failed or one.failed:
            print(f"  {backend}: first error: {many.first_error or one.first_error}")
        return one, many
    except BaseException:
        log.flush()
        tail = (workdir / "accord.log").read_text(errors="replace")[-3000:]
        print(f"accord server log (tail):\n{tail}", file=sys.stderr)
        raise
    finally:
        stop(accord)
        log.close()
        engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--quick", action="store_true", help="5 s runs instead of 30 s")
    parser.add_argument(
        "--backend", choices=["sqlite", "postgres", "both"], default="both", help="database(s)"
    )
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        sys.exit("wrk is not installed: apt-get install wrk")
    seconds = 5.0 if args.quick else 30.0
    backends = ["sqlite", "postgres"] if args.backend == "both" else [args.backend]
    with tempfile.TemporaryDirectory() as tmp:
        for backend in backends:
            if backend == "sqlite":
                url = f"sqlite:///{tmp}/writes.db"
            else:
                found = fresh_postgres("accord_bench_writes")
                if found is None:
                    print("postgres: not reachable, skipped")
                    continue
                url = found
            one, many = measure(backend, url, Path(tmp) / backend, seconds)
            for label, run in (("1 client", one), (f"{CLIENTS} clients", many)):
                print(
                    f"{backend}, {label}: {run.rate:.0f} writes/s, p50 {run.p50_ms:.1f} ms, "
                    f"p99 {run.p99_ms:.1f} ms, {run.ok} ok, {run.errors} refused "
                    f"({run.server_errors} server errors), {run.socket_errors} socket errors"
                )
            print(f"RESULT write_errors_{backend} {one.failed + many.failed}")
            print(f"RESULT concurrent_vs_one_client_{backend} {many.rate / one.rate:.2f}")
            sys.stdout.flush()


if __name__ == "__main__":
    main()
