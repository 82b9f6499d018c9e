"""What becomes of each row of a chunk: its outcome as one parameter set of the one statement
that records every row's, and a channel's verdict turned into that outcome."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import BigInteger, Integer, String, Table, Text, bindparam, func, update
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Session

from accord.core.db import UTCDateTime
from accord.delivery.channels.base import Verdict
from accord.outbox.models import OutboxMessage

# Every path counts attempts (a claim is one): after this many a retry gives up, `dead`.
MAX_ATTEMPTS = 6
# A failure's text as kept on the row.
ERROR_CHARS = 2000
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
    dead: int = 0

    def add(self, other: Outcome) -> None:
        self.sent += other.sent
        self.skipped += other.skipped
        self.deferred += other.deferred
        self.failed += other.failed
        self.dead += other.dead

    @property
    def total(self) -> int:
        return self.sent + self.skipped + self.deferred + self.failed + self.dead


# Every row of the chunk leaves `sending` through this one statement, run once per chunk with
# one parameter set per row. A NULL keeps the column's value (sent_at, to_address, last_error,
# error_code, provider_ref).
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
        error_code=func.coalesce(
            bindparam("b_code", type_=_outbox.c.error_code.type), _outbox.c.error_code
        ),
        provider_ref=func.coalesce(
            bindparam("b_ref", type_=_outbox.c.provider_ref.type), _outbox.c.provider_ref
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
        "b_code": None,
        "b_ref": None,
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
    "b_code": String(),
    "b_ref": String(),
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
        error_code=func.coalesce(_new.c.b_code, _outbox.c.error_code),
        provider_ref=func.coalesce(_new.c.b_ref, _outbox.c.provider_ref),
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


def failed(row: OutboxRow, reason: str, error: str, code: str | None = None) -> dict[str, Any]:
    """The message cannot go, for good: that row alone, its attempt counted."""
    return result(row, "failed", reason=reason, error=error[:ERROR_CHARS], code=code)


def of_verdict(
    row: OutboxRow, verdict: Verdict, address: str, now: datetime, outcome: Outcome
) -> dict[str, Any]:
    """The row's outcome from its channel's verdict."""
    error, code = verdict.detail[:ERROR_CHARS] or None, verdict.code
    if verdict.status in ("sent", "delivered"):
        outcome.sent += 1
        return result(
            row, verdict.status, sent_at=now, to=address, reason=None, ref=verdict.provider_ref
        )
    if verdict.status == "throttled":  # the provider's pace, not the message's fault
        later = now + timedelta(seconds=verdict.retry_after or backoff(1).total_seconds())
        return result(
            row, "queued", not_before=later, attempts=row.attempts - 1, error=error, code=code
        )
    if verdict.status == "retry":
        if row.attempts >= MAX_ATTEMPTS:
            outcome.dead += 1
            return result(row, "dead", reason="attempts", error=error, code=code)
        wait = backoff(row.attempts)
        if verdict.retry_after is not None:
            wait = max(wait, timedelta(seconds=verdict.retry_after))
        return result(row, "queued", not_before=now + wait, error=error, code=code)
    outcome.failed += 1
    return failed(row, "refused", verdict.detail or "refused by the channel", code)
