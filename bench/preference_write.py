"""Benchmark: preference changes per second through the person API, against a bare route.

Goal: measure and track how many preference changes per second Accord takes through
`PATCH /api/v1/me/relationships/{brand_id}` (a signed-in person's cookie session plus the
X-CSRF-Token header; each request turns one topic on or off, which is one decision and so one
hash-chained ledger event, written in the same transaction), as a ratio to the requests per
second of a bare FastAPI route returning the same JSON from the same kind of uvicorn server
(the baseline of bench/api_overhead.py), measured in the same run with the same clients.
No pass/fail floor is set for it yet: the ratio is what is tracked.

Set-up goes through the real CLI and API: `accord db upgrade`, `accord brand create`,
`accord apikey create`, topics by `POST /api/v1/topics` with the key, people who sign up by
`POST /api/v1/people`, sign in with the magic link from the dev mailbox and follow the brand.
Load: one client per person (each chain written by one client at a time), then a run where
two clients share each person (different topics, same chain: the chain-head lock at work).
At the end `accord ledger verify` must exit 0 and the ledger must hold exactly one new event
per successful request.

Prints `RESULT preference_write_vs_bare_<backend> <ratio>` for each backend, plus the rates.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx
from _common import free_port, fresh_postgres, stop, wait_up
from sqlalchemy import func, select
from sqlalchemy.engine import Engine

from accord.consent.models import LedgerEvent
from accord.core.db import make_engine
from accord.mail.models import DevMailMessage

SLUG = "bench"
LINK = re.compile(r"https?://\S+/auth/link\?token=([\w-]+)")
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
HTML = {"accept": "text/html"}


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


def cli(env: dict[str, str], *args: str) -> str:
    done = subprocess.run(
        [sys.executable, "-m", "accord", *args], env=env, capture_output=True, text=True
    )
    if done.returncode != 0:
        raise RuntimeError(
            f"accord {' '.join(args)}: {done.returncode}\n{done.stdout}{done.stderr}"
        )
    return done.stdout


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


def _mail_token(engine: Engine, email: str) -> str:
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        with engine.connect() as conn:
            text = conn.execute(
                select(DevMailMessage.text_body)
                .where(DevMailMessage.recipients == email)
                .order_by(DevMailMessage.created_at.desc())
                .limit(1)
            ).scalar()
        if text is not None and (match := LINK.search(text)):
            return match.group(1)
        time.sleep(0.05)
    raise RuntimeError(f"no sign-in link for {email} in the dev mailbox")


def _csrf(client: httpx.Client, path: str) -> str:
    page = client.get(path, headers=HTML)
    match = CSRF.search(page.text)
    if page.status_code != 200 or match is None:
        raise RuntimeError(f"no CSRF token on {path}: {page.status_code}")
    return match.group(1)


def _expect(response: httpx.Response, status: int) -> httpx.Response:
    if response.status_code != status:
        raise RuntimeError(
            f"{response.request.method} {response.request.url.path}: "
            f"{response.status_code} {response.text[:300]}"
        )
    return response


def sign_up_and_follow(base: str, engine: Engine, email: str) -> Person:
    """Sign up, use the magic link from the dev mailbox, follow the brand; as a person would."""
    with httpx.Client(base_url=base, timeout=10) as client:
        _expect(client.post("/api/v1/people", json={"email": email}), 202)
        token = _mail_token(engine, email)
        form = {"token": token, "csrf_token": _csrf(client, "/signin")}
        used = _expect(client.post("/auth/link", data=form, follow_redirects=False), 303)
        assert used.headers["location"] == "/home", used.headers
        csrf = _csrf(client, "/home")  # the signed-in session's token
        headers = {"X-CSRF-Token": csrf}
        _expect(client.post("/api/v1/me/relationships", json={"brand": SLUG}, headers=headers), 201)
        cookie = client.cookies.get("accord_session")
        assert cookie, "no session cookie"
        return Person(email, cookie, csrf)


# --- load ------------------------------------------------------------------------------------


@dataclass
class Writer:
    """One client: a person's session (or none, for the bare route) toggling one topic."""

    person: Person | None
    topic: str
    check: bool  # whether the answer must show the topic as just set (only its writer sets it)
    state: dict[tuple[str, str], bool] = field(default_factory=dict)

    def key(self) -> tuple[str, str]:
        return (self.person.email if self.person else "", self.topic)


async def _load(url: str, writers: list[Writer], seconds: float) -> tuple[int, float]:
    """Each writer PATCHes its topic alternately on and off until time is up."""
    done = 0
    stop_at = time.perf_counter() + seconds

    async def worker(writer: Writer) -> None:
        nonlocal done
        headers, cookies = {}, {}
        if writer.person is not None:
            headers = {"X-CSRF-Token": writer.person.csrf}
            cookies = {"accord_session": writer.person.session_cookie}
        limits = httpx.Limits(max_connections=1, max_keepalive_connections=1)
        async with httpx.AsyncClient(
            headers=headers, cookies=cookies, limits=limits, timeout=30
        ) as client:
            while time.perf_counter() < stop_at:
                on = not writer.state.get(writer.key(), False)
                response = await client.patch(url, json={"topics": {writer.topic: on}})
                if response.status_code != 200:
                    raise RuntimeError(f"PATCH {url}: {response.status_code} {response.text[:300]}")
                answer = response.json()  # every client reads the answer, bare ones too
                if writer.check and (writer.topic in answer["topics"]) != on:
                    raise RuntimeError(f"topic {writer.topic} not {'on' if on else 'off'}")
                writer.state[writer.key()] = on
                done += 1

    start = time.perf_counter()
    await asyncio.gather(*(worker(writer) for writer in writers))
    return done, done / (time.perf_counter() - start)


def run_load(url: str, writers: list[Writer], seconds: float) -> tuple[int, float]:
    return asyncio.run(_load(url, writers, seconds))


def count_events(engine: Engine) -> int:
    with engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(LedgerEvent)).scalar_one())


# --- one backend -----------------------------------------------------------------------------


@dataclass
class Outcome:
    accord: float
    bare: float
    shared: float
    requests: int
    events: int


def measure(db_url: str, workdir: Path, clients: int, seconds: float, rounds: int) -> Outcome:
    workdir.mkdir(parents=True, exist_ok=True)
    env = {
        **os.environ,
        "ACCORD_DATABASE_URL": db_url,
        "ACCORD_VAR_DIR": str(workdir / "var"),
        "ACCORD_ENVIRONMENT": "dev",
        "ACCORD_EMAIL_BACKEND": "dev",
    }
    env.pop("ACCORD_BASE_URL", None)
    key = prepare_database(env)
    engine = make_engine(db_url)
    port, bare_port = free_port(), free_port()
    base = f"http://127.0.0.1:{port}"
    log = (workdir / "accord.log").open("wb")
    accord = subprocess.Popen(
        [sys.executable, "-m", "accord", "serve", "--port", str(port)],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    bare: subprocess.Popen[bytes] | None = None
    try:
        wait_up(f"{base}/signin", accord)
        auth = {"Authorization": f"Bearer {key}"}
        brand_id = _expect(httpx.get(f"{base}/api/v1/brand", headers=auth), 200).json()["id"]
        topics = [
            _expect(
                httpx.post(
                    f"{base}/api/v1/topics",
                    headers=auth,
                    json={"slug": f"news-{n}", "name": f"News {n}", "purpose": "marketing",
                          "description": "Our news, now and then."},
                ),
                201,
            ).json()["id"]
            for n in (1, 2)
        ]  # fmt: skip
        people = [
            sign_up_and_follow(base, engine, f"bench.person{n}@example.com") for n in range(clients)
        ]
        url = f"{base}/api/v1/me/relationships/{brand_id}"

        # The bare route answers what Accord answers to a PATCH that turns the topic on.
        state: dict[tuple[str, str], bool] = {}  # (person, topic): on?
        sample = httpx.patch(
            url,
            json={"topics": {topics[0]: True}},
            headers={"X-CSRF-Token": people[0].csrf},
            cookies={"accord_session": people[0].session_cookie},
        )
        payload = workdir / "payload.json"
        payload.write_text(_expect(sample, 200).text)
        state[(people[0].email, topics[0])] = True
        bare = subprocess.Popen(
            [sys.executable, __file__, "--serve-bare", str(bare_port), str(payload)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        bare_url = f"http://127.0.0.1:{bare_port}/api/v1/me/relationships/{brand_id}"
        wait_up(bare_url, bare)

        events_before = count_events(engine)
        exclusive = [Writer(p, topics[0], check=True, state=state) for p in people]
        half = people[: max(1, clients // 2)]  # two clients per person, one topic each
        shared = [Writer(p, t, check=True, state=state) for p in half for t in topics]
        bare_writers = [Writer(None, topics[0], check=False) for _ in people]
        requests = 0
        n, _ = run_load(url, exclusive, 1.0)  # warm both up
        requests += n
        run_load(bare_url, bare_writers, 1.0)
        accord_rates: list[float] = []
        bare_rates: list[float] = []
        shared_rates: list[float] = []
        for _ in range(rounds):  # interleaved, so drift in machine load hits all alike
            bare_rates.append(run_load(bare_url, bare_writers, seconds)[1])
            for writers, rates in ((exclusive, accord_rates), (shared, shared_rates)):
                n, rate = run_load(url, writers, seconds)
                requests += n
                rates.append(rate)

        events = count_events(engine) - events_before
        verified = cli(env, "ledger", "verify")  # exits non-zero on any broken chain
        print(f"  accord ledger verify: {' '.join(verified.split())}")
        if events != requests:
            raise RuntimeError(f"{requests} changes made but {events} ledger events written")
        return Outcome(max(accord_rates), max(bare_rates), max(shared_rates), requests, events)
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
    parser.add_argument("--clients", type=int, default=8, help="concurrent clients (and people)")
    parser.add_argument("--serve-bare", nargs=2, metavar=("PORT", "JSON"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve_bare:
        serve_bare(int(args.serve_bare[0]), args.serve_bare[1])
        return
    seconds, rounds = (2.0, 2) if args.quick else (5.0, 3)
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
            out = measure(url, Path(tmp) / backend, args.clients, seconds, rounds)
            print(
                f"{backend}: accord {out.accord:.0f} changes/s ({args.clients} clients, one per "
                f"person), bare {out.bare:.0f} req/s; two clients per person "
                f"{out.shared:.0f} changes/s; {out.events} events for {out.requests} changes, "
                f"ledger verified ({time.perf_counter() - started:.0f}s)"
            )
            print(f"RESULT preference_write_vs_bare_{backend} {out.accord / out.bare:.3f}")
            sys.stdout.flush()


if __name__ == "__main__":
    main()
