"""Answers that take the same time whatever the answer hides.

A sign-in link request for a known address sends a mail; for an unknown one it does not. The
difference shows in the time the answer takes, which would tell an attacker who has an
account. Routes that must not tell add `Depends(equal_time, scope="function")`: the answer
is held back (without holding a thread) until `ACCORD_AUTH_ANSWER_FLOOR_MS` after the request
began, after the commit and the mail it triggers, so both kinds of answer leave together.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator

import anyio
from fastapi import Request


async def equal_time(request: Request) -> AsyncIterator[None]:
    floor = request.app.state.settings.auth_answer_floor_ms / 1000
    started = time.monotonic()
    try:
        yield
    finally:
        remaining = floor - (time.monotonic() - started)
        if remaining > 0:
            await anyio.sleep(remaining)
