"""The customer summary the BTYD models need, computed in SQL (CDNOW conventions).

A purchase is a (customer, UTC day) pair: transactions on one day are one purchase whose
value is their sum. Refund rows are not purchases. Times are in weeks (days / 7). At a
calibration cut-off (the last day of the calibration period, inclusive), per customer:

- x: repeat purchase-days in the calibration period (purchase-days after the first);
- t_x: weeks from the first purchase-day to the last one (0 when x == 0);
- T: weeks from the first purchase-day to the cut-off;
- zbar: mean value of the repeat purchase-days (0 when x == 0), for Gamma-Gamma.

With a calibration start, only customers whose first purchase falls on or after it are in
the cohort (a customer with earlier purchases is not new at the start).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

import numpy as np
from numpy.typing import NDArray
from sqlalchemy import Float, Integer, Select, case, cast, func, select
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import Session
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.elements import ColumnElement
from sqlalchemy.sql.functions import FunctionElement

from accord.analytics.models import Transaction

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]
ObjectArray = NDArray[np.object_]
EPOCH = date(1970, 1, 1)


class day_number(FunctionElement[Any]):
    """Whole UTC days since 1970-01-01 of a timestamp, the same integer on both backends."""

    type = Integer()
    inherit_cache = True


@compiles(day_number)
def _day_sqlite(element: day_number, compiler: SQLCompiler, **kw: Any) -> str:
    # SQLite keeps naive UTC text; julianday of a date is exact (x.5), so the cast is exact.
    inner = compiler.process(element.clauses, **kw)
    return f"CAST(julianday(date({inner})) - 2440587.5 AS INTEGER)"


@compiles(day_number, "postgresql")
def _day_pg(element: day_number, compiler: SQLCompiler, **kw: Any) -> str:
    inner = compiler.process(element.clauses, **kw)
    return f"(CAST(timezone('UTC', {inner}) AS DATE) - DATE '1970-01-01')"


def day_index(day: date) -> int:
    return (day - EPOCH).days


def day_start(day: date) -> datetime:
    """Midnight UTC at the start of ``day``."""
    return datetime(day.year, day.month, day.day, tzinfo=UTC)


def _after(day: date) -> datetime:
    """Midnight UTC after ``day``: the exclusive upper bound of a period ending on it."""
    return day_start(day) + timedelta(days=1)


def as_date(value: date | datetime) -> date:
    return value.date() if isinstance(value, datetime) else value


@dataclass(frozen=True)
class Summary:
    """One entry per customer of the cohort, in the same order in every array."""

    customer_ids: ObjectArray  # uuid.UUID
    x: FloatArray
    t_x: FloatArray
    T: FloatArray
    zbar: FloatArray
    first_day: IntArray  # day_index of the first purchase
    calibration_start: date | None
    cutoff: date

    def __len__(self) -> int:
        return int(self.x.shape[0])


def _purchases(brand_id: uuid.UUID, currency: str | None) -> list[ColumnElement[bool]]:
    t = Transaction
    where = [t.brand_id == brand_id, t.is_refund.is_(False)]
    if currency is not None:
        where.append(t.currency == currency)
    return where


def summary_select(
    brand_id: uuid.UUID,
    *,
    cutoff: date,
    calibration_start: date | None = None,
    currency: str | None = None,
) -> Select[Any]:
    """customer_id, n (purchase-days), first, last (day indexes), repeat_value; one GROUP BY."""
    t = Transaction
    day = day_number(t.occurred_at)
    days = (
        select(t.customer_id.label("cid"), day.label("d"), func.sum(t.amount).label("v"))
        .where(*_purchases(brand_id, currency), t.occurred_at < _after(cutoff))
        .group_by(t.customer_id, day)
        .subquery("purchase_days")
    )
    first = func.min(days.c.d).over(partition_by=days.c.cid)
    marked = select(days.c.cid, days.c.d, days.c.v, first.label("first")).subquery("marked")
    m = marked.c
    repeat_value = func.coalesce(func.sum(case((m.d > m.first, m.v))), 0)
    query = select(
        m.cid.label("customer_id"),
        func.count().label("n"),
        func.min(m.d).label("first"),
        func.max(m.d).label("last"),
        cast(repeat_value, Float).label("repeat_value"),
    ).group_by(m.cid)
    if calibration_start is not None:
        query = query.having(func.min(m.d) >= day_index(calibration_start))
    return query


def customer_summary(
    session: Session,
    brand_id: uuid.UUID,
    *,
    cutoff: date,
    calibration_start: date | None = None,
    currency: str | None = None,
) -> Summary:
    """(x, t_x, T, zbar) in weeks for every customer of the cohort, from one SQL statement.

    `currency` limits the purchases to one currency (amounts in several cannot be added).
    """
    cutoff = as_date(cutoff)
    start = as_date(calibration_start) if calibration_start is not None else None
    if start is not None and start > cutoff:
        raise ValueError("the calibration start is after the cut-off")
    query = summary_select(brand_id, cutoff=cutoff, calibration_start=start, currency=currency)
    rows = session.execute(query).all()
    n = len(rows)
    ids = np.empty(n, dtype=object)
    counts = np.empty(n, dtype=np.int64)
    first = np.empty(n, dtype=np.int64)
    last = np.empty(n, dtype=np.int64)
    value = np.empty(n, dtype=np.float64)
    for i, (cid, count, lo, hi, repeat) in enumerate(rows):
        ids[i], counts[i], first[i], last[i], value[i] = cid, count, lo, hi, repeat
    x = (counts - 1).astype(np.float64)
    with np.errstate(invalid="ignore", divide="ignore"):
        zbar = np.where(x > 0, value / np.maximum(x, 1.0), 0.0)
    return Summary(
        customer_ids=ids,
        x=x,
        t_x=(last - first) / 7.0,
        T=(day_index(cutoff) - first) / 7.0,
        zbar=zbar,
        first_day=first,
        calibration_start=start,
        cutoff=cutoff,
    )


@dataclass(frozen=True)
class HoldoutCounts:
    """Repeat purchase-days of the calibration cohort in (cutoff, holdout_end].

    ``customer_ids``/``x_star``: customers with at least one (others had none);
    ``days``/``per_day``: days after the cut-off (1 = the day after) and purchase-days on each.
    """

    customer_ids: ObjectArray
    x_star: IntArray
    days: IntArray
    per_day: IntArray


def holdout_counts(
    session: Session,
    brand_id: uuid.UUID,
    *,
    cutoff: date,
    holdout_end: date,
    calibration_start: date | None = None,
    currency: str | None = None,
) -> HoldoutCounts:
    """Actual repeat purchase-days in the holdout period, per customer and per day (SQL)."""
    cutoff, holdout_end = as_date(cutoff), as_date(holdout_end)
    if holdout_end <= cutoff:
        raise ValueError("the holdout period must end after the cut-off")
    t = Transaction
    purchases = _purchases(brand_id, currency)
    cohort = (
        select(t.customer_id)
        .where(*purchases)
        .group_by(t.customer_id)
        .having(func.min(t.occurred_at) < _after(cutoff))
    )
    if calibration_start is not None:
        cohort = cohort.having(func.min(t.occurred_at) >= day_start(as_date(calibration_start)))
    day = day_number(t.occurred_at)
    pairs = (
        select(t.customer_id.label("cid"), day.label("d"))
        .where(
            *purchases,
            t.occurred_at >= _after(cutoff),
            t.occurred_at < _after(holdout_end),
            t.customer_id.in_(cohort),
        )
        .group_by(t.customer_id, day)
        .subquery("holdout_days")
    )
    per_customer = session.execute(select(pairs.c.cid, func.count()).group_by(pairs.c.cid)).all()
    per_day = session.execute(
        select(pairs.c.d, func.count()).group_by(pairs.c.d).order_by(pairs.c.d)
    ).all()
    offset = day_index(cutoff)
    return HoldoutCounts(
        customer_ids=np.array([c for c, _ in per_customer] or [], dtype=object),
        x_star=np.array([n for _, n in per_customer], dtype=np.int64),
        days=np.array([d - offset for d, _ in per_day], dtype=np.int64),
        per_day=np.array([n for _, n in per_day], dtype=np.int64),
    )
