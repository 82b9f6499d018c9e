"""Holdout check of a fit: expected against actual repeat purchases after the cut-off.

The expectation for each week is the model's conditional expectation, summed over the
calibration cohort, of repeat purchase-days between the cut-off and the end of that week;
the actual figure counts the cohort's purchase-days in the same span, as the calibration
summary counts them (one purchase per customer and day).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, timedelta

import numpy as np
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from accord.analytics import predict as pr
from accord.analytics.clv import compress
from accord.analytics.models import ModelFit, Transaction
from accord.analytics.summary import Summary, as_date, customer_summary, holdout_counts
from accord.core.errors import InvalidInput, NotFound


def fit_row(session: Session, brand_id: uuid.UUID, fit_id: uuid.UUID) -> ModelFit:
    """The brand's purchase-model fit `fit_id`; NotFound for any other id or brand."""
    row = session.scalars(
        select(ModelFit).where(
            ModelFit.id == fit_id,
            ModelFit.brand_id == brand_id,
            ModelFit.model.in_(pr.PURCHASE_MODELS),
        )
    ).one_or_none()
    if row is None:
        raise NotFound("No such fit.")
    return row


@dataclass(frozen=True)
class HoldoutWeek:
    week: int  # 1 = the week after the cut-off; the last one may be shorter
    ends: date
    expected: float  # cumulative since the cut-off
    actual: int  # cumulative since the cut-off


@dataclass(frozen=True)
class HoldoutResult:
    fit_id: uuid.UUID
    model: str
    cutoff: date
    holdout_end: date
    customers: int
    expected: float
    actual: int
    weeks: list[HoldoutWeek]


def last_purchase_day(session: Session, brand_id: uuid.UUID) -> date | None:
    found = session.scalar(
        select(func.max(Transaction.occurred_at)).where(Transaction.brand_id == brand_id)
    )
    return None if found is None else as_date(found)


def holdout(
    session: Session,
    brand_id: uuid.UUID,
    fit_id: uuid.UUID,
    holdout_end: date | None = None,
    *,
    summary: Summary | None = None,
) -> HoldoutResult:
    """Weekly cumulative expected vs actual repeat purchase-days in (cutoff, holdout_end].

    `holdout_end` defaults to the brand's last transaction day. The summary is recomputed
    from the stored transactions, so imports into the calibration period after the fit
    change the expectation too. A fit that has just computed the summary passes it.
    """
    row = fit_row(session, brand_id, fit_id)
    cutoff, start = as_date(row.cutoff), as_date(row.calibration_start)
    end = as_date(holdout_end) if holdout_end is not None else last_purchase_day(session, brand_id)
    if end is None or end <= cutoff:
        raise InvalidInput(
            "The holdout period must end after the cut-off; there are no transactions after "
            "it to compare with."
            if holdout_end is None
            else "The holdout period must end after the cut-off.",
            field="holdout_end",
        )
    currency = row.options.get("currency")
    if summary is None:
        summary = customer_summary(
            session, brand_id, cutoff=cutoff, calibration_start=start, currency=currency
        )
    held = holdout_counts(
        session,
        brand_id,
        cutoff=cutoff,
        holdout_end=end,
        calibration_start=start,
        currency=currency,
    )
    params = pr.purchase_params(row.model, row.params)
    tr = compress(summary.x, summary.t_x, summary.T)
    weight = tr.weight.astype(np.float64)
    span = (end - cutoff).days
    weeks: list[HoldoutWeek] = []
    for week in range(1, -(-span // 7) + 1):
        days = min(7 * week, span)
        expected = params.conditional_expected_purchases(days / 7.0, tr.x, tr.t_x, tr.T)
        actual = int(held.per_day[held.days <= days].sum())
        weeks.append(
            HoldoutWeek(
                week=week,
                ends=cutoff + timedelta(days=days),
                expected=float(np.einsum("i,i->", weight, expected)),
                actual=actual,
            )
        )
    return HoldoutResult(
        fit_id=row.id,
        model=row.model,
        cutoff=cutoff,
        holdout_end=end,
        customers=len(summary),
        expected=weeks[-1].expected,
        actual=weeks[-1].actual,
        weeks=weeks,
    )
