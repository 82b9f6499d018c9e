"""RFM segments in SQL: quintile scores, named segments, the R-by-F grid and thin segments.

Scores per customer of a brand, at an as-of day (default: the brand's latest purchase day, so
a brand whose imports lag still gets meaningful recency):

- recency: days from the last purchase day to the as-of day;
- frequency: distinct purchase days (refund rows do not count);
- monetary: total spend (refunds subtract).

Each is cut into quintiles with ``NTILE(5)``; 5 is best (most recent, most frequent, highest
spend). ``NTILE`` puts tied customers in order before cutting, so ties are broken by the other
two measures and finally by customer id: the same data gives the same scores on SQLite and
PostgreSQL.

Segment map: the widely used R by FM grid (as in Putler's RFM segments), with "lost" split
from "hibernating". FM is ``(F + M) / 2`` rounded half up. Rows are R, columns FM 1 to 5:

    R 5: new            potential      potential       champions  champions
    R 4: promising      potential      potential       loyal      loyal
    R 3: about to sleep about to sleep need attention  loyal      loyal
    R 2: hibernating    hibernating    at risk         at risk    can't lose them
    R 1: lost           lost           at risk         at risk    can't lose them

Aggregates over fewer than ``MIN_GROUP`` (5) customers are never shown.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import (
    Date,
    Integer,
    Select,
    String,
    and_,
    bindparam,
    case,
    distinct,
    exists,
    func,
    literal,
    select,
)
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import Session
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.elements import ColumnElement
from sqlalchemy.sql.functions import FunctionElement

from accord.analytics.models import Customer, CustomerScore, Transaction
from accord.relationships.models import PurposeGrant, Topic, TopicChoice

MIN_GROUP = 5


# --- Portable day arithmetic (SQLite stores naive UTC text; PostgreSQL timestamptz). ----------


class utc_day(FunctionElement[Any]):
    """The UTC calendar day of a timestamp: a date (PostgreSQL) or 'YYYY-MM-DD' (SQLite)."""

    type = Date()
    inherit_cache = True


@compiles(utc_day)
def _utc_day_sqlite(element: utc_day, compiler: SQLCompiler, **kw: Any) -> str:
    return f"date({compiler.process(element.clauses, **kw)})"


@compiles(utc_day, "postgresql")
def _utc_day_pg(element: utc_day, compiler: SQLCompiler, **kw: Any) -> str:
    return f"CAST(timezone('UTC', {compiler.process(element.clauses, **kw)}) AS DATE)"


class utc_week(FunctionElement[Any]):
    """The Monday (UTC) of a timestamp's ISO week, as a day."""

    type = Date()
    inherit_cache = True


@compiles(utc_week)
def _utc_week_sqlite(element: utc_week, compiler: SQLCompiler, **kw: Any) -> str:
    return f"date({compiler.process(element.clauses, **kw)}, 'weekday 0', '-6 days')"


@compiles(utc_week, "postgresql")
def _utc_week_pg(element: utc_week, compiler: SQLCompiler, **kw: Any) -> str:
    inner = compiler.process(element.clauses, **kw)
    return f"CAST(date_trunc('week', timezone('UTC', {inner})) AS DATE)"


class days_between(FunctionElement[Any]):
    """Whole days from the first day to the second (both days, as `utc_day` gives them)."""

    type = Integer()
    inherit_cache = True


@compiles(days_between)
def _days_sqlite(element: days_between, compiler: SQLCompiler, **kw: Any) -> str:
    start, end = (compiler.process(c, **kw) for c in element.clauses)
    return f"CAST(round(julianday({end}) - julianday({start})) AS INTEGER)"


@compiles(days_between, "postgresql")
def _days_pg(element: days_between, compiler: SQLCompiler, **kw: Any) -> str:
    start, end = (compiler.process(c, **kw) for c in element.clauses)
    return f"(CAST({end} AS DATE) - CAST({start} AS DATE))"


def signed_amount() -> ColumnElement[Any]:
    """A transaction's amount with refunds counting against spend, whatever their sign."""
    return case((Transaction.is_refund, -func.abs(Transaction.amount)), else_=Transaction.amount)


# --- Segments ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Segment:
    key: str
    label: str
    meaning: str


SEGMENTS: dict[str, Segment] = {
    s.key: s
    for s in (
        Segment("champions", "Champions", "Bought recently, buy often and spend the most."),
        Segment("loyal", "Loyal", "Buy regularly and spend well; not necessarily very recently."),
        Segment(
            "potential_loyalists",
            "Potential loyalists",
            "Recent customers with average frequency and spend.",
        ),
        Segment("new", "New", "Bought very recently, but only once or for little."),
        Segment("promising", "Promising", "Fairly recent, but few purchases and little spend."),
        Segment(
            "need_attention", "Need attention", "Middle recency, frequency and spend: slipping?"
        ),
        Segment("about_to_sleep", "About to sleep", "Below-average recency, frequency and spend."),
        Segment("at_risk", "At risk", "Bought often and spent well, but a long time ago."),
        Segment(
            "cant_lose", "Can't lose them", "Were among the best customers; not seen for long."
        ),
        Segment("hibernating", "Hibernating", "Last bought long ago, rarely and for little."),
        Segment("lost", "Lost", "The lowest recency, frequency and spend."),
    )
}

# (segment, R scores, FM scores): every one of the 25 cells is in exactly one segment.
SEGMENT_MAP: list[tuple[str, tuple[int, ...], tuple[int, ...]]] = [
    ("champions", (5,), (4, 5)),
    ("loyal", (3, 4), (4, 5)),
    ("potential_loyalists", (4, 5), (2, 3)),
    ("new", (5,), (1,)),
    ("promising", (4,), (1,)),
    ("need_attention", (3,), (3,)),
    ("about_to_sleep", (3,), (1, 2)),
    ("at_risk", (1, 2), (3, 4)),
    ("cant_lose", (1, 2), (5,)),
    ("hibernating", (2,), (1, 2)),
    ("lost", (1,), (1, 2)),
]


def fm_score(f: int, m: int) -> int:
    return (f + m + 1) // 2


def segment_of(r: int, f: int, m: int) -> str:
    """The segment for R, F and M scores (1-5), as the SQL computes it."""
    fm = fm_score(f, m)
    for key, rs, fms in SEGMENT_MAP:
        if r in rs and fm in fms:
            return key
    raise ValueError(f"RFM scores out of range: {r}{f}{m}")


def _segment_case(r: ColumnElement[Any], f: Any, m: Any) -> ColumnElement[str]:
    fm = (f + m + 1) // 2
    return case(
        *[(and_(r.in_(rs), fm.in_(fms)), literal(key)) for key, rs, fms in SEGMENT_MAP],
        else_=literal(None, String()),
    )


def _latest_day(brand_id: uuid.UUID) -> ColumnElement[Any]:
    return (
        select(func.max(utc_day(Transaction.occurred_at)))
        .where(Transaction.brand_id == brand_id)
        .scalar_subquery()
    )


def _ntile(*order: Any) -> Any:
    return func.ntile(5, type_=Integer()).over(order_by=list(order))


def rfm_select(brand_id: uuid.UUID, as_of: date | None = None) -> Select[Any]:
    """One row per customer with a purchase up to `as_of`: measures, R/F/M scores, segment.

    Columns: customer_id, external_id, person_id, recency_days, frequency, monetary, channels
    (distinct purchase channels), r, f, m, segment. Transactions after the as-of day are ignored.
    """
    t = Transaction
    day = utc_day(t.occurred_at)
    if as_of is None:
        as_of_day: Any = _latest_day(brand_id)
        window: ColumnElement[bool] = literal(True)
    else:
        as_of_day = bindparam("rfm_as_of", as_of, type_=Date())
        window = day <= as_of_day
    purchase_day = case((t.is_refund, None), else_=day)
    base = (
        select(
            t.customer_id.label("customer_id"),
            func.max(purchase_day).label("last_day"),
            func.count(distinct(purchase_day)).label("frequency"),
            func.sum(signed_amount()).label("monetary"),
            func.count(distinct(t.channel)).label("channels"),
        )
        .where(t.brand_id == brand_id, window)
        .group_by(t.customer_id)
        .subquery("rfm_base")
    )
    recency = days_between(base.c.last_day, as_of_day)
    measured = (
        select(
            base.c.customer_id,
            Customer.external_id,
            Customer.person_id,
            recency.label("recency_days"),
            base.c.frequency,
            base.c.monetary,
            base.c.channels,
        )
        .join(Customer, Customer.id == base.c.customer_id)
        .where(base.c.frequency > 0)
        .subquery("rfm_measured")
    )
    c = measured.c
    ranked = select(
        c.customer_id,
        c.external_id,
        c.person_id,
        c.recency_days,
        c.frequency,
        c.monetary,
        c.channels,
        _ntile(c.recency_days.desc(), c.frequency, c.monetary, c.customer_id).label("r"),
        _ntile(c.frequency, c.monetary, c.recency_days.desc(), c.customer_id).label("f"),
        _ntile(c.monetary, c.frequency, c.recency_days.desc(), c.customer_id).label("m"),
    ).subquery("rfm_ranked")
    k = ranked.c
    return select(*k, _segment_case(k.r, k.f, k.m).label("segment"))


@dataclass(frozen=True)
class RFMRow:
    customer_id: uuid.UUID
    external_id: str
    person_id: uuid.UUID | None
    recency_days: int
    frequency: int
    monetary: float
    channels: int
    r: int
    f: int
    m: int
    segment: str

    @property
    def rfm(self) -> str:
        return f"{self.r}{self.f}{self.m}"


def rfm_table(session: Session, brand_id: uuid.UUID, as_of: date | None = None) -> list[RFMRow]:
    """Every customer's RFM measures, scores and segment, computed in one statement."""
    sub = rfm_select(brand_id, as_of).subquery("rfm")
    query = select(sub).order_by(sub.c.r.desc(), sub.c.f.desc(), sub.c.m.desc(), sub.c.external_id)
    return [
        RFMRow(
            customer_id=row.customer_id,
            external_id=row.external_id,
            person_id=row.person_id,
            recency_days=int(row.recency_days),
            frequency=int(row.frequency),
            monetary=float(row.monetary or 0),
            channels=int(row.channels),
            r=int(row.r),
            f=int(row.f),
            m=int(row.m),
            segment=row.segment,
        )
        for row in session.execute(query)
    ]


def shown(count: int, min_group: int = MIN_GROUP) -> int | None:
    """A count as it may be shown: None (suppressed) for 1 to min_group - 1 customers."""
    return count if count == 0 or count >= min_group else None


@dataclass(frozen=True)
class RFMGrid:
    """Customers per (R, F) cell; None where fewer than 5 (suppressed)."""

    cells: dict[tuple[int, int], int | None]
    total: int

    @property
    def suppressed(self) -> int:
        return sum(1 for v in self.cells.values() if v is None)

    @property
    def largest(self) -> int:
        return max((v for v in self.cells.values() if v), default=0)


def rfm_grid(session: Session, brand_id: uuid.UUID, as_of: date | None = None) -> RFMGrid:
    sub = rfm_select(brand_id, as_of).subquery("rfm")
    rows = session.execute(select(sub.c.r, sub.c.f, func.count()).group_by(sub.c.r, sub.c.f)).all()
    counts = {(int(r), int(f)): int(n) for r, f, n in rows}
    cells = {(r, f): shown(counts.get((r, f), 0)) for r in range(1, 6) for f in range(1, 6)}
    return RFMGrid(cells=cells, total=sum(counts.values()))


@dataclass(frozen=True)
class SegmentCount:
    segment: Segment
    customers: int | None
    spend: float | None
    average_spend: float | None
    average_recency_days: float | None


def segment_counts(
    session: Session, brand_id: uuid.UUID, as_of: date | None = None
) -> list[SegmentCount]:
    """Customers and spend per named segment (in map order); figures for < 5 are None."""
    sub = rfm_select(brand_id, as_of).subquery("rfm")
    rows = {
        row.segment: row
        for row in session.execute(
            select(
                sub.c.segment,
                func.count().label("n"),
                func.sum(sub.c.monetary).label("spend"),
                func.avg(sub.c.recency_days).label("recency"),
            ).group_by(sub.c.segment)
        )
    }
    out = []
    for key, segment in SEGMENTS.items():
        row = rows.get(key)
        n = int(row.n) if row is not None else 0
        visible = shown(n)
        big = row is not None and visible is not None and n > 0
        out.append(
            SegmentCount(
                segment=segment,
                customers=visible,
                spend=float(row.spend or 0) if big and row is not None else None,
                average_spend=float(row.spend or 0) / n if big and row is not None else None,
                average_recency_days=float(row.recency) if big and row is not None else None,
            )
        )
    return out


# The CLV bands the fits store on consented scores (analytics.predict.BANDS), as shown.
CLV_BAND_LABELS = {
    "clv_top_10": "Top 10% by lifetime value",
    "clv_next_40": "Next 40% by lifetime value",
    "clv_bottom_50": "Bottom 50% by lifetime value",
}
UNSCORED = "unscored"
NO_TOPIC = "no topic chosen"


@dataclass(frozen=True)
class ThinSegment:
    segment: str
    channels: int
    clv_band: str
    topic: str
    customers: int
    spend: float


def thin_segments(
    session: Session,
    brand_id: uuid.UUID,
    as_of: date | None = None,
    *,
    min_group: int = MIN_GROUP,
) -> list[ThinSegment]:
    """RFM segment by channels used by CLV band by chosen topic, groups of >= min_group only.

    Channels used: distinct purchase channels in the customer's transactions (0 when unknown).
    CLV band: the band stored on the customer's individual score (top 10 %, next 40 %, bottom
    50 % by CLV at the latest fit), which exists only for people who grant profiling; everyone
    else is "unscored" and counts only in these aggregates. Topic: each topic the linked person
    chose with the brand (a person with two topics counts in both groups), or "no topic chosen".
    """
    rfm = rfm_select(brand_id, as_of).subquery("rfm")
    s, tc = CustomerScore, TopicChoice
    band = func.coalesce(s.segment, literal(UNSCORED))
    topic = func.coalesce(Topic.name, literal(NO_TOPIC))
    customers = func.count(distinct(rfm.c.customer_id))
    # Joined as tables, not subqueries, so that both backends can use their keys.
    query = (
        select(
            rfm.c.segment,
            rfm.c.channels,
            band.label("band"),
            topic.label("topic"),
            customers.label("customers"),
            func.sum(rfm.c.monetary).label("spend"),
        )
        .select_from(rfm)
        .outerjoin(s, and_(s.customer_id == rfm.c.customer_id, s.brand_id == brand_id))
        .outerjoin(tc, and_(tc.person_id == rfm.c.person_id, tc.brand_id == brand_id))
        .outerjoin(Topic, Topic.id == tc.topic_id)
        .group_by(rfm.c.segment, rfm.c.channels, band, topic)
        .having(customers >= min_group)
        .order_by(customers.desc(), rfm.c.segment, rfm.c.channels, band, topic)
    )
    return [
        ThinSegment(
            segment=row.segment,
            channels=int(row.channels),
            clv_band=row.band,
            topic=row.topic,
            customers=int(row.customers),
            spend=float(row.spend or 0),
        )
        for row in session.execute(query)
    ]


def segment_people(
    brand_id: uuid.UUID, segment: str, as_of: date | None = None
) -> Select[uuid.UUID]:
    """A SELECT of the person ids of the brand's customers in `segment`.

    Only customers linked to a person who grants `profiling` to the brand are members: being
    picked because of one's RFM scores is individual profiling, and everyone else counts only
    in aggregates. Campaigns use it as an audience; the gate still decides for every member.
    """
    if segment not in SEGMENTS:
        raise ValueError(f"unknown segment {segment!r}")
    rfm = rfm_select(brand_id, as_of).subquery("rfm_audience")
    profiled = exists().where(
        PurposeGrant.person_id == rfm.c.person_id,
        PurposeGrant.brand_id == brand_id,
        PurposeGrant.purpose == "profiling",
        PurposeGrant.status == "granted",
    )
    return (
        select(rfm.c.person_id)
        .where(rfm.c.segment == segment, rfm.c.person_id.is_not(None), profiled)
        .distinct()
    )
