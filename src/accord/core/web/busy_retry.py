"""SQLite: a request whose database was busy is run again, never answered with a 500.

SQLite has one write lock. A writer waits for it in its busy handler (`busy_timeout`), and the
delivery worker lets waiting writers in between two messages (`accord.core.write_turns`), so a
write nearly always just waits its turn. What is left: a wait longer than the busy timeout
under heavy load, or a transaction that read first and can no longer upgrade its snapshot to
write (SQLITE_BUSY at once, whatever the timeout). Either way nothing was written (the
transaction rolled back, and side effects run only after a commit), so the whole request, the
unit of work, is run again from the start with its body replayed and its session as it came
in, a few times with a short growing pause, before the error may reach the caller.

Only before the answer has started (the request commits before it answers); PostgreSQL needs
none of it, writers queue on row locks instead. The web edge (`accord.core.web.edge`) runs
every request on SQLite through `run`.
"""

from __future__ import annotations

import json
import random
import sqlite3
from collections.abc import Callable
from typing import Any

import anyio
from sqlalchemy.exc import OperationalError
from starlette.middleware.sessions import Session
from starlette.types import ASGIApp, Message, Receive, Scope, Send

ATTEMPTS = 6
_BUSY_CODES = {sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED}


def is_busy(exc: BaseException) -> bool:
    """Did SQLite refuse for a lock (after the busy timeout, or a snapshot it cannot upgrade)?"""
    original: Any = exc.orig if isinstance(exc, OperationalError) else exc
    if not isinstance(original, sqlite3.OperationalError):
        return False
    code = getattr(original, "sqlite_errorcode", None)
    if code is not None:
        return (code & 0xFF) in _BUSY_CODES
    return "database is locked" in str(original) or "database is busy" in str(original)


async def run(
    app: ASGIApp,
    scope: Scope,
    receive: Receive,
    send: Send,
    *,
    body: bytes,
    session_json: str | None,
    started: Callable[[], bool],
) -> None:
    """Run the request, again while SQLite was busy and no answer has started (`started`, as
    the caller's `send` knows). `session_json`: the session as the request brought it (the
    retry starts from it, not from what the failed attempt left), None for an empty one."""
    for attempt in range(ATTEMPTS):
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        try:
            await app(scope, replay, send)
            return
        except Exception as exc:
            if started() or attempt == ATTEMPTS - 1 or not is_busy(exc):
                raise
        scope["session"] = Session(json.loads(session_json)) if session_json else Session()
        await anyio.sleep(random.uniform(0.01, 0.05) * 2**attempt)
