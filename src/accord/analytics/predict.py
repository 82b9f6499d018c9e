"""Model fits and per-customer predictions on a summary; pure numpy, no database.

Everything is vectorised over customers (and over distinct (x, t_x, T) triples where the
models allow), so a fit on millions of customers costs seconds, not a loop per customer.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from accord.analytics.clv import bgnbd, compress, gammagamma, paretonbd
from accord.analytics.clv.bgnbd import BGNBDParams
from accord.analytics.clv.gammagamma import GammaGammaParams
from accord.analytics.clv.paretonbd import ParetoNBDParams
from accord.analytics.clv.value import WEEKS_PER_MONTH, discounted_purchases
from accord.analytics.summary import Summary

FloatArray = NDArray[np.float64]
BoolArray = NDArray[np.bool_]
PurchaseParams = BGNBDParams | ParetoNBDParams
PURCHASE_MODELS = ("bgnbd", "paretonbd")
SPEND_MODEL = "gammagamma"
MIN_GROUP = 5
# Customers ranked by CLV, best first: (segment name, upper end of its share of customers).
BANDS = (("clv_top_10", 0.10), ("clv_next_40", 0.50), ("clv_bottom_50", 1.0))
ALL = "all"
SEGMENT_NAMES = (ALL, *(name for name, _ in BANDS))


def fit_purchase_model(model: str, summary: Summary) -> PurchaseParams:
    """Maximum-likelihood fit; raises the clv FitError subclasses unchanged."""
    triples = compress(summary.x, summary.t_x, summary.T)
    if model == "bgnbd":
        return bgnbd.fit_triples(triples)
    if model == "paretonbd":
        return paretonbd.fit_triples(triples)
    raise ValueError(f"unknown purchase model {model!r}")


def spend_sample(summary: Summary) -> BoolArray:
    """Customers whose repeat purchases say something about spend (zero-value days do not)."""
    return np.asarray((summary.x > 0) & (summary.zbar > 0))


def fit_spend_model(summary: Summary) -> GammaGammaParams:
    keep = spend_sample(summary)
    return gammagamma.fit(summary.x[keep], summary.zbar[keep])


def params_dict(params: PurchaseParams | GammaGammaParams) -> dict[str, float]:
    if isinstance(params, BGNBDParams):
        return {"r": params.r, "alpha": params.alpha, "a": params.a, "b": params.b}
    if isinstance(params, ParetoNBDParams):
        return {"r": params.r, "alpha": params.alpha, "s": params.s, "beta": params.beta}
    return {"p": params.p, "q": params.q, "gamma": params.gamma}


def purchase_params(model: str, params: dict[str, Any]) -> PurchaseParams:
    """Rebuild stored parameters (e.g. for a holdout check of an earlier fit)."""
    if model == "bgnbd":
        return BGNBDParams(params["r"], params["alpha"], params["a"], params["b"])
    if model == "paretonbd":
        return ParetoNBDParams(params["r"], params["alpha"], params["s"], params["beta"])
    raise ValueError(f"unknown purchase model {model!r}")


@dataclass(frozen=True)
class Predictions:
    """Per customer, in summary order."""

    p_alive: FloatArray
    expected_purchases: FloatArray  # over the horizon
    expected_spend: FloatArray  # per purchase
    clv: FloatArray  # discounted margin over the horizon
    segment: NDArray[np.object_]  # CLV band


def expected_spend(summary: Summary, spend: GammaGammaParams | None) -> FloatArray:
    """Gamma-Gamma's conditional mean spend, or without it the mean repeat purchase value."""
    keep = spend_sample(summary)
    if spend is None:
        total = float((summary.x[keep] * summary.zbar[keep]).sum())
        mean = total / float(summary.x[keep].sum()) if keep.any() else 0.0
        return np.full(len(summary), mean)
    x = np.where(keep, summary.x, 0.0)
    return gammagamma.conditional_expected_spend(spend, x, np.where(keep, summary.zbar, 0.0))


def predict(
    params: PurchaseParams,
    spend: GammaGammaParams | None,
    summary: Summary,
    *,
    horizon_months: int,
    discount_monthly: float,
    margin: float,
) -> Predictions:
    """P(alive), expected purchases and spend, and discounted CLV for every customer."""
    module: Any = bgnbd if isinstance(params, BGNBDParams) else paretonbd
    tr = compress(summary.x, summary.t_x, summary.T)
    p_alive = tr.expand(module.probability_alive(params, tr.x, tr.t_x, tr.T))
    horizon = horizon_months * WEEKS_PER_MONTH
    purchases = tr.expand(params.conditional_expected_purchases(horizon, tr.x, tr.t_x, tr.T))
    per_purchase = expected_spend(summary, spend)
    discounted = discounted_purchases(
        params,
        summary.x,
        summary.t_x,
        summary.T,
        months=horizon_months,
        monthly_discount_rate=discount_monthly,
    )
    clv = np.asarray(discounted * per_purchase * margin, dtype=np.float64)
    return Predictions(p_alive, purchases, per_purchase, clv, clv_bands(clv))


def clv_bands(clv: FloatArray) -> NDArray[np.object_]:
    """Band names by CLV rank (ties broken by position, so the shares are exact)."""
    n = clv.shape[0]
    rank = np.empty(n, dtype=np.int64)
    rank[np.argsort(-clv, kind="stable")] = np.arange(n)
    out = np.empty(n, dtype=object)
    lower = 0
    for name, share in BANDS:
        upper = int(np.floor(share * n + 0.5))
        out[(rank >= lower) & (rank < upper)] = name
        lower = upper
    return out


@dataclass(frozen=True)
class SegmentEquity:
    """Equity of one segment. ``lost_equity`` is None when 1 to 4 customers were lost (the
    figure would be about too few people to show)."""

    segment: str
    customers: int
    equity: float
    consented_customers: int
    consented_equity: float
    lost_equity: float | None


def segment_equity(
    name: str, members: BoolArray, clv: FloatArray, consented: BoolArray, lost: BoolArray
) -> SegmentEquity | None:
    """Aggregate one segment, or None when it would show figures about fewer than 5 people.

    A segment needs at least 5 customers, and its customers without consent must be none or
    at least 5: otherwise total minus consented equity would be about 1 to 4 people.
    """
    n = int(members.sum())
    agreed = members & consented
    n_agreed = int(agreed.sum())
    if n < MIN_GROUP or 0 < n - n_agreed < MIN_GROUP:
        return None
    gone = members & lost
    n_lost = int(gone.sum())
    lost_equity = float(clv[gone].sum()) if n_lost == 0 or n_lost >= MIN_GROUP else None
    return SegmentEquity(
        segment=name,
        customers=n,
        equity=float(clv[members].sum()),
        consented_customers=n_agreed,
        consented_equity=float(clv[agreed].sum()),
        lost_equity=lost_equity,
    )


def segments(
    predictions: Predictions, consented: BoolArray, lost: BoolArray
) -> tuple[list[SegmentEquity], list[str]]:
    """Equity for "all" and each CLV band; the names of segments withheld as too small."""
    shown: list[SegmentEquity] = []
    withheld: list[str] = []
    clv = predictions.clv
    for name in SEGMENT_NAMES:
        members = np.ones(clv.shape[0], dtype=bool) if name == ALL else predictions.segment == name
        found = segment_equity(name, members, clv, consented, lost)
        if found is None:
            withheld.append(name)
        else:
            shown.append(found)
    return shown, withheld
