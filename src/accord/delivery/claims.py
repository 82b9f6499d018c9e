"""Claiming due outbox rows with a lease: FOR UPDATE SKIP LOCKED on PostgreSQL, the single
writer lock on SQLite. A killed worker's rows come back when its lease runs out.

Claims are fair across brands: every brand with due messages gets an equal share of a claim
(round robin), so one brand's big, slow or failing campaign never holds another brand's mail
back by more than its own share of one batch."""

from __future__ import annotations

import math
import uuid
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Integer, Uuid, any_, bindparam, func, select, text, union_all, update
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import BindParameter

from accord.core.db import UTCDateTime
from accord.outbox.models import OutboxMessage

# The brands with queued rows, one index probe each (a skip scan of ix_outbox_brand_due,
# whatever the number of rows), from the one after `after`; then those with any due now.
_BRANDS = """
    WITH RECURSIVE queued(brand_id) AS (
        SELECT (SELECT brand_id FROM outbox
                WHERE state = 'queued' {after}
                ORDER BY state, brand_id LIMIT 1)
        UNION ALL
        SELECT (SELECT o.brand_id FROM outbox o
                WHERE o.state = 'queued' AND o.brand_id > queued.brand_id
                ORDER BY o.state, o.brand_id LIMIT 1)
        FROM queued WHERE queued.brand_id IS NOT NULL
    )
    SELECT brand_id FROM queued
    WHERE brand_id IS NOT NULL AND EXISTS (
        SELECT 1 FROM outbox d
        WHERE d.state = 'queued' AND d.brand_id = queued.brand_id AND d.not_before <= :now
    )
    LIMIT :cap
"""
_PARAMS: tuple[BindParameter[Any], ...] = (
    bindparam("now", type_=UTCDateTime()),
    bindparam("cap", type_=Integer()),
)
_ALL_BRANDS = text(_BRANDS.format(after="")).bindparams(*_PARAMS).columns(brand_id=Uuid())
_BRANDS_AFTER = (
    text(_BRANDS.format(after="AND brand_id > :after"))
    .bindparams(*_PARAMS, bindparam("after", type_=Uuid()))
    .columns(brand_id=Uuid())
)


@dataclass
class Turn:
    """Where the next claim starts among the brands, when more have due rows than a claim
    has room for (else every brand with due rows has a share of each claim)."""

    after: uuid.UUID | None = None


def due_brands(session: Session, now: datetime, cap: int, turn: Turn) -> list[uuid.UUID]:
    """Up to `cap` brands with queued rows due at `now`, in brand order from the one after
    `turn.after`, wrapping round; `turn` moves on past the last one when `cap` is reached."""
    params = {"now": now, "cap": cap}
    if turn.after is None:
        found = list(session.scalars(_ALL_BRANDS, params))
    else:
        found = list(session.scalars(_BRANDS_AFTER, params | {"after": turn.after}))
        if len(found) < cap:
            seen = set(found)
            more = session.scalars(_ALL_BRANDS, params)
            found += [b for b in more if b not in seen][: cap - len(found)]
    turn.after = found[-1] if len(found) == cap else None
    return found


def claim(
    session: Session,
    *,
    owner: str,
    now: datetime,
    limit: int,
    lease: timedelta,
    turn: Turn | None = None,
) -> list[tuple[int, uuid.UUID]]:
    """At most `limit` due rows leased to `owner`, as (id, person), brands taking turns: the
    first due row of each brand, then the second of each, and so on; each brand's rows in
    `not_before` order.

    One ordered walk of the (state, brand_id, not_before) index per brand with queued rows due
    (an equal share of `limit` each), and of the (state, not_before) index for deferred rows
    and for sending rows whose lease ran out; the picked rows are ranked within their brand
    and the first `limit` by rank taken. A single OR over the kinds would read and sort every
    due row of the outbox for each claim: a million-row campaign would cost a million-row sort
    per batch."""
    o = OutboxMessage
    postgres = session.get_bind().dialect.name == "postgresql"

    def walk(*where: Any, order: Any = o.not_before, size: int = limit) -> Any:
        query = select(o.id, o.brand_id, o.not_before).where(*where).order_by(order).limit(size)
        return query.with_for_update(skip_locked=True) if postgres else query

    brands = due_brands(session, now, limit, turn or Turn())
    share = math.ceil(limit / len(brands)) if brands else 0
    kinds = [
        walk(o.state == "queued", o.brand_id == brand, o.not_before <= now, size=share)
        for brand in brands
    ]
    kinds += [
        walk(o.state == "deferred", o.not_before <= now),
        walk(o.state == "sending", o.lease_expires_at < now),
    ]
    subqueries = [kind.subquery() for kind in kinds]
    merged = union_all(
        *(select(sub.c.id, sub.c.brand_id, sub.c.not_before) for sub in subqueries)
    ).subquery()
    rank = (
        func.row_number()
        .over(partition_by=merged.c.brand_id, order_by=(merged.c.not_before, merged.c.id))
        .label("rank")
    )
    ranked = select(merged.c.id, merged.c.not_before, rank).subquery()
    pick = (
        select(ranked.c.id)
        .order_by(ranked.c.rank, ranked.c.not_before, ranked.c.id)
        .limit(limit)
        .scalar_subquery()
    )
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
        .returning(o.id, o.person_id, o.brand_id, o.not_before)
    ).all()
    return taking_turns(rows)


def taking_turns(rows: Any) -> list[tuple[int, uuid.UUID]]:
    """(id, person) of `rows` (id, person_id, brand_id, not_before), brands taking turns."""
    by_brand: dict[uuid.UUID, list[Any]] = defaultdict(list)
    for row in sorted(rows, key=lambda r: (r.not_before, r.id)):
        by_brand[row.brand_id].append(row)
    turns = sorted(
        (
            (i, brand_rows[0].not_before, row)
            for brand_rows in by_brand.values()
            for i, row in enumerate(brand_rows)
        ),
        key=lambda t: (t[0], t[1], t[2].id),
    )
    return [(row.id, row.person_id) for _, _, row in turns]


def release(session: Session, owner: str, now: datetime) -> int:
    """End `owner`'s leases now (its chunk failed; nothing of it is in flight): its rows are
    due for the next claim. Returns how many."""
    o = OutboxMessage
    ended = session.execute(
        update(o)
        .where(o.lease_owner == owner, o.state == "sending")
        .values(lease_expires_at=now - timedelta(seconds=1))
    )
    return int(getattr(ended, "rowcount", 0) or 0)
