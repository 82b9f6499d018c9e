"""Fits, equity and consented scores for a brand. Services flush; the caller commits.

Consent rules: an individual score (CLV, P(alive), segment) is stored only for a person who
grants `profiling` to the brand; its row references that grant, so withdrawing profiling or
ending the relationship deletes it in the same transaction. Everyone else counts only in
segment aggregates over at least 5 people (see predict.segment_equity).
"""

from __future__ import annotations

import uuid
from datetime import date, timedelta

import numpy as np
from sqlalchemy import select
from sqlalchemy.orm import Session

from accord.analytics import predict as pr
from accord.analytics import snapshot
from accord.analytics.clv import FitError, NotConverged
from accord.analytics.clv.gammagamma import GammaGammaParams
from accord.analytics.fits import (
    EquitySummary,
    FitResult,
    equity,
    equity_summary,
    get_fit,
    latest_fit_id,
)
from accord.analytics.importer import import_csv as import_csv
from accord.analytics.linking import link_customers
from accord.analytics.models import ModelFit, SegmentAggregate, Transaction
from accord.analytics.predict import SegmentEquity
from accord.analytics.scores import (
    SCORE_MEANINGS,
    PersonScore,
    consented_customers,
    lost_customers,
    replace_scores,
    scores_for,
)
from accord.analytics.segments import SEGMENTS as SEGMENTS
from accord.analytics.segments import segment_people as segment_people
from accord.analytics.summary import Summary, as_date, customer_summary, day_start
from accord.analytics.tracking import HoldoutResult, HoldoutWeek, holdout
from accord.core.errors import InvalidInput

# Other domains import only this module (tests/test_architecture.py): the `name as name`
# imports above are what it offers them from the domain's other modules.

__all__ = [
    "SCORE_MEANINGS",
    "EquitySummary",
    "FitResult",
    "HoldoutResult",
    "HoldoutWeek",
    "PersonScore",
    "SegmentEquity",
    "equity",
    "equity_summary",
    "fit",
    "get_fit",
    "holdout",
    "latest_fit_id",
    "scores_for",
]


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
    # Only now that the fit stands: a failed fit must leave the database as it was.
    link_customers(session, brand_id)
    index = {cid: i for i, cid in enumerate(summary.customer_ids)}
    consented_people = consented_customers(session, brand_id, index)
    consented = np.zeros(len(summary), dtype=bool)
    consented[[i for i, _ in consented_people]] = True
    lost = np.zeros(len(summary), dtype=bool)
    lost[lost_customers(session, brand_id, index)] = True
    shown, withheld = pr.segments(predictions, consented, lost)
    row = ModelFit(
        brand_id=brand_id,
        model=model,
        params=pr.params_dict(params),
        log_likelihood=params.log_likelihood,
        customers=len(summary),
        calibration_start=day_start(summary.calibration_start or _earliest(summary)),
        cutoff=day_start(summary.cutoff),
        options={
            "horizon_months": horizon_months,
            "discount_monthly": discount_monthly,
            "margin": margin,
            "currency": currency,
            "withheld": withheld,
            # Their lost_equity is stored as 0; this tells "withheld" from "none lost".
            "lost_withheld": [s.segment for s in shown if s.lost_equity is None],
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
    session.add_all(
        SegmentAggregate(
            fit_id=row.id,
            brand_id=brand_id,
            segment=s.segment,
            customers=s.customers,
            equity=s.equity,
            consented_customers=s.consented_customers,
            consented_equity=s.consented_equity,
            lost_equity=s.lost_equity or 0.0,
        )
        for s in shown
    )
    session.flush()
    snapshot.store(session, brand_id, row.id, summary)
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
    end = day_start(as_date(cutoff)) + timedelta(days=1)
    found = session.scalars(
        select(Transaction.currency)
        .where(Transaction.brand_id == brand_id, Transaction.occurred_at < end)
        .distinct()
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
) -> tuple[pr.PurchaseParams, GammaGammaParams | None]:
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


def segment_sizes_at_fit(session: Session, brand_id: uuid.UUID) -> dict[str, int | None]:
    """Customers per RFM segment as the latest fit stored them (the RFM tab's figures; None for
    a segment too small to show): computing RFM live takes a pass over every purchase."""
    fit_id = latest_fit_id(session, brand_id)
    stored = snapshot.load(session, brand_id, fit_id) if fit_id is not None else None
    if stored is None:
        return {}
    return {count.segment.key: count.customers for count in stored.segments}
