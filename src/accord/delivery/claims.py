"""Claiming due outbox rows with a lease: FOR UPDATE SKIP LOCKED on PostgreSQL, the single
writer lock on SQLite. A killed worker's rows come back when its lease runs out."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import and_, or_, select, update
from sqlalchemy.orm import Session

from accord.outbox.models import OutboxMessage

DUE_STATES = ("queued", "deferred")


def claim(
    session: Session, *, owner: str, now: datetime, limit: int, lease: timedelta
) -> list[int]:
    due = or_(
        and_(OutboxMessage.state.in_(DUE_STATES), OutboxMessage.not_before <= now),
        and_(OutboxMessage.state == "sending", OutboxMessage.lease_expires_at < now),
    )
    pick = (
        select(OutboxMessage.id)
        .where(due)
        .order_by(OutboxMessage.not_before, OutboxMessage.id)
        .limit(limit)
    )
    if session.get_bind().dialect.name == "postgresql":
        pick = pick.with_for_update(skip_locked=True)
    rows = session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.id.in_(pick.scalar_subquery()))
        .values(
            state="sending",
            lease_owner=owner,
            lease_expires_at=now + lease,
            attempts=OutboxMessage.attempts + 1,
        )
        .returning(OutboxMessage.id)
    ).all()
    return sorted(row[0] for row in rows)
