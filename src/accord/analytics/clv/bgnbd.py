"""BG/NBD model (Fader, Hardie & Lee 2005, "Counting your customers the easy way").

Purchases follow a Poisson process with rate lambda ~ Gamma(r, alpha); after each purchase a
customer drops out with probability p ~ Beta(a, b). The data per customer are x repeat
purchases, time t_x of the last one and time T since the first one.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy.special import digamma, gammaln, hyp2f1

from accord.analytics.clv._optimize import log_add_exp, minimise_mean_nll, wsum
from accord.analytics.clv.errors import TooFewCustomers
from accord.analytics.clv.triples import Triples, compress, validate_rfm

FloatArray = NDArray[np.float64]
MIN_CUSTOMERS = 10


@dataclass(frozen=True)
class BGNBDParams:
    """BG/NBD parameters; the last three fields are set only by :func:`fit`."""

    r: float
    alpha: float
    a: float
    b: float
    log_likelihood: float = float("nan")
    n_customers: int = 0
    converged: bool = False

    def conditional_expected_purchases(
        self, t: ArrayLike, x: ArrayLike, t_x: ArrayLike, T: ArrayLike
    ) -> FloatArray:
        return conditional_expected_purchases(self, t, x, t_x, T)


@dataclass(frozen=True)
class _Design:
    """Triples split the way the likelihood uses them, computed once per fit."""

    n: float
    xs: FloatArray  # distinct x values, and the customer count behind each
    wx: FloatArray
    x: FloatArray  # all triples
    T: FloatArray
    w: FloatArray
    xr: FloatArray  # triples with x > 0: only they carry the "dropped out" term
    txr: FloatArray
    Tr: FloatArray
    wr: FloatArray

    @classmethod
    def from_triples(cls, tr: Triples) -> _Design:
        w = tr.weight.astype(np.float64)
        xs, xi = np.unique(tr.x, return_inverse=True)
        rep = tr.x > 0
        return cls(
            n=float(w.sum()),
            xs=xs,
            wx=np.bincount(xi.reshape(-1), weights=w, minlength=xs.size).astype(np.float64),
            x=tr.x,
            T=tr.T,
            w=w,
            xr=tr.x[rep],
            txr=tr.t_x[rep],
            Tr=tr.T[rep],
            wr=w[rep],
        )


def _nll_and_grad(log_theta: FloatArray, d: _Design) -> tuple[float, FloatArray]:
    """Mean negative log-likelihood over customers and its gradient in log-parameters.

    Per customer: log L = A(x) - (r+x) log(alpha+T) + log1p(exp(u)) with
    u = log(a/(b+x-1)) + (r+x) log((alpha+T)/(alpha+t_x)) for x > 0 (the second term of
    FHL's eq. 6 relative to the first); softplus keeps it finite for any u. Terms in x
    alone are summed over distinct x values only.
    """
    r, alpha, a, b = np.exp(log_theta)
    xs, wx, n = d.xs, d.wx, d.n

    ll = wsum(wx, gammaln(r + xs) + gammaln(b + xs) - gammaln(a + b + xs))
    ll += n * (r * np.log(alpha) - gammaln(r) + gammaln(a + b) - gammaln(b))
    ia_T = 1.0 / (alpha + d.T)
    l_T = np.log(alpha + d.T)
    ll -= wsum(d.w, (r + d.x) * l_T)

    lr_T = np.log(alpha + d.Tr)
    lr_t = np.log(alpha + d.txr)
    bx1 = b + d.xr - 1.0
    u = np.log(a) - np.log(bx1) + (r + d.xr) * (lr_T - lr_t)
    # softplus(u) = log(1 + e^u): the most expensive line of the evaluation.
    sp = log_add_exp(np.zeros_like(u), u)
    ll += wsum(d.wr, sp)
    ws = d.wr * np.exp(u - sp)  # weight times sigmoid(u) = P(dropped out | data)

    psi_abx = digamma(a + b + xs)
    g_r = (
        wsum(wx, digamma(r + xs))
        + n * (np.log(alpha) - digamma(r))
        - wsum(d.w, l_T)
        + wsum(ws, lr_T - lr_t)
    )
    g_alpha = (
        n * r / alpha
        - wsum(d.w, (r + d.x) * ia_T)
        + wsum(ws, (r + d.xr) * (1.0 / (alpha + d.Tr) - 1.0 / (alpha + d.txr)))
    )
    g_a = n * digamma(a + b) - wsum(wx, psi_abx) + ws.sum() / a
    g_b = (
        n * (digamma(a + b) - digamma(b))
        + wsum(wx, digamma(b + xs) - psi_abx)
        - wsum(ws, 1.0 / bx1)
    )

    grad = np.array([g_r * r, g_alpha * alpha, g_a * a, g_b * b])
    return float(-ll / n), -grad / n


def log_likelihood_per_customer(
    params: BGNBDParams, x: ArrayLike, t_x: ArrayLike, T: ArrayLike
) -> FloatArray:
    """Individual log-likelihood (FHL 2005, eq. 6) evaluated directly, one value per row."""
    xa, ta, Ta = validate_rfm(x, t_x, T)
    r, alpha, a, b = params.r, params.alpha, params.a, params.b
    a1 = gammaln(r + xa) - gammaln(r) + r * np.log(alpha)
    a2 = gammaln(a + b) + gammaln(b + xa) - gammaln(b) - gammaln(a + b + xa)
    a3 = -(r + xa) * np.log(alpha + Ta)
    with np.errstate(divide="ignore", invalid="ignore"):
        a4 = np.log(a) - np.log(b + xa - 1.0) - (r + xa) * np.log(alpha + ta)
    a4 = np.where(xa > 0, a4, -np.inf)
    return np.asarray(a1 + a2 + np.logaddexp(a3, a4), dtype=np.float64)


def log_likelihood(params: BGNBDParams, triples: Triples) -> float:
    """Total log-likelihood of the customers behind ``triples`` (weights applied)."""
    theta = np.log([params.r, params.alpha, params.a, params.b])
    d = _Design.from_triples(triples)
    return -_nll_and_grad(theta, d)[0] * d.n


def fit(x: ArrayLike, t_x: ArrayLike, T: ArrayLike) -> BGNBDParams:
    """Maximum-likelihood BG/NBD fit to per-customer (x, t_x, T)."""
    return fit_triples(compress(x, t_x, T))


def fit_triples(triples: Triples) -> BGNBDParams:
    """Maximum-likelihood BG/NBD fit to compressed data; raises FitError subclasses."""
    n = triples.n_customers
    if n < MIN_CUSTOMERS:
        raise TooFewCustomers(f"BG/NBD needs at least {MIN_CUSTOMERS} customers, got {n}")
    if not (triples.x > 0).any():
        raise TooFewCustomers("BG/NBD needs some repeat purchases; every customer has x == 0")
    # Optimise with time in units of the mean age: alpha becomes dimensionless, the start
    # (all parameters 1) is sensible whatever unit the caller used, and PLAUSIBLE_LOG applies.
    unit = triples.mean_age() if triples.mean_age() > 0 else 1.0
    d = _Design.from_triples(triples.rescaled(unit))
    theta, nll = minimise_mean_nll(
        [0.0] * 4, model="BG/NBD", value_and_grad=lambda z: _nll_and_grad(z, d)
    )
    r, alpha, a, b = (float(v) for v in np.exp(theta))
    # Rescaling time by c multiplies each customer's density by c**x: undo it in the total.
    ll = -nll * d.n - float(np.sum(triples.weight * triples.x) * np.log(unit))
    return BGNBDParams(r, alpha * unit, a, b, log_likelihood=ll, n_customers=n, converged=True)


def probability_alive(
    params: BGNBDParams, x: ArrayLike, t_x: ArrayLike, T: ArrayLike
) -> FloatArray:
    """P(still active at T | x, t_x, T) (FHL 2005, eq. 13); exactly 1 when x == 0."""
    xa, ta, Ta = validate_rfm(x, t_x, T)
    return np.exp(-np.logaddexp(0.0, _log_odds_dropped(params, xa, ta, Ta)))


def _log_odds_dropped(
    params: BGNBDParams, x: FloatArray, t_x: FloatArray, T: FloatArray
) -> FloatArray:
    """log P(dropped out | data) - log P(alive | data); -inf without repeat purchases."""
    r, alpha, a, b = params.r, params.alpha, params.a, params.b
    rep = x > 0
    xr = np.where(rep, x, 1.0)  # keeps log(b + x - 1) finite on rows masked out below
    u = np.log(a) - np.log(b + xr - 1.0) + (r + xr) * (np.log(alpha + T) - np.log(alpha + t_x))
    return np.where(rep, u, -np.inf)


def _expected_if_alive(
    params: BGNBDParams, t: FloatArray, x: FloatArray, T: FloatArray
) -> FloatArray:
    """E[purchases in (T, T+t] | x, T, still alive at T] (FHL 2005, eq. 10 without P(alive)).

    FHL write 1 - ((alpha+T)/(alpha+T+t))**(r+x) * 2F1(r+x, b+x; a+b+x-1; z); for large x the
    power underflows while the 2F1 overflows. Euler's transformation
    2F1(A,B;C;z) = (1-z)**(C-A-B) * 2F1(C-A, C-B; C; z) folds them into
    (1-z)**(a-1) * 2F1(a+b-1-r, a-1; a+b+x-1; z), which stays finite.
    """
    r, alpha, a, b = params.r, params.alpha, params.a, params.b
    # At a == 1 the closed form is 0/0; the function is smooth in a, so a nudge of 1e-7
    # changes the value by O(1e-7) relative while avoiding the division by zero.
    if abs(a - 1.0) < 1e-7:
        a = 1.0 + 1e-7
    z = t / (alpha + T + t)
    f = _hyp2f1(a + b - 1.0 - r, a - 1.0, a + b + x - 1.0, z)
    # 1 - (1-z)**(a-1) * f, split as (1 - pw) - pw * (f - 1) so that short horizons, where
    # both terms are close to 1, keep their digits instead of cancelling.
    log_pw = -(a - 1.0) * np.log1p(t / (alpha + T))
    bracket = -np.expm1(log_pw) - np.exp(log_pw) * (f - 1.0)
    # Purchases cannot be negative; below ~1e-16 the sign of the product is rounding noise.
    return np.maximum((a + b + x - 1.0) / (a - 1.0) * bracket, 0.0)


def _hyp2f1(A: float, B: float, C: FloatArray, z: FloatArray) -> FloatArray:
    """scipy's hyp2f1, retried with C nudged by 1e-12 where it returns inf.

    With z > 0.9 and C - A - B an integer (it is x + 1 whenever r == a) scipy takes a
    special-case branch that returns inf, e.g. 2F1(e^2-1, e-1; e+e^2+94; 0.905). The function
    is smooth in C, and the nudged value matches mpmath to 1e-13.
    """
    with np.errstate(all="ignore"):
        f = np.asarray(hyp2f1(A, B, C, z), dtype=np.float64)
        bad = ~np.isfinite(f)
        if bad.any():
            C_b, z_b = np.broadcast_arrays(C, z)
            f = np.array(np.broadcast_to(f, C_b.shape), dtype=np.float64)
            f[bad] = hyp2f1(A, B, C_b[bad] * (1.0 + 1e-12), z_b[bad])
    return f


def conditional_expected_purchases(
    params: BGNBDParams, t: ArrayLike, x: ArrayLike, t_x: ArrayLike, T: ArrayLike
) -> FloatArray:
    """Expected repeat purchases in the next ``t`` time units given (x, t_x, T) (FHL eq. 10).

    ``t`` broadcasts against the customer arrays (scalar horizon or one per customer).
    """
    xa, ta, Ta = validate_rfm(x, t_x, T)
    tt = np.asarray(t, dtype=np.float64)
    if (tt < 0).any():
        raise ValueError("horizon t must be non-negative")
    return _expected_if_alive(params, tt, xa, Ta) * probability_alive(params, xa, ta, Ta)


def expected_purchases(params: BGNBDParams, t: ArrayLike) -> FloatArray:
    """Unconditional E[X(t)] for a customer just acquired (FHL 2005, eq. 9).

    Eq. 9 is eq. 10 for a customer with no history (x = t_x = T = 0, alive for sure).
    """
    tt = np.asarray(t, dtype=np.float64)
    if (tt < 0).any():
        raise ValueError("horizon t must be non-negative")
    return _expected_if_alive(params, tt, np.zeros_like(tt), np.zeros_like(tt))
