"""Set-up shared by the web benchmarks that act as people (bench/preference_write.py,
bench/concurrent_writes.py): the real CLI, sign-up through the API, the magic link from the dev
mailbox, and wrk driven by a Lua script that prints one `BENCH {json}` summary line.

Not a benchmark itself; imported as `_people` (bench/ is on sys.path when a script in it runs).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx
from _common import WRK_MISSING
from sqlalchemy import select
from sqlalchemy.engine import Engine

from accord.mail.models import DevMailMessage

SLUG = "bench"
LINK = re.compile(r"https?://\S+/auth/link\?token=([\w-]+)")
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
HTML = {"accept": "text/html"}


def cli(env: dict[str, str], *args: str) -> str:
    done = subprocess.run(
        [sys.executable, "-m", "accord", *args], env=env, capture_output=True, text=True
    )
    if done.returncode != 0:
        raise RuntimeError(
            f"accord {' '.join(args)}: {done.returncode}\n{done.stdout}{done.stderr}"
        )
    return done.stdout


def expect(response: httpx.Response, status: int) -> httpx.Response:
    if response.status_code != status:
        raise RuntimeError(
            f"{response.request.method} {response.request.url.path}: "
            f"{response.status_code} {response.text[:300]}"
        )
    return response


def mail_token(engine: Engine, email: str) -> str:
    """The token of the newest sign-in link the dev mailbox holds for `email`."""
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        with engine.connect() as conn:
            body = conn.execute(
                select(DevMailMessage.text_body)
                .where(DevMailMessage.recipients == email)
                .order_by(DevMailMessage.created_at.desc())
                .limit(1)
            ).scalar()
        if body is not None and (match := LINK.search(body)):
            return match.group(1)
        time.sleep(0.05)
    raise RuntimeError(f"no sign-in link for {email} in the dev mailbox")


def csrf_token(client: httpx.Client, path: str) -> str:
    page = client.get(path, headers=HTML)
    match = CSRF.search(page.text)
    if page.status_code != 200 or match is None:
        raise RuntimeError(f"no CSRF token on {path}: {page.status_code}")
    return match.group(1)


def sign_up_and_follow(base: str, engine: Engine, email: str) -> tuple[str, str]:
    """Sign up, use the magic link from the dev mailbox, follow the brand, as a person would;
    the signed-in session's cookie and CSRF token."""
    with httpx.Client(base_url=base, timeout=10) as client:
        expect(client.post("/api/v1/people", json={"email": email}), 202)
        form = {"token": mail_token(engine, email), "csrf_token": csrf_token(client, "/signin")}
        used = expect(client.post("/auth/link", data=form, follow_redirects=False), 303)
        assert used.headers["location"] == "/home", used.headers
        csrf = csrf_token(client, "/home")
        headers = {"X-CSRF-Token": csrf}
        expect(client.post("/api/v1/me/relationships", json={"brand": SLUG}, headers=headers), 201)
        cookie = client.cookies.get("accord_session")
        assert cookie, "no session cookie"
        return cookie, csrf


def lua_literal(value: object) -> str:
    """A Python value as a Lua literal (strings, lists, dicts of strings)."""
    if isinstance(value, str):
        return json.dumps(value)  # a JSON string literal is a valid Lua string literal
    if isinstance(value, list):
        return "{" + ", ".join(lua_literal(v) for v in value) + "}"
    if isinstance(value, dict):
        items = (f"[{json.dumps(k)}] = {lua_literal(v)}" for k, v in value.items())
        return "{" + ", ".join(items) + "}"
    raise TypeError(type(value))


def wrk_script(
    base: str, script: Path, spec: Path, *, connections: int, seconds: float
) -> dict[str, Any]:
    """Run wrk with a Lua script that reads its data from `spec` (BENCH_SPEC) and prints one
    `BENCH {json}` line in `done()`; that line's fields."""
    if shutil.which("wrk") is None:
        raise SystemExit(WRK_MISSING)
    threads = min(2, connections)
    done = subprocess.run(
        ["wrk", "-t", str(threads), "-c", str(connections), "-d", f"{seconds:.0f}s",
         "--timeout", "30s", "--latency", "-s", str(script), base],
        env={**os.environ, "BENCH_SPEC": str(spec)}, capture_output=True, text=True, check=True,
    )  # fmt: skip
    line = next((ln for ln in done.stdout.splitlines() if ln.startswith("BENCH ")), None)
    if line is None:
        raise RuntimeError(f"wrk printed no summary:\n{done.stdout}\n{done.stderr}")
    found: dict[str, Any] = json.loads(line.removeprefix("BENCH "))
    return found
