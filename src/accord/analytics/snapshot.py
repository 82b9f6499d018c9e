"""What a fit computes once for the console's analytics tabs, stored beside the fit.

RFM segments, thin segments, channel mix, profitability and the holdout check each read every
transaction of the brand: seconds on a brand of CDNOW's size. They change only when data is
imported, so they are computed when a fit runs (`service.fit`), in the same transaction, and
the pages read them back in one row. Campaign rates change with every message and stay live.

The stored form is plain JSON (one row per fit); `load` rebuilds the dataclasses the pages
already know, so a page never sees the storage shape.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import Uuid, bindparam, func, select
from sqlalchemy.orm import Session

from accord.analytics import profitability, segments, tracking
from accord.analytics.models import FitSnapshot, Transaction
from accord.analytics.profitability import (
    ChannelMix,
    ChannelMixRow,
    ProductProfit,
    ProfitBand,
    ProfitSummary,
)
from accord.analytics.segments import SEGMENTS, RFMGrid, SegmentCount, ThinSegment
from accord.analytics.summary import Summary
from accord.analytics.tracking import HoldoutResult, HoldoutWeek
from accord.core.db import utcnow
from accord.core.direct import Direct
from accord.core.errors import InvalidInput

THIN_ROWS = 100  # the largest thin segments kept; the page shows the first 40


@dataclass(frozen=True)
class DataGaps:
    """Which optional transaction fields the brand's data never gives (an empty state each)."""

    transactions: int
    with_channel: int
    with_product: int
    with_cost: int


@dataclass(frozen=True)
class Snapshot:
    fit_id: uuid.UUID
    computed_at: datetime
    currencies: list[str]
    gaps: DataGaps
    grid: RFMGrid
    segments: list[SegmentCount]
    thin: list[ThinSegment]
    channel_mix: ChannelMix
    profit: ProfitSummary
    deciles: list[ProfitBand]
    products: list[ProductProfit]
    holdout: HoldoutResult | None
    holdout_message: str | None

    @property
    def currency(self) -> str | None:
        """The one currency every money figure is in (None when mixed or unknown)."""
        return self.currencies[0] if len(self.currencies) == 1 else None


def _gaps(session: Session, brand_id: uuid.UUID) -> tuple[DataGaps, list[str]]:
    t = Transaction
    row = session.execute(
        select(
            func.count(), func.count(t.channel), func.count(t.product), func.count(t.cost)
        ).where(t.brand_id == brand_id)
    ).one()
    currencies = session.scalars(
        select(t.currency).where(t.brand_id == brand_id).distinct().limit(5)
    ).all()
    gaps = DataGaps(*(int(n) for n in row))
    return gaps, sorted(currencies)


def compute(
    session: Session, brand_id: uuid.UUID, fit_id: uuid.UUID, summary: Summary | None = None
) -> dict[str, Any]:
    """Everything the tabs show that depends on the brand's transactions, as JSON."""
    gaps, currencies = _gaps(session, brand_id)
    grid = segments.rfm_grid(session, brand_id)
    mix = profitability.channel_mix(session, brand_id)
    try:
        held: HoldoutResult | None = tracking.holdout(session, brand_id, fit_id, summary=summary)
        message = None
    except InvalidInput as exc:
        held, message = None, exc.detail
    return {
        "currencies": currencies,
        "gaps": vars(gaps),
        "grid": {
            "total": grid.total,
            "cells": [[r, f, n] for (r, f), n in sorted(grid.cells.items())],
        },
        "segments": [
            {**vars(c), "segment": c.segment.key}
            for c in segments.segment_counts(session, brand_id)
        ],
        "thin": [vars(t) for t in segments.thin_segments(session, brand_id)[:THIN_ROWS]],
        "channel_mix": {
            "rows": [vars(r) for r in mix.rows],
            "single_average": mix.single_average,
            "multi_average": mix.multi_average,
        },
        "profit": vars(profitability.customer_profitability(session, brand_id)),
        "deciles": [vars(b) for b in profitability.profit_deciles(session, brand_id)],
        "products": [vars(p) for p in profitability.product_profitability(session, brand_id)],
        "holdout": None if held is None else _holdout_json(held),
        "holdout_message": message,
    }


def _holdout_json(held: HoldoutResult) -> dict[str, Any]:
    return {
        "model": held.model,
        "cutoff": held.cutoff.isoformat(),
        "holdout_end": held.holdout_end.isoformat(),
        "customers": held.customers,
        "expected": held.expected,
        "actual": held.actual,
        "weeks": [[w.week, w.ends.isoformat(), w.expected, w.actual] for w in held.weeks],
    }


def store(
    session: Session, brand_id: uuid.UUID, fit_id: uuid.UUID, summary: Summary | None = None
) -> None:
    data = compute(session, brand_id, fit_id, summary)
    session.add(FitSnapshot(fit_id=fit_id, brand_id=brand_id, data=data, computed_at=utcnow()))
    session.flush()


# Snapshots already rebuilt, by (fit, computed at): a stored snapshot never changes, so each
# tab's view reads one small column instead of decoding the JSON (tens of kilobytes) again.
_LOADED: dict[tuple[uuid.UUID, datetime], Snapshot] = {}
_LOADED_MAX = 64


# Which snapshot a tab shows, read on every view: built once, run on the cursor (`core.direct`).
_COMPUTED_AT = Direct(
    select(FitSnapshot.computed_at).where(
        FitSnapshot.fit_id == bindparam("fit", type_=Uuid()),
        FitSnapshot.brand_id == bindparam("brand", type_=Uuid()),
    )
)


def load(session: Session, brand_id: uuid.UUID, fit_id: uuid.UUID) -> Snapshot | None:
    """The stored figures of the brand's fit `fit_id`; None for a fit stored without them."""
    where = (FitSnapshot.fit_id == fit_id, FitSnapshot.brand_id == brand_id)
    stamp = _COMPUTED_AT.first(session, fit=fit_id, brand=brand_id)
    computed_at = stamp.computed_at if stamp is not None else None
    if computed_at is None:
        return None
    found = _LOADED.get((fit_id, computed_at))
    if found is not None:
        return found
    row = session.scalars(select(FitSnapshot).where(*where)).one_or_none()
    if row is None:
        return None
    snap = _rebuild(fit_id, row)
    if len(_LOADED) >= _LOADED_MAX:
        _LOADED.clear()
    _LOADED[(fit_id, row.computed_at)] = snap
    return snap


def _rebuild(fit_id: uuid.UUID, row: FitSnapshot) -> Snapshot:
    d = row.data
    mix = d["channel_mix"]
    held = d["holdout"]
    return Snapshot(
        fit_id=fit_id,
        computed_at=row.computed_at,
        currencies=list(d["currencies"]),
        gaps=DataGaps(**d["gaps"]),
        grid=RFMGrid(
            cells={(int(r), int(f)): n for r, f, n in d["grid"]["cells"]},
            total=int(d["grid"]["total"]),
        ),
        segments=[
            SegmentCount(**{**c, "segment": SEGMENTS[c["segment"]]})
            for c in d["segments"]
            if c["segment"] in SEGMENTS
        ],
        thin=[ThinSegment(**t) for t in d["thin"]],
        channel_mix=ChannelMix(
            rows=[ChannelMixRow(**r) for r in mix["rows"]],
            single_average=mix["single_average"],
            multi_average=mix["multi_average"],
        ),
        profit=ProfitSummary(**d["profit"]),
        deciles=[ProfitBand(**b) for b in d["deciles"]],
        products=[ProductProfit(**p) for p in d["products"]],
        holdout=None
        if held is None
        else HoldoutResult(
            fit_id=fit_id,
            model=held["model"],
            cutoff=date.fromisoformat(held["cutoff"]),
            holdout_end=date.fromisoformat(held["holdout_end"]),
            customers=int(held["customers"]),
            expected=float(held["expected"]),
            actual=int(held["actual"]),
            weeks=[
                HoldoutWeek(week=int(w), ends=date.fromisoformat(e), expected=x, actual=int(a))
                for w, e, x, a in held["weeks"]
            ],
        ),
        holdout_message=d["holdout_message"],
    )
