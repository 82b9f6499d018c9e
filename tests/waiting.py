"""Waiting in tests without blind sleeps: poll a condition until a deadline (and fail the test
naming what never happened), and drain the outbox through a real worker.

A fixed `time.sleep` either wastes time or, on a slow machine, is too short; the tests wait for
the thing itself: an event, a barrier, or this poll. The poll's short pause between two looks is
the only pause, and it always ends at the condition or the deadline.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import datetime
from typing import TypeVar

from sqlalchemy import func, select

from accord.core.db import utcnow
from accord.delivery.outcomes import Outcome
from accord.delivery.worker import Worker
from accord.outbox.models import OutboxMessage

T = TypeVar("T")

POLL = 0.01


def wait_until(condition: Callable[[], T], *, timeout: float, what: str) -> T:
    """The first true value `condition()` gives; an AssertionError naming `what` if none comes
    within `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() >= deadline:
            raise AssertionError(f"waited {timeout:g} s for {what}")
        time.sleep(POLL)


def due_rows(worker: Worker, now: datetime | None = None) -> int:
    """Rows still to hand over at `now` (queued, or leased to a worker that is sending them)."""
    with worker.db.session() as session:
        return (
            session.scalar(
                select(func.count()).where(
                    OutboxMessage.state.in_(("queued", "sending")),
                    OutboxMessage.not_before <= (now or utcnow()),
                )
            )
            or 0
        )


def drain(worker: Worker, *, now: datetime | None = None, timeout: float = 60.0) -> Outcome:
    """Run the worker until nothing is due at `now`: rows another worker still holds are waited
    for (their lease ends or they are sent), up to `timeout` seconds."""
    total = worker.run_until_idle(now)

    def settled() -> bool:
        total.add(worker.run_until_idle(now))
        return not due_rows(worker, now)

    if due_rows(worker, now):
        wait_until(settled, timeout=timeout, what="the outbox to drain")
    return total
