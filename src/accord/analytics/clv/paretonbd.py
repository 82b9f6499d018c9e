"""Pareto/NBD model (Schmittlein, Morrison & Colombo 1987).

Purchases follow a Poisson process with rate lambda ~ Gamma(r, alpha) while the customer is
alive; the lifetime is exponential with rate mu ~ Gamma(s, beta). The likelihood follows
Fader & Hardie's note "A Note on Deriving the Pareto/NBD Model and Related Expressions"
(2005, eqs. 18-20), as lifetimes does, with every product taken in log space.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy.special import gammaln, hyp2f1

from accord.analytics.clv._optimize import log_add_exp, minimise_mean_nll, wsum
from accord.analytics.clv.errors import TooFewCustomers
from accord.analytics.clv.triples import Triples, compress, validate_rfm

FloatArray = NDArray[np.float64]
MIN_CUSTOMERS = 10


@dataclass(frozen=True)
class ParetoNBDParams:
    """Pareto/NBD parameters; the last three fields are set only by :func:`fit`."""

    r: float
    alpha: float
    s: float
    beta: float
    log_likelihood: float = float("nan")
    n_customers: int = 0
    converged: bool = False

    def conditional_expected_purchases(
        self, t: ArrayLike, x: ArrayLike, t_x: ArrayLike, T: ArrayLike
    ) -> FloatArray:
        return conditional_expected_purchases(self, t, x, t_x, T)


def _log_f(
    r: float, alpha: float, s: float, beta: float, x: FloatArray, t: FloatArray
) -> FloatArray:
    """log of 2F1(r+s+x, c; r+s+x+1; z) / (m+t)**(r+s+x), z = |alpha-beta|/(m+t).

    A_0 of the note is F(t_x) - F(T), with m = max(alpha, beta) and c = s+1 if
    alpha >= beta else r+x.
    """
    rsx = r + s + x
    if alpha >= beta:
        m, lo, c = alpha, beta, s + 1.0 + 0.0 * x
    else:
        m, lo, c = beta, alpha, r + x
    # Both z and 1 - z are formed from the data, not one from the other, so neither loses
    # digits when alpha and beta are far apart.
    z = (m - lo) / (m + t)
    y = (lo + t) / (m + t)
    return np.asarray(_log_hyp2f1_c(rsx, c, z, y) - rsx * np.log(m + t), dtype=np.float64)


def _log_hyp2f1_c(a: FloatArray, c: FloatArray, z: FloatArray, y: FloatArray) -> FloatArray:
    """log 2F1(a, c; a+1; z) for a, c > 0 and 0 <= z = 1 - y < 1.

    Euler's transformation gives y**(1-c) * 2F1(1, a+1-c; a+1; z), whose series converges at
    z = 1, so for moderate parameters scipy's hyp2f1 is fast and accurate to ~1e-12 (it is
    what lifetimes uses). Close to z = 1 with a+1-c large it loses digits and eventually
    returns NaN (e.g. 2F1(1, 572.8; 574.3; 0.9975)); there, and wherever it is not finite,
    the equivalent integral a * int_0^1 v^(a-1) (1-zv)^(-c) dv is done by quadrature.
    """
    a, c, z, y = np.broadcast_arrays(a, c, z, y)
    b = a + 1.0 - c
    with np.errstate(all="ignore"):
        out = np.log(hyp2f1(1.0, b, a + 1.0, z)) + (1.0 - c) * np.log(y)
    # Region found by comparing scipy with the quadrature (itself checked against mpmath)
    # over a, c in [1e-3, 1e4], y in [1e-14, 1]: outside it the two agree to 2e-12.
    risky = ~np.isfinite(out) | (y < 1e-4) | ((b > 5.0) & (y < 0.2))
    if risky.any():
        out = np.array(out, dtype=np.float64)
        out[risky] = np.log(a[risky]) + _log_beta_integral(a[risky], c[risky], y[risky])
    return np.asarray(out, dtype=np.float64)


_GL_NODES, _GL_WEIGHTS = np.polynomial.legendre.leggauss(16)
_PANELS = 40


def _log_beta_integral(a: FloatArray, c: FloatArray, y: FloatArray) -> FloatArray:
    """log of int_0^1 v^(a-1) (1 - (1-y) v)^(-c) dv by composite Gauss-Legendre.

    With v = exp(-tau) the integrand is exp(-a tau) (1 + (1-y)/y (1 - e^-tau))^-c * y^-c:
    log-convex and decreasing, with a spike of width ~y/c at 0 and an exp(-a tau) tail.
    Geometrically growing panels from min(y, 1/rate)/2 up to 1 + 45/a resolve both scales
    (each panel sits at least its own width away from the pole at tau = log(1-y)), and the
    truncated tail is below e^-45 of the total.
    """
    a, c, y = (np.asarray(v, dtype=np.float64)[:, None] for v in (a, c, y))
    ratio = (1.0 - y) / y
    tau_max = 1.0 + 45.0 / a
    first = 0.5 * np.minimum(np.minimum(y, 1.0 / (a + c * ratio)), tau_max)
    edges = first * (tau_max / first) ** (np.arange(_PANELS + 1) / _PANELS)
    edges = np.concatenate([np.zeros_like(first), edges], axis=1)
    mid = 0.5 * (edges[:, 1:] + edges[:, :-1])
    half = 0.5 * (edges[:, 1:] - edges[:, :-1])
    tau = mid[..., None] + half[..., None] * _GL_NODES
    log_g = -a[..., None] * tau - c[..., None] * np.log1p(-ratio[..., None] * np.expm1(-tau))
    total = (_GL_WEIGHTS * half[..., None] * np.exp(log_g)).sum(axis=(1, 2))
    return np.asarray(-c[:, 0] * np.log(y[:, 0]) + np.log(total), dtype=np.float64)


def _log_a0(log_f_tx: FloatArray, log_f_T: FloatArray) -> FloatArray:
    """log(F(t_x) - F(T)) without cancellation blow-ups; -inf when t_x == T."""
    diff = np.minimum(log_f_T - log_f_tx, 0.0)  # F is decreasing in t, so diff <= 0 up to rounding
    with np.errstate(divide="ignore"):
        return np.asarray(log_f_tx + np.log(-np.expm1(diff)), dtype=np.float64)


def _log_terms(
    p: tuple[float, float, float, float], x: FloatArray, T: FloatArray, log_a0: FloatArray
) -> tuple[FloatArray, FloatArray]:
    """(log of 'alive at T' term, log of 'died in (t_x, T]' term), both without A_1."""
    r, alpha, s, beta = p
    alive = -(r + x) * np.log(alpha + T) - s * np.log(beta + T)
    dead = np.log(s) - np.log(r + s + x) + log_a0
    return np.asarray(alive, dtype=np.float64), np.asarray(dead, dtype=np.float64)


def _log_a1(p: tuple[float, float, float, float], x: FloatArray) -> FloatArray:
    r, alpha, s, beta = p
    return np.asarray(
        gammaln(r + x) - gammaln(r) + r * np.log(alpha) + s * np.log(beta), dtype=np.float64
    )


@dataclass(frozen=True)
class _Design:
    """Index structure for evaluating the likelihood on compressed data.

    The expensive 2F1 depends on (x, t_x) in one term and on (x, T) in the other, so it is
    evaluated once per distinct pair (far fewer than distinct triples) and gathered.
    """

    n: float
    w: FloatArray
    x: FloatArray
    T: FloatArray
    xs: FloatArray  # distinct x and customer counts, for the terms in x alone
    wx: FloatArray
    px: FloatArray  # distinct (x, t) pairs over both t_x and T
    pt: FloatArray
    i_tx: NDArray[np.intp]  # triple -> pair index of (x, t_x) and of (x, T)
    i_T: NDArray[np.intp]

    @classmethod
    def from_triples(cls, tr: Triples) -> _Design:
        w = tr.weight.astype(np.float64)
        xs, xi = np.unique(tr.x, return_inverse=True)
        xi = xi.reshape(-1).astype(np.int64)
        # Distinct (x, t) over t_x and T together, via integer keys (np.unique over rows
        # sorts records and is ten times slower).
        ts, ti = np.unique(np.concatenate([tr.t_x, tr.T]), return_inverse=True)
        keys, pi = np.unique(np.tile(xi, 2) * ts.size + ti.reshape(-1), return_inverse=True)
        pi = pi.reshape(-1)
        k = len(tr)
        return cls(
            n=float(w.sum()),
            w=w,
            x=tr.x,
            T=tr.T,
            xs=xs,
            wx=np.bincount(xi, weights=w, minlength=xs.size).astype(np.float64),
            px=xs[keys // ts.size],
            pt=ts[keys % ts.size],
            i_tx=pi[:k],
            i_T=pi[k:],
        )


def _mean_nll(log_theta: FloatArray, d: _Design) -> float:
    r, alpha, s, beta = (float(v) for v in np.exp(log_theta))
    p = (r, alpha, s, beta)
    lf = _log_f(r, alpha, s, beta, d.px, d.pt)
    alive, dead = _log_terms(p, d.x, d.T, _log_a0(lf[d.i_tx], lf[d.i_T]))
    ll = wsum(d.wx, _log_a1(p, d.xs)) + wsum(d.w, log_add_exp(alive, dead))
    return float(-ll / d.n)


def log_likelihood_per_customer(
    params: ParetoNBDParams, x: ArrayLike, t_x: ArrayLike, T: ArrayLike
) -> FloatArray:
    """Individual log-likelihood (Fader & Hardie note, eq. 18), one value per row."""
    xa, ta, Ta = validate_rfm(x, t_x, T)
    r, alpha, s, beta = params.r, params.alpha, params.s, params.beta
    p = (r, alpha, s, beta)
    log_a0 = _log_a0(_log_f(r, alpha, s, beta, xa, ta), _log_f(r, alpha, s, beta, xa, Ta))
    alive, dead = _log_terms(p, xa, Ta, log_a0)
    return np.asarray(_log_a1(p, xa) + np.logaddexp(alive, dead), dtype=np.float64)


def log_likelihood(params: ParetoNBDParams, triples: Triples) -> float:
    """Total log-likelihood of the customers behind ``triples`` (weights applied)."""
    d = _Design.from_triples(triples)
    theta = np.log([params.r, params.alpha, params.s, params.beta])
    return -_mean_nll(theta, d) * d.n


def fit(x: ArrayLike, t_x: ArrayLike, T: ArrayLike) -> ParetoNBDParams:
    """Maximum-likelihood Pareto/NBD fit to per-customer (x, t_x, T)."""
    return fit_triples(compress(x, t_x, T))


def fit_triples(triples: Triples) -> ParetoNBDParams:
    """Maximum-likelihood Pareto/NBD fit to compressed data; raises FitError subclasses."""
    n = triples.n_customers
    if n < MIN_CUSTOMERS:
        raise TooFewCustomers(f"Pareto/NBD needs at least {MIN_CUSTOMERS} customers, got {n}")
    if not (triples.x > 0).any():
        raise TooFewCustomers("Pareto/NBD needs some repeat purchases; every customer has x == 0")
    # Optimise with time in units of the mean age (see bgnbd.fit_triples).
    unit = triples.mean_age() if triples.mean_age() > 0 else 1.0
    d = _Design.from_triples(triples.rescaled(unit))
    theta, nll = minimise_mean_nll([0.0] * 4, model="Pareto/NBD", value=lambda z: _mean_nll(z, d))
    r, alpha, s, beta = (float(v) for v in np.exp(theta))
    ll = -nll * d.n - float(np.sum(triples.weight * triples.x) * np.log(unit))
    return ParetoNBDParams(
        r, alpha * unit, s, beta * unit, log_likelihood=ll, n_customers=n, converged=True
    )


def probability_alive(
    params: ParetoNBDParams, x: ArrayLike, t_x: ArrayLike, T: ArrayLike
) -> FloatArray:
    """P(still alive at T | x, t_x, T) (Fader & Hardie note, eq. 37)."""
    xa, ta, Ta = validate_rfm(x, t_x, T)
    r, alpha, s, beta = params.r, params.alpha, params.s, params.beta
    log_a0 = _log_a0(_log_f(r, alpha, s, beta, xa, ta), _log_f(r, alpha, s, beta, xa, Ta))
    alive, dead = _log_terms((r, alpha, s, beta), xa, Ta, log_a0)
    return np.asarray(np.exp(alive - np.logaddexp(alive, dead)), dtype=np.float64)


def conditional_expected_purchases(
    params: ParetoNBDParams, t: ArrayLike, x: ArrayLike, t_x: ArrayLike, T: ArrayLike
) -> FloatArray:
    """Expected purchases in the next ``t`` time units given (x, t_x, T) (note, eq. 41).

    P(alive) * (r+x)(beta+T) / ((alpha+T)(s-1)) * [1 - ((beta+T)/(beta+T+t))**(s-1)].
    """
    xa, ta, Ta = validate_rfm(x, t_x, T)
    tt = np.asarray(t, dtype=np.float64)
    if (tt < 0).any():
        raise ValueError("horizon t must be non-negative")
    r, alpha, s, beta = params.r, params.alpha, params.s, params.beta
    rate_if_alive = (r + xa) / (alpha + Ta)
    return np.asarray(
        probability_alive(params, xa, ta, Ta) * rate_if_alive * _mean_lifetime_in(s, beta + Ta, tt),
        dtype=np.float64,
    )


def _mean_lifetime_in(s: float, beta_t: FloatArray, t: FloatArray) -> FloatArray:
    """E[min(remaining lifetime, t)] for mu ~ Gamma(s, beta_t).

    Equals beta_t/(s-1) * [1 - (1 + t/beta_t)**(1-s)], written with expm1/log1p so that
    s -> 1 tends to beta_t * log(1 + t/beta_t) smoothly.
    """
    lg = np.log1p(t / beta_t)
    if abs(s - 1.0) < 1e-12:
        return np.asarray(beta_t * lg, dtype=np.float64)
    return np.asarray(-beta_t * np.expm1(-(s - 1.0) * lg) / (s - 1.0), dtype=np.float64)


def expected_purchases(params: ParetoNBDParams, t: ArrayLike) -> FloatArray:
    """Unconditional E[X(t)] for a customer just acquired: r/alpha * E[min(lifetime, t)]."""
    tt = np.asarray(t, dtype=np.float64)
    if (tt < 0).any():
        raise ValueError("horizon t must be non-negative")
    return params.r / params.alpha * _mean_lifetime_in(params.s, params.beta + 0.0 * tt, tt)
