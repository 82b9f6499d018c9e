"""Claiming due outbox rows with a lease: FOR UPDATE SKIP LOCKED on PostgreSQL, the single
writer lock on SQLite. A killed worker's rows come back when its lease runs out."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import any_, func, select, union_all, update
from sqlalchemy.orm import Session

from accord.outbox.models import OutboxMessage


def claim(
    session: Session, *, owner: str, now: datetime, limit: int, lease: timedelta
) -> list[tuple[int, uuid.UUID]]:
    """The oldest due rows (by `not_before`), at most `limit`, leased to `owner`: (id, person)
    in id order.

    One ordered walk of the (state, not_before) index per kind of due row — queued, deferred,
    and sending with an expired lease — each stopping after `limit` rows, merged by
    `not_before`. A single OR over the three would read and sort every due row of the outbox
    for each claim: a million-row campaign would cost a million-row sort per batch."""
    o = OutboxMessage
    postgres = session.get_bind().dialect.name == "postgresql"

    def walk(*where: Any) -> Any:
        query = select(o.id, o.not_before).where(*where).order_by(o.not_before).limit(limit)
        return query.with_for_update(skip_locked=True) if postgres else query

    kinds = [
        walk(o.state == "queued", o.not_before <= now),
        walk(o.state == "deferred", o.not_before <= now),
        walk(o.state == "sending", o.lease_expires_at < now),
    ]
    subqueries = [kind.subquery() for kind in kinds]
    merged = union_all(*(select(sub.c.id, sub.c.not_before) for sub in subqueries)).subquery()
    pick = select(merged.c.id).order_by(merged.c.not_before).limit(limit).scalar_subquery()
    # PostgreSQL: `= ANY(ARRAY(…))` runs the pick once, then fetches its rows by primary key;
    # for `IN (…)` it may hash-join the pick against a scan of the whole outbox.
    picked = o.id == any_(func.array(pick)) if postgres else o.id.in_(pick)
    rows = session.execute(
        update(o)
        .where(picked)
        .values(
            state="sending",
            lease_owner=owner,
            lease_expires_at=now + lease,
            attempts=o.attempts + 1,
        )
        .returning(o.id, o.person_id)
    ).all()
    return sorted((row.id, row.person_id) for row in rows)
