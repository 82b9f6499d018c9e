"""SQLite: a request whose database was busy is run again, never answered with a 500.

SQLite has one write lock. A writer waits for it in its busy handler (`busy_timeout`), and the
delivery worker lets waiting writers in between two messages (`accord.core.write_turns`), so a
write nearly always just waits its turn. What is left: a wait longer than the busy timeout
under heavy load, or a transaction that read first and can no longer upgrade its snapshot to
write (SQLITE_BUSY at once, whatever the timeout). Either way nothing was written (the
transaction rolled back, and side effects run only after a commit), so the whole request, the
unit of work, is run again from the start with its body replayed, a few times with a short
growing pause, before the error may reach the caller.

Only before the answer has started (the request commits before it answers); a no-op on
PostgreSQL, where writers queue on row locks instead.
"""

from __future__ import annotations

import copy
import random
import sqlite3
from typing import Any

import anyio
from sqlalchemy.exc import OperationalError
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


class RetryWhenBusy:
    def __init__(self, app: ASGIApp, *, sqlite: bool) -> None:
        self.app = app
        self.sqlite = sqlite

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not self.sqlite:
            await self.app(scope, receive, send)
            return
        body = await _body(scope, receive)
        if body is None:  # the client left: let the app see it
            await self.app(scope, receive, send)
            return
        session = copy.deepcopy(scope.get("session"))
        for attempt in range(ATTEMPTS):
            started = await self._attempt(scope, body, receive, send, last=attempt == ATTEMPTS - 1)
            if started:
                return
            if session is not None:
                scope["session"] = copy.deepcopy(session)  # as the request came in
            await anyio.sleep(random.uniform(0.01, 0.05) * 2**attempt)

    async def _attempt(
        self, scope: Scope, body: bytes, receive: Receive, send: Send, *, last: bool
    ) -> bool:
        """Run the request once: True when it is answered, False when it may run again."""
        started = False
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        async def tracking(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, replay, tracking)
        except Exception as exc:
            if started or last or not is_busy(exc):
                raise
            return False
        return True


async def _body(scope: Scope, receive: Receive) -> bytes | None:
    """The whole request body (bounded by the size limit outside); None if the client left."""
    if scope["method"] in ("GET", "HEAD", "OPTIONS"):
        return b""
    body = b""
    more = True
    while more:
        message = await receive()
        if message["type"] != "http.request":
            return None
        body += message.get("body", b"")
        more = message.get("more_body", False)
    return body
