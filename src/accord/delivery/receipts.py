"""Delivery receipts: a channel's later word on a message it took (an SMS carrier's status
callback, a provider's webhook). They move a handed-over row on: `sent` → `delivered` or
`undelivered`, and `delivered` → `undelivered` (a carrier may say so after all); a receipt
never moves a row back, and one for a message we do not know changes nothing.

The row is found by (channel, provider reference): the id the provider gave the message when
it took it (`Verdict.provider_ref`), kept on the row by the worker."""

from __future__ import annotations

from typing import Literal, cast

from sqlalchemy import Table, update
from sqlalchemy.orm import Session

from accord.delivery.outcomes import ERROR_CHARS
from accord.outbox.models import OutboxMessage

_outbox = cast(Table, OutboxMessage.__table__)
FROM = {"delivered": ("sent",), "undelivered": ("sent", "delivered")}


def apply(
    session: Session,
    *,
    channel: str,
    provider_ref: str,
    status: Literal["delivered", "undelivered"],
    code: str | None = None,
    detail: str | None = None,
) -> int | None:
    """Record a receipt; the outbox row's id, or None when no row is waiting for it."""
    values: dict[str, object] = {"state": status}
    if code is not None:
        values["error_code"] = code[:64]
    if detail is not None:
        values["last_error"] = detail[:ERROR_CHARS]
    row_id = session.execute(
        update(_outbox)
        .where(
            _outbox.c.channel == channel,
            _outbox.c.provider_ref == provider_ref,
            _outbox.c.provider_ref.is_not(None),
            _outbox.c.state.in_(FROM[status]),
        )
        .values(values)
        .returning(_outbox.c.id)
    ).scalar()
    return int(row_id) if row_id is not None else None
