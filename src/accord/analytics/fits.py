"""Reading stored fits: parameters, options, segment equity, how many people are scored."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import Uuid, and_, bindparam, func, literal, select
from sqlalchemy.orm import Session

from accord.analytics import predict as pr
from accord.analytics.models import CustomerScore, ModelFit, SegmentAggregate
from accord.analytics.summary import as_date
from accord.analytics.tracking import fit_row
from accord.core.direct import Direct
from accord.core.read_memo import remembered

TOP_BAND = "clv_top_10"


@dataclass(frozen=True)
class FitResult:
    """A stored fit and its equity figures (what `fit`, `get_fit` and `equity` return)."""

    fit_id: uuid.UUID
    model: str
    params: dict[str, float]
    log_likelihood: float | None
    customers: int
    calibration_start: date
    cutoff: date
    fitted_at: datetime
    horizon_months: int
    discount_monthly: float
    margin: float
    currency: str | None
    spend_params: dict[str, float] | None
    spend_log_likelihood: float | None
    spend_customers: int | None
    scored: int  # individual score rows held for this fit now (consenting people only)
    segments: list[pr.SegmentEquity]
    withheld: list[str]  # segments not shown: fewer than 5 customers behind a figure

    @property
    def total(self) -> pr.SegmentEquity | None:
        return next((s for s in self.segments if s.segment == pr.ALL), None)


def get_fit(session: Session, brand_id: uuid.UUID, fit_id: uuid.UUID) -> FitResult:
    """A purchase-model fit of the brand with its spend fit and equity (404 otherwise)."""
    row = fit_row(session, brand_id, fit_id)
    spend = session.scalars(
        select(ModelFit).where(
            ModelFit.brand_id == brand_id,
            ModelFit.model == pr.SPEND_MODEL,
            ModelFit.options["purchase_fit_id"].as_string() == str(row.id),
        )
    ).first()
    aggregates = session.scalars(
        select(SegmentAggregate).where(SegmentAggregate.fit_id == row.id)
    ).all()
    lost_withheld = set(row.options.get("lost_withheld", []))
    order = {name: i for i, name in enumerate(pr.SEGMENT_NAMES)}
    segments = [
        pr.SegmentEquity(
            segment=a.segment,
            customers=a.customers,
            equity=a.equity,
            consented_customers=a.consented_customers,
            consented_equity=a.consented_equity,
            lost_equity=None if a.segment in lost_withheld else a.lost_equity,
        )
        for a in sorted(aggregates, key=lambda a: order.get(a.segment, len(order)))
    ]
    scored = session.scalar(select(func.count()).where(CustomerScore.fit_id == row.id))
    options = row.options
    return FitResult(
        fit_id=row.id,
        model=row.model,
        params=dict(row.params),
        log_likelihood=row.log_likelihood,
        customers=row.customers,
        calibration_start=as_date(row.calibration_start),
        cutoff=as_date(row.cutoff),
        fitted_at=row.fitted_at,
        horizon_months=int(options.get("horizon_months", 12)),
        discount_monthly=float(options.get("discount_monthly", 0.01)),
        margin=float(options.get("margin", 0.3)),
        currency=options.get("currency"),
        spend_params=dict(spend.params) if spend else None,
        spend_log_likelihood=spend.log_likelihood if spend else None,
        spend_customers=spend.customers if spend else None,
        scored=int(scored or 0),
        segments=segments,
        withheld=list(options.get("withheld", [])),
    )


def latest_fit_id(session: Session, brand_id: uuid.UUID) -> uuid.UUID | None:
    # The fits page asks twice (its tabs' figures, then the equity section): once a request.
    return remembered(
        session,
        ("latest_fit", brand_id),
        lambda: session.scalar(
            select(ModelFit.id)
            .where(ModelFit.brand_id == brand_id, ModelFit.model.in_(pr.PURCHASE_MODELS))
            .order_by(ModelFit.fitted_at.desc(), ModelFit.id)
            .limit(1)
        ),
    )


def equity(session: Session, brand_id: uuid.UUID) -> FitResult | None:
    """The brand's latest fit with its segment equity; None before the first fit."""
    fit_id = latest_fit_id(session, brand_id)
    return None if fit_id is None else get_fit(session, brand_id, fit_id)


@dataclass(frozen=True)
class EquitySummary:
    """The latest fit's headline figures (the console's home and the analytics overview):
    what `equity` returns without the spend fit, the score count or the other segments."""

    fit_id: uuid.UUID
    model: str
    customers: int
    cutoff: date
    horizon_months: int
    discount_monthly: float
    margin: float
    currency: str | None
    total: pr.SegmentEquity | None  # None when fewer than 5 customers stand behind it
    top_band: pr.SegmentEquity | None  # the top 10% by lifetime value, likewise


def _equity_statement() -> Direct:
    """`equity_summary`'s read: the latest fit and its total and top-band rows, in one
    statement built once and run on the session's cursor (`core.direct`; the console's home
    runs it on every view, and through the ORM it cost several times what it took to run)."""
    fit, aggregate = ModelFit.__table__, SegmentAggregate.__table__
    f, a = fit.c, aggregate.c
    latest = (
        select(f.id, f.model, f.customers, f.cutoff, f.options)
        .where(
            f.brand_id == bindparam("brand", type_=Uuid()),
            f.model.in_([literal(m) for m in pr.PURCHASE_MODELS]),
        )
        .order_by(f.fitted_at.desc(), f.id)
        .limit(1)
        .subquery("latest")
    )
    shown = and_(a.fit_id == latest.c.id, a.segment.in_([literal(pr.ALL), literal(TOP_BAND)]))
    return Direct(
        select(
            latest,
            a.segment,
            a.customers.label("segment_customers"),
            a.equity,
            a.consented_customers,
            a.consented_equity,
            a.lost_equity,
        ).select_from(latest.outerjoin(aggregate, shown))
    )


_EQUITY = _equity_statement()


def equity_summary(session: Session, brand_id: uuid.UUID) -> EquitySummary | None:
    """The brand's latest fit with its total and top-band equity; None before the first fit."""
    rows = _EQUITY.all(session, brand=brand_id)
    if not rows:
        return None
    row = rows[0]
    found = {a.segment: a for a in rows if a.segment is not None}
    lost_withheld = set(row.options.get("lost_withheld", []))

    def segment(name: str) -> pr.SegmentEquity | None:
        a = found.get(name)
        if a is None:
            return None
        return pr.SegmentEquity(
            segment=a.segment,
            customers=a.segment_customers,
            equity=a.equity,
            consented_customers=a.consented_customers,
            consented_equity=a.consented_equity,
            lost_equity=None if a.segment in lost_withheld else a.lost_equity,
        )

    options = row.options
    return EquitySummary(
        fit_id=row.id,
        model=row.model,
        customers=row.customers,
        cutoff=as_date(row.cutoff),
        horizon_months=int(options.get("horizon_months", 12)),
        discount_monthly=float(options.get("discount_monthly", 0.01)),
        margin=float(options.get("margin", 0.3)),
        currency=options.get("currency"),
        total=segment(pr.ALL),
        top_band=segment(TOP_BAND),
    )
