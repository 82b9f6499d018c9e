"""What becomes of each row of a chunk: the hand-over of its message (composed while the
server is still busy with the one before), and the one statement that records every outcome."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import BigInteger, Integer, String, Table, Text, bindparam, func, update
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Session

from accord.core.db import UTCDateTime
from accord.core.settings import Settings
from accord.delivery import compose
from accord.delivery.senders import PermanentError, TransientError
from accord.outbox.models import OutboxMessage

MAX_ATTEMPTS = 6
# A row of `dispatch.renew_leases`' columns (a Core Row; attribute access by column name).
OutboxRow = Any
_outbox = cast(Table, OutboxMessage.__table__)


def backoff(attempts: int) -> timedelta:
    return timedelta(seconds=min(3600, 15 * 2 ** max(0, attempts - 1)))


@dataclass
class Outcome:
    sent: int = 0
    skipped: int = 0
    deferred: int = 0
    failed: int = 0

    def add(self, other: Outcome) -> None:
        self.sent += other.sent
        self.skipped += other.skipped
        self.deferred += other.deferred
        self.failed += other.failed

    @property
    def total(self) -> int:
        return self.sent + self.skipped + self.deferred + self.failed


# Every row of the chunk leaves `sending` through this one statement, run once per chunk with
# one parameter set per row. A NULL keeps the column's value (sent_at, to_address, last_error).
RECORD = (
    update(_outbox)
    .where(_outbox.c.id == bindparam("b_id"))
    .values(
        state=bindparam("b_state"),
        reason=bindparam("b_reason"),
        not_before=bindparam("b_not_before"),
        attempts=bindparam("b_attempts"),
        sent_at=func.coalesce(bindparam("b_sent_at", type_=UTCDateTime()), _outbox.c.sent_at),
        to_address=func.coalesce(
            bindparam("b_to", type_=_outbox.c.to_address.type), _outbox.c.to_address
        ),
        last_error=func.coalesce(
            bindparam("b_error", type_=_outbox.c.last_error.type), _outbox.c.last_error
        ),
        lease_owner=None,
        lease_expires_at=None,
    )
)


def result(row: OutboxRow, state: str, **changes: Any) -> dict[str, Any]:
    result = {
        "b_id": row.id,
        "b_state": state,
        "b_reason": row.reason,
        "b_not_before": row.not_before,
        "b_attempts": row.attempts,
        "b_sent_at": None,
        "b_to": None,
        "b_error": None,
    }
    result.update({f"b_{name}": value for name, value in changes.items()})
    return result


# PostgreSQL: the same as one statement, the rows' new values unnested from one array per
# column: one execution for the chunk instead of an executemany's one per row (about 15% less
# time for a chunk of 100), and a text that never changes, so it is prepared once.
_COLUMNS: dict[str, Any] = {
    "b_id": BigInteger(),
    "b_state": String(),
    "b_reason": String(),
    "b_not_before": UTCDateTime(),
    "b_attempts": Integer(),
    "b_sent_at": UTCDateTime(),
    "b_to": String(),
    "b_error": Text(),
}
_new = (
    func.unnest(*(bindparam(name, type_=ARRAY(kind)) for name, kind in _COLUMNS.items()))
    .table_valued(*_COLUMNS)
    .render_derived()
)
RECORD_POSTGRES = (
    update(_outbox)
    .where(_outbox.c.id == _new.c.b_id)
    .values(
        state=_new.c.b_state,
        reason=_new.c.b_reason,
        not_before=_new.c.b_not_before,
        attempts=_new.c.b_attempts,
        sent_at=func.coalesce(_new.c.b_sent_at, _outbox.c.sent_at),
        to_address=func.coalesce(_new.c.b_to, _outbox.c.to_address),
        last_error=func.coalesce(_new.c.b_error, _outbox.c.last_error),
        lease_owner=None,
        lease_expires_at=None,
    )
)


def record(session: Session, results: list[dict[str, Any]]) -> None:
    if not results:
        return
    if session.get_bind().dialect.name == "postgresql":
        session.execute(RECORD_POSTGRES, {k: [r[k] for r in results] for k in _COLUMNS})
    else:  # SQLite runs an executemany in-process, row after row, at no cost worth saving
        session.execute(RECORD, results)


@dataclass
class HandOver:
    """Hands a chunk's messages over one after another, composing each while the server is
    still busy with the one before, and (pipelining) sending its envelope before reading the
    verdict on that one (see `senders`); every outcome goes to `results`."""

    settings: Settings
    sender: Any
    session: Session
    sources: compose.Sources
    now: datetime
    outcome: Outcome
    results: list[dict[str, Any]]
    pending: tuple[OutboxRow, str] | None = None
    started: int = 0
    secret: str = field(init=False)

    def __post_init__(self) -> None:
        self.secret = self.settings.resolved_secret_key()

    def send(self, row: OutboxRow, address: str) -> None:
        message = compose.email(self.settings, self.secret, self.sources, row, address)
        if self.pending is not None:  # pipelining: its envelope goes before that verdict
            self.sender.announce(message)
        self.finish()
        self.started += 1
        if self._step(row, lambda: self.sender.start(self.session, message)):
            self.pending = (row, address)

    def finish(self) -> None:
        """Read the verdict on the message in flight, if any."""
        if self.pending is None:
            return
        (row, address), self.pending = self.pending, None
        if self._step(row, self.sender.finish):
            self.outcome.sent += 1
            self.results.append(result(row, "sent", sent_at=self.now, to=address, reason=None))

    def _step(self, row: OutboxRow, step: Callable[[], None]) -> bool:
        """Run one step of the row's hand-over; on an error record the row's outcome."""
        try:
            step()
            return True
        except TransientError as exc:
            if row.attempts >= MAX_ATTEMPTS:
                self.outcome.failed += 1
                self.results.append(result(row, "failed", error=str(exc)[:2000]))
            else:
                later = self.now + backoff(row.attempts)
                self.results.append(result(row, "queued", not_before=later, error=str(exc)[:2000]))
        except PermanentError as exc:
            self.outcome.failed += 1
            self.results.append(result(row, "failed", error=str(exc)[:2000]))
        return False
