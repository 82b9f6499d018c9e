"""Numbers the workers keep in the database for /metrics: every worker process adds to the
same row, so the figure is the fleet's, whichever web process serves the scrape."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from accord.delivery import claims
from accord.outbox.models import DeliveryCounter, OutboxMessage

LEASE_TAKEOVERS = "lease_takeovers"


def add(session: Session, name: str, n: int) -> None:
    """Add `n` to the counter `name` (created at 0 the first time)."""
    if n <= 0:
        return
    insert = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    statement = insert(DeliveryCounter).values(name=name, value=n)
    session.execute(
        statement.on_conflict_do_update(
            index_elements=["name"], set_={"value": DeliveryCounter.value + n}
        )
    )


def values(session: Session) -> dict[str, int]:
    return {
        name: value
        for name, value in session.execute(select(DeliveryCounter.name, DeliveryCounter.value))
    }


def claim(
    session: Session,
    *,
    owner: str,
    now: datetime,
    limit: int,
    lease: timedelta,
    turn: claims.Turn | None = None,
) -> list[tuple[int, uuid.UUID]]:
    """`claims.claim`, counting the rows it takes over from a worker whose lease ran out (a
    worker that died or stalled): the few rows in `sending` with an expired lease are read
    first, and those among the claimed are the take-overs."""
    expired = set(
        session.scalars(
            select(OutboxMessage.id)
            .where(OutboxMessage.state == "sending", OutboxMessage.lease_expires_at < now)
            .limit(limit)
        )
    )
    rows = claims.claim(session, owner=owner, now=now, limit=limit, lease=lease, turn=turn)
    if expired:
        add(session, LEASE_TAKEOVERS, sum(1 for row_id, _ in rows if row_id in expired))
    return rows
