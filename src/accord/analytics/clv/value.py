"""Discounted customer lifetime value from a purchase model and an expected spend.

Same discrete scheme as lifetimes' ``customer_lifetime_value``: the expected purchases in each
future month, times spend and margin, discounted at a monthly rate and summed.
"""

from __future__ import annotations

from typing import Protocol

import numpy as np
from numpy.typing import ArrayLike, NDArray

from accord.analytics.clv.triples import compress

FloatArray = NDArray[np.float64]
# Average weeks per month (365.25 / 12 / 7 = 4.348; lifetimes uses 4.345), for models
# fitted with time in weeks, as the CDNOW ones are.
WEEKS_PER_MONTH = 4.345


class PurchaseModel(Protocol):
    """Anything that predicts cumulative repeat purchases over a horizon (both BTYD fits)."""

    def conditional_expected_purchases(
        self, t: ArrayLike, x: ArrayLike, t_x: ArrayLike, T: ArrayLike
    ) -> FloatArray: ...


def discounted_purchases(
    model: PurchaseModel,
    x: ArrayLike,
    t_x: ArrayLike,
    T: ArrayLike,
    *,
    months: int = 12,
    monthly_discount_rate: float = 0.01,
    periods_per_month: float = WEEKS_PER_MONTH,
) -> FloatArray:
    """Sum over months i = 1..months of E[purchases in month i] / (1 + d)**i, per customer.

    Evaluated once per distinct (x, t_x, T) and expanded, so the cost follows the number of
    distinct histories, not of customers.
    """
    if months < 1 or int(months) != months:
        raise ValueError("months must be a positive integer")
    if not np.isfinite(monthly_discount_rate) or monthly_discount_rate <= -1.0:
        raise ValueError("monthly_discount_rate must be finite and > -1")
    if not periods_per_month > 0:
        raise ValueError("periods_per_month must be positive")
    tr = compress(x, t_x, T)
    total = np.zeros(len(tr))
    previous = np.zeros(len(tr))
    for i in range(1, int(months) + 1):
        # The model gives cumulative purchases from T on; a month's share is the difference.
        cumulative = model.conditional_expected_purchases(i * periods_per_month, tr.x, tr.t_x, tr.T)
        total += (cumulative - previous) / (1.0 + monthly_discount_rate) ** i
        previous = cumulative
    return tr.expand(total)


def customer_lifetime_value(
    model: PurchaseModel,
    x: ArrayLike,
    t_x: ArrayLike,
    T: ArrayLike,
    spend: ArrayLike,
    *,
    margin: float = 1.0,
    months: int = 12,
    monthly_discount_rate: float = 0.01,
    periods_per_month: float = WEEKS_PER_MONTH,
) -> FloatArray:
    """Discounted value per customer over ``months``: purchases x spend x margin.

    ``spend`` is the expected value per transaction for each customer, typically
    :func:`accord.analytics.clv.gammagamma.conditional_expected_spend`.
    """
    spend_a = np.asarray(spend, dtype=np.float64)
    if spend_a.shape != np.shape(x):
        raise ValueError("spend must have one value per customer")
    if not (np.isfinite(spend_a).all() and np.isfinite(margin)):
        raise ValueError("spend and margin must be finite")
    purchases = discounted_purchases(
        model,
        x,
        t_x,
        T,
        months=months,
        monthly_discount_rate=monthly_discount_rate,
        periods_per_month=periods_per_month,
    )
    return np.asarray(purchases * spend_a * margin, dtype=np.float64)


def customer_equity(
    model: PurchaseModel,
    x: ArrayLike,
    t_x: ArrayLike,
    T: ArrayLike,
    spend: ArrayLike,
    *,
    margin: float = 1.0,
    months: int = 12,
    monthly_discount_rate: float = 0.01,
    periods_per_month: float = WEEKS_PER_MONTH,
) -> float:
    """Total discounted value of the existing customer base (sum of per-customer CLV)."""
    clv = customer_lifetime_value(
        model,
        x,
        t_x,
        T,
        spend,
        margin=margin,
        months=months,
        monthly_discount_rate=monthly_discount_rate,
        periods_per_month=periods_per_month,
    )
    return float(clv.sum())
