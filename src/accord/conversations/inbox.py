"""The brand's inbox: a page of threads, newest activity first, with unread counts and the
last message's preview, under one of the filters; and the service times.

A page is one statement over one index range of the thread table (brand, status [, whose
turn | assignee], last activity): unread counts and previews live on the thread row, so no
message is read or counted. `bench/inbox.py` holds it to a hand-written floor.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from functools import cache
from typing import Any, NamedTuple, cast

from sqlalchemy import Integer, Select, Table, Uuid, bindparam, func, literal_column, select, tuple_
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import BindParameter

from accord.brands.models import Brand, Member
from accord.conversations.models import Thread
from accord.core.db import UTCDateTime, utcnow
from accord.core.direct import Direct
from accord.core.errors import InvalidInput
from accord.core.pagination import MAX_LIMIT, decode_cursor, encode_cursor
from accord.people.models import Person

PAGE = 50


class Filter(StrEnum):
    open = "open"
    waiting = "waiting"  # open, and the person wrote last: waiting on us
    mine = "mine"  # open, assigned to the caller
    closed = "closed"
    all = "all"


FILTER_TEXT = {
    Filter.open: "Open",
    Filter.waiting: "Waiting on us",
    Filter.mine: "Assigned to me",
    Filter.closed: "Closed",
    Filter.all: "All",
}


class Row(NamedTuple):
    """One thread as the inbox lists it (a tuple: built straight from the result's rows)."""

    id: uuid.UUID
    person_id: uuid.UUID
    person_name: str
    subject: str
    status: str
    waiting_on: str
    unread: int
    last_message_at: datetime
    last_author: str
    preview: str
    assigned_member_id: uuid.UUID | None
    assigned_name: str | None


_t = cast(Table, Thread.__table__)
_p = cast(Table, Person.__table__)
_m = cast(Table, Member.__table__)


@cache
def _statement(kind: Filter, after: bool) -> Select[Any]:
    """Built once per filter and cursor presence; values are bound at execution."""
    t = _t.c
    query = (
        select(
            t.id,
            t.person_id,
            _p.c.display_name,
            t.subject,
            t.status,
            t.waiting_on,
            t.brand_unread,
            t.last_message_at,
            t.last_author,
            t.last_preview,
            t.assigned_member_id,
            _m.c.display_name.label("assigned_name"),
        )
        .select_from(_t)
        .join(_p, _p.c.id == t.person_id)
        .outerjoin(_m, _m.c.id == t.assigned_member_id)
        .where(t.brand_id == bindparam("brand", type_=Uuid()))
    )
    # The filters' constants and the page size are written into the SQL, not bound: a plan
    # PostgreSQL prepares for `LIMIT $n` cannot know the page is small (it then hash-joins
    # every open thread's person and sorts), nor how few rows a status matches.
    if kind in (Filter.open, Filter.waiting, Filter.mine):
        query = query.where(t.status == literal_column("'open'"))
    elif kind is Filter.closed:
        query = query.where(t.status == literal_column("'closed'"))
    if kind is Filter.waiting:
        query = query.where(t.waiting_on == literal_column("'brand'"))
    if kind is Filter.mine:
        query = query.where(t.assigned_member_id == bindparam("member", type_=Uuid()))
    if after:
        when = bindparam("after_at", type_=UTCDateTime())
        last = bindparam("after_id", type_=t.id.type)
        # A row-value comparison: both planners read it as one range of the index.
        query = query.where(tuple_(t.last_message_at, t.id) < tuple_(when, last))
    size: BindParameter[int] = bindparam("limit", type_=Integer(), literal_execute=True)
    return query.order_by(t.last_message_at.desc(), t.id.desc()).limit(size)


def page(
    session: Session,
    brand_id: uuid.UUID,
    kind: Filter = Filter.open,
    *,
    member_id: uuid.UUID | None = None,
    cursor: str | None = None,
    limit: int = PAGE,
) -> tuple[list[Row], str | None]:
    """One page of the inbox and the cursor of the next (None on the last page)."""
    if not 1 <= limit <= MAX_LIMIT:
        raise InvalidInput(f"limit must be between 1 and {MAX_LIMIT}.", field="limit")
    params: dict[str, Any] = {"brand": brand_id, "limit": limit + 1}
    if kind is Filter.mine:
        if member_id is None:
            raise InvalidInput("Only a signed-in member has threads of their own.", field="filter")
        params["member"] = member_id
    if cursor:
        params["after_at"], params["after_id"] = decode_cursor(cursor)
    make = Row._make
    rows = [make(r) for r in session.execute(_statement(kind, bool(cursor)), params).all()]
    next_cursor = None
    if len(rows) > limit:
        rows = rows[:limit]
        next_cursor = encode_cursor(rows[-1].last_message_at, rows[-1].id)
    return rows, next_cursor


COUNT_CAP = 999


def counts(session: Session, brand_id: uuid.UUID, member_id: uuid.UUID | None) -> dict[str, int]:
    """Open threads, those waiting on the brand, and those assigned to the member, each counted
    up to COUNT_CAP + 1 over one range of an index (shown as "999+"): a big inbox's tabs cost
    what a small one's do."""
    if member_id is None:
        row = _COUNTS[False].first(session, brand=brand_id)
    else:
        row = _COUNTS[True].first(session, brand=brand_id, member=member_id)
    found = {name: int(value or 0) for name, value in row._asdict().items()}
    found.setdefault("mine", 0)
    return found


def _counts(mine: bool) -> Direct:
    """The tabs' counts, built once with the brand (and member) bound and run on the session's
    cursor (`core.direct`): the inbox reads them on every view."""
    t = _t.c
    brand = bindparam("brand", type_=Uuid())
    open_ = (t.brand_id == brand, t.status == "open")
    queries = {
        "open": select(t.id).where(*open_),
        "waiting": select(t.id).where(*open_, t.waiting_on == "brand"),
    }
    if mine:
        queries["mine"] = select(t.id).where(
            t.brand_id == brand,
            t.assigned_member_id == bindparam("member", type_=Uuid()),
            t.status == "open",
        )
    # Each count a scalar sub-query of one SELECT: one round trip for the tabs, not three.
    return Direct(
        select(
            *(
                select(func.count())
                .select_from(query.limit(COUNT_CAP + 1).subquery())
                .scalar_subquery()
                .label(name)
                for name, query in queries.items()
            )
        )
    )


_COUNTS = {False: _counts(False), True: _counts(True)}


def count_text(n: int) -> str:
    return f"{COUNT_CAP}+" if n > COUNT_CAP else str(n)


@dataclass(frozen=True)
class ServiceTimes:
    days: int
    answered: int
    first_response_seconds: float | None
    resolved: int
    resolution_seconds: float | None


# Built once and run on the session's cursor (`core.direct`): the inbox shows them on every view.
_SERVICE_TIMES = Direct(
    select(
        func.count(_t.c.first_response_seconds),
        func.avg(_t.c.first_response_seconds),
        func.count(_t.c.resolution_seconds),
        func.avg(_t.c.resolution_seconds),
    ).where(
        _t.c.brand_id == bindparam("brand", type_=Uuid()),
        _t.c.created_at >= bindparam("since", type_=UTCDateTime()),
    )
)


def service_times(session: Session, brand_id: uuid.UUID, *, days: int = 30) -> ServiceTimes:
    """Average first-response and resolution times of the threads started in the last `days`."""
    since = utcnow() - timedelta(days=days)
    row = _SERVICE_TIMES.first(session, brand=brand_id, since=since)
    return ServiceTimes(
        days=days,
        answered=int(row[0]),
        first_response_seconds=float(row[1]) if row[1] is not None else None,
        resolved=int(row[2]),
        resolution_seconds=float(row[3]) if row[3] is not None else None,
    )


def duration_text(seconds: float | None) -> str:
    if seconds is None:
        return "none yet"
    if seconds < 60:
        return f"{seconds:.0f} s"
    if seconds < 3600:
        return f"{seconds / 60:.0f} min"
    if seconds < 86400:
        return f"{seconds / 3600:.1f} h"
    return f"{seconds / 86400:.1f} days"


# The console home's section reads these on every view, so its two statements are built once
# and run on the session's cursor (`core.direct`): through the ORM each cost several times what
# the database spent on it. The tabs' counts and the service times are one, the threads the
# other.
SHOWN = 5
DAYS = 30


def _summary() -> Direct:
    t = _t.c
    brand = bindparam("brand", type_=Uuid())
    open_ = t.status == literal_column("'open'")

    def capped(*where: Any) -> Any:
        threads = select(t.id).where(t.brand_id == brand, *where).limit(COUNT_CAP + 1)
        return select(func.count()).select_from(threads.subquery()).scalar_subquery()

    times = (
        select(
            func.count(t.first_response_seconds).label("answered"),
            func.avg(t.first_response_seconds).label("first_response"),
            func.count(t.resolution_seconds).label("resolved"),
            func.avg(t.resolution_seconds).label("resolution"),
        )
        .where(t.brand_id == brand, t.created_at >= bindparam("since", type_=UTCDateTime()))
        .subquery("times")
    )
    # No member (an API key's caller): NULL matches no assignee, so none are "mine".
    mine = t.assigned_member_id == bindparam("member", type_=Uuid())
    waiting = capped(open_, t.waiting_on == literal_column("'brand'")).label("waiting")
    return Direct(select(waiting, capped(mine, open_).label("mine"), times))


_SUMMARY = _summary()
# The first threads waiting on the brand, as the inbox's "waiting on us" shows them.
_WAITING = Direct(_statement(Filter.waiting, False).limit(literal_column(str(SHOWN))))


def summary(
    session: Session, brand_id: uuid.UUID, member_id: uuid.UUID | None
) -> tuple[dict[str, int], list[Row], ServiceTimes]:
    """The console home's: the counts of two tabs ("waiting", "mine", as `counts`), the first
    threads waiting on the brand, the service times of the last DAYS."""
    since = utcnow() - timedelta(days=DAYS)
    row = _SUMMARY.first(session, brand=brand_id, member=member_id, since=since)
    counts = {"waiting": int(row.waiting or 0), "mine": int(row.mine or 0)}
    times = ServiceTimes(
        days=DAYS,
        answered=int(row.answered),
        first_response_seconds=_seconds(row.first_response),
        resolved=int(row.resolved),
        resolution_seconds=_seconds(row.resolution),
    )
    return counts, [Row._make(r) for r in _WAITING.all(session, brand=brand_id)], times


def _seconds(value: Any) -> float | None:
    return float(value) if value is not None else None


@dataclass(frozen=True)
class PersonRow:
    id: uuid.UUID
    brand_id: uuid.UUID
    brand_name: str
    subject: str
    status: str
    unread: int
    last_message_at: datetime
    last_author: str
    preview: str


def person_threads(
    session: Session, person_id: uuid.UUID, brand_id: uuid.UUID | None = None, *, limit: int = 200
) -> list[PersonRow]:
    """The person's threads (with one brand, or all), newest activity first."""
    values: dict[str, Any] = {"person": person_id}
    if brand_id is not None:
        values["brand"] = brand_id
    rows = _person_threads(brand_id is not None, limit).all(session, **values)
    return [PersonRow(*row) for row in rows]


@cache
def _person_threads(by_brand: bool, limit: int) -> Direct:
    """`person_threads`' read, built once (the relationship page's panel runs it on every
    view) and run on the cursor (`core.direct`): the person and the brand are bound at
    execution."""
    t = Thread
    query = (
        select(
            t.id,
            t.brand_id,
            Brand.name,
            t.subject,
            t.status,
            t.person_unread,
            t.last_message_at,
            t.last_author,
            t.last_preview,
        )
        .join(Brand, Brand.id == t.brand_id)
        .where(t.person_id == bindparam("person", type_=Uuid()))
        .order_by(t.last_message_at.desc(), t.id.desc())
        .limit(limit)
    )
    if by_brand:
        query = query.where(t.brand_id == bindparam("brand", type_=Uuid()))
    return Direct(query)
