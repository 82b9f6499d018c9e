"""Gamma-Gamma spend model (Fader, Hardie & Lee 2005, "RFM and CLV", JMR 42(4)).

A customer's transaction values are Gamma(p, nu) with nu ~ Gamma(q, gamma) across customers;
spend is assumed independent of the purchase process. Only repeat customers (x > 0) carry
information, through their mean repeat-transaction value zbar.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy.special import digamma, gammaln

from accord.analytics.clv._optimize import minimise_mean_nll, wsum
from accord.analytics.clv.errors import TooFewCustomers

FloatArray = NDArray[np.float64]
MIN_CUSTOMERS = 10


@dataclass(frozen=True)
class GammaGammaParams:
    """Gamma-Gamma parameters; the last three fields are set only by :func:`fit`."""

    p: float
    q: float
    gamma: float
    log_likelihood: float = float("nan")
    n_customers: int = 0
    converged: bool = False


def _validate(x: ArrayLike, zbar: ArrayLike) -> tuple[FloatArray, FloatArray]:
    xa = np.asarray(x, dtype=np.float64)
    za = np.asarray(zbar, dtype=np.float64)
    if xa.ndim != 1 or xa.shape != za.shape:
        raise ValueError("x and zbar must be 1-D arrays of the same length")
    if not (np.isfinite(xa).all() and np.isfinite(za).all()):
        raise ValueError("x and zbar must be finite")
    if (xa < 0).any() or (xa != np.round(xa)).any():
        raise ValueError("x (repeat purchase count) must be a non-negative integer")
    if (za[xa > 0] <= 0).any():
        raise ValueError("zbar must be positive for customers with repeat purchases")
    return xa, za


def log_likelihood_per_customer(
    params: GammaGammaParams, x: ArrayLike, zbar: ArrayLike
) -> FloatArray:
    """Log density of zbar given x for repeat customers (x > 0); the caller filters x == 0."""
    xa, za = _validate(x, zbar)
    if (xa == 0).any():
        raise ValueError("the Gamma-Gamma likelihood is defined for repeat customers only")
    p, q, g = params.p, params.q, params.gamma
    px = p * xa
    return np.asarray(
        gammaln(px + q)
        - gammaln(px)
        - gammaln(q)
        + q * np.log(g)
        + (px - 1.0) * np.log(za)
        + px * np.log(xa)
        - (px + q) * np.log(g + xa * za),
        dtype=np.float64,
    )


def _nll_and_grad(log_theta: FloatArray, x: FloatArray, z: FloatArray) -> tuple[float, FloatArray]:
    p, q, g = np.exp(log_theta)
    px = p * x
    log_z, log_gxz = np.log(z), np.log(g + x * z)
    psi_pxq = digamma(px + q)
    ll = np.sum(
        gammaln(px + q) - gammaln(px) + (px - 1.0) * log_z + px * np.log(x) - (px + q) * log_gxz
    ) + x.size * (q * np.log(g) - gammaln(q))
    g_p = wsum(x, psi_pxq - digamma(px) + log_z + np.log(x) - log_gxz)
    g_q = np.sum(psi_pxq - log_gxz) + x.size * (np.log(g) - digamma(q))
    g_g = x.size * q / g - np.sum((px + q) / (g + x * z))
    n = x.size
    return float(-ll / n), -np.array([g_p * p, g_q * q, g_g * g]) / n


def fit(x: ArrayLike, zbar: ArrayLike) -> GammaGammaParams:
    """Maximum-likelihood fit on the repeat customers among (x, zbar); x == 0 rows are ignored."""
    xa, za = _validate(x, zbar)
    rep = xa > 0
    n = int(rep.sum())
    if n < MIN_CUSTOMERS:
        raise TooFewCustomers(
            f"Gamma-Gamma needs at least {MIN_CUSTOMERS} repeat customers, got {n}"
        )
    xr = xa[rep]
    # Spend in units of its mean makes gamma dimensionless (see _optimize.PLAUSIBLE_LOG);
    # the density of zbar picks up a Jacobian, added back to the total below.
    unit = float(np.mean(za[rep]))
    zr = za[rep] / unit
    theta, nll = minimise_mean_nll(
        [0.0, 0.0, 0.0], model="Gamma-Gamma", value_and_grad=lambda v: _nll_and_grad(v, xr, zr)
    )
    p, q, g = (float(v) for v in np.exp(theta))
    ll = -nll * n - n * float(np.log(unit))
    return GammaGammaParams(p, q, g * unit, log_likelihood=ll, n_customers=n, converged=True)


def conditional_expected_spend(
    params: GammaGammaParams, x: ArrayLike, zbar: ArrayLike
) -> FloatArray:
    """E[mean transaction value | x, zbar] (FHL 2005 "RFM and CLV", eq. 5).

    A weighted average of the population mean gamma*p/(q-1) and the customer's own zbar;
    with x == 0 it is the population mean. Finite only when q > 1.
    """
    xa, za = _validate(x, zbar)
    p, q, g = params.p, params.q, params.gamma
    if q <= 1.0:
        raise ValueError("expected spend is infinite for q <= 1")
    za = np.where(xa > 0, za, 0.0)
    return np.asarray(p * (g + xa * za) / (p * xa + q - 1.0), dtype=np.float64)
