"""Fits, equity and consented scores for a brand. Services flush; the caller commits.

Consent rules: an individual score (CLV, P(alive), segment) is stored only for a person who
grants `profiling` to the brand; its row references that grant, so withdrawing profiling or
ending the relationship deletes it in the same transaction. Everyone else counts only in
segment aggregates over at least 5 people (see predict.segment_equity).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, datetime

import numpy as np
from sqlalchemy import distinct, func, select
from sqlalchemy.orm import Session

from accord.analytics import predict as pr
from accord.analytics.clv import FitError, NotConverged
from accord.analytics.models import CustomerScore, ModelFit, SegmentAggregate, Transaction
from accord.analytics.scores import (
    SCORE_MEANINGS,
    PersonScore,
    consented_customers,
    lost_customers,
    replace_scores,
    scores_for,
)
from accord.analytics.summary import Summary, as_date, customer_summary, day_start
from accord.analytics.tracking import HoldoutResult, HoldoutWeek, fit_row, holdout
from accord.analytics.writer import link_customers
from accord.core.errors import InvalidInput

__all__ = [
    "SCORE_MEANINGS",
    "FitResult",
    "HoldoutResult",
    "HoldoutWeek",
    "PersonScore",
    "equity",
    "fit",
    "get_fit",
    "holdout",
    "latest_fit_id",
    "scores_for",
]


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


def fit(
    session: Session,
    brand_id: uuid.UUID,
    *,
    calibration_start: date | None = None,
    cutoff: date,
    model: str = "bgnbd",
    spend: bool = True,
    discount_monthly: float = 0.01,
    margin: float = 0.3,
    horizon_months: int = 12,
    currency: str | None = None,
) -> FitResult:
    """Fit `model` (bgnbd or paretonbd, plus Gamma-Gamma when `spend`) on the brand's customers
    at `cutoff` (last calibration day, inclusive); store the fit, the consented scores and the
    segment equity, replacing the brand's earlier scores.

    `calibration_start` limits the cohort to customers whose first purchase is on or after it.
    CLV is the margin on purchases over `horizon_months`, discounted monthly. `currency`
    is needed only when the brand sells in several. Raises InvalidInput, with nothing
    stored, when the data cannot identify the model or the fit does not converge.
    """
    _check_options(model, discount_monthly, margin, horizon_months)
    currency = _currency(session, brand_id, cutoff, currency)
    link_customers(session, brand_id)
    summary = customer_summary(
        session, brand_id, cutoff=cutoff, calibration_start=calibration_start, currency=currency
    )
    if len(summary) == 0:
        raise InvalidInput("No customers with purchases up to the cut-off.", field="cutoff")
    params, spend_params = _fit_models(model, summary, spend)
    predictions = pr.predict(
        params,
        spend_params,
        summary,
        horizon_months=horizon_months,
        discount_monthly=discount_monthly,
        margin=margin,
    )
    index = {cid: i for i, cid in enumerate(summary.customer_ids)}
    consented_people = consented_customers(session, brand_id, index)
    consented = np.zeros(len(summary), dtype=bool)
    consented[[i for i, _ in consented_people]] = True
    lost = np.zeros(len(summary), dtype=bool)
    lost[lost_customers(session, brand_id, index)] = True
    shown, withheld = pr.segments(predictions, consented, lost)
    start = summary.calibration_start or _earliest(summary)
    row = ModelFit(
        brand_id=brand_id,
        model=model,
        params=pr.params_dict(params),
        log_likelihood=params.log_likelihood,
        customers=len(summary),
        calibration_start=day_start(start),
        cutoff=day_start(summary.cutoff),
        options={
            "horizon_months": horizon_months,
            "discount_monthly": discount_monthly,
            "margin": margin,
            "currency": currency,
            "withheld": withheld,
        },
    )
    session.add(row)
    session.flush()
    if spend_params is not None:
        session.add(
            ModelFit(
                brand_id=brand_id,
                model=pr.SPEND_MODEL,
                params=pr.params_dict(spend_params),
                log_likelihood=spend_params.log_likelihood,
                customers=spend_params.n_customers,
                calibration_start=row.calibration_start,
                cutoff=row.cutoff,
                options={"purchase_fit_id": str(row.id)},
            )
        )
    replace_scores(session, brand_id, row.id, summary, predictions, consented_people)
    for s in shown:
        session.add(
            SegmentAggregate(
                fit_id=row.id,
                brand_id=brand_id,
                segment=s.segment,
                customers=s.customers,
                equity=s.equity,
                consented_customers=s.consented_customers,
                consented_equity=s.consented_equity,
                # Stored as 0 when withheld; options["lost_withheld"] tells the two apart.
                lost_equity=s.lost_equity or 0.0,
            )
        )
    row.options = {
        **row.options,
        "lost_withheld": [s.segment for s in shown if s.lost_equity is None],
    }
    session.flush()
    return get_fit(session, brand_id, row.id)


def _check_options(model: str, discount: float, margin: float, months: int) -> None:
    if model not in pr.PURCHASE_MODELS:
        raise InvalidInput(f"model must be one of {', '.join(pr.PURCHASE_MODELS)}", field="model")
    if not 0 <= discount < 1:
        raise InvalidInput("The monthly discount rate must be in [0, 1).", field="discount_monthly")
    if not 0 < margin <= 1:
        raise InvalidInput("The margin must be in (0, 1].", field="margin")
    if not 1 <= months <= 120:
        raise InvalidInput("The horizon must be 1 to 120 months.", field="horizon_months")


def _currency(
    session: Session, brand_id: uuid.UUID, cutoff: date, chosen: str | None
) -> str | None:
    if chosen is not None:
        return chosen.upper()
    found = session.scalars(
        select(distinct(Transaction.currency))
        .where(Transaction.brand_id == brand_id, Transaction.occurred_at < day_start(cutoff))
        .limit(3)
    ).all()
    if len(found) > 1:
        raise InvalidInput(
            f"The brand's transactions are in several currencies ({', '.join(sorted(found))}, "
            "...): fit one currency at a time.",
            field="currency",
        )
    return found[0] if found else None


def _fit_models(
    model: str, summary: Summary, spend: bool
) -> tuple[pr.PurchaseParams, pr.GammaGammaParams | None]:
    """Both fits or an InvalidInput saying why not; never numbers from a failed fit."""
    name = {"bgnbd": "BG/NBD", "paretonbd": "Pareto/NBD"}[model]
    try:
        params = pr.fit_purchase_model(model, summary)
    except NotConverged as exc:
        raise InvalidInput(f"The {name} fit did not converge: {exc}", field="model") from None
    except FitError as exc:
        raise InvalidInput(f"Too little data for a {name} fit: {exc}.", field="cutoff") from None
    if not spend:
        return params, None
    try:
        spend_params = pr.fit_spend_model(summary)
    except NotConverged as exc:
        raise InvalidInput(f"The spend model did not converge: {exc}", field="spend") from None
    except FitError as exc:
        raise InvalidInput(f"Too little data for the spend model: {exc}.", field="spend") from None
    if spend_params.q <= 1:
        raise InvalidInput(
            "The spend model implies an infinite mean spend (q <= 1); fit without it.",
            field="spend",
        )
    return params, spend_params


def _earliest(summary: Summary) -> date:
    # Without a start the cohort is everyone up to the cut-off, which is the same cohort as
    # starting on the earliest first purchase: storing that day keeps the fit reproducible.
    return date.fromordinal(date(1970, 1, 1).toordinal() + int(summary.first_day.min()))


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
    return session.scalar(
        select(ModelFit.id)
        .where(ModelFit.brand_id == brand_id, ModelFit.model.in_(pr.PURCHASE_MODELS))
        .order_by(ModelFit.fitted_at.desc(), ModelFit.id)
        .limit(1)
    )


def equity(session: Session, brand_id: uuid.UUID) -> FitResult | None:
    """The brand's latest fit with its segment equity; None before the first fit."""
    fit_id = latest_fit_id(session, brand_id)
    return None if fit_id is None else get_fit(session, brand_id, fit_id)
