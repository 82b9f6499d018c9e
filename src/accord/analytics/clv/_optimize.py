"""Shared maximum-likelihood driver: optimise on log-parameters and refuse bad optima."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
from numpy.typing import NDArray
from scipy.optimize import minimize

from accord.analytics.clv.errors import NotConverged

FloatArray = NDArray[np.float64]
Grad = tuple[float, FloatArray]

# Box for L-BFGS-B on log(theta): keeps trial points of the line search away from overflow.
# What rejects a degenerate fit is the tighter PLAUSIBLE_LOG check on the result.
LOG_BOUND = 20.0
# Fits run with time (and spend) in units of their data's mean, so every parameter is
# dimensionless; one beyond e**±10 means the optimiser is following a ridge towards a
# degenerate limit (no heterogeneity, nobody ever drops out, ...) where the supremum of the
# likelihood is approached but no maximum exists.
PLAUSIBLE_LOG = 10.0
# Largest |d mean-NLL / d log theta| accepted as a stationary point when L-BFGS-B stops for
# a reason other than its own tolerances (typically a line search at rounding-noise level).
GRADIENT_ACCEPT = 1e-5
# Central-difference step in log-parameters: eps**(1/3) balances truncation against rounding.
CENTRAL_STEP = 6e-6
# A stationary point must also be a maximum: the smallest eigenvalue of the mean-NLL Hessian
# in log-parameters must not be negative beyond finite-difference noise (~1e-7 with a
# central-difference gradient). Well-posed fits have eigenvalues of 1e-3 and up.
HESSIAN_STEP = 1e-4
CURVATURE_NOISE = 1e-5


def central_difference(fun: Callable[[FloatArray], float]) -> Callable[[FloatArray], Grad]:
    """Wrap an objective without analytic gradient into (value, central-difference gradient).

    Good to ~1e-10, two orders better than scipy's default forward differences, which lets
    the optimiser pin the optimum down to the last digit the published tables show.
    """

    def value_and_grad(z: FloatArray) -> Grad:
        steps = np.eye(z.size) * CENTRAL_STEP
        grad = np.array([(fun(z + e) - fun(z - e)) / (2 * CENTRAL_STEP) for e in steps])
        return fun(z), grad

    return value_and_grad


def _lbfgsb(fun: Callable[[FloatArray], Grad], x0: Sequence[float], gtol: float) -> Any:
    options = {"maxiter": 1000, "ftol": 1e-15, "maxls": 50, "gtol": gtol}
    with np.errstate(all="ignore"):
        return minimize(
            fun,
            np.asarray(x0, dtype=np.float64),
            jac=True,
            method="L-BFGS-B",
            bounds=[(-LOG_BOUND, LOG_BOUND)] * len(x0),
            options=options,
        )


def wsum(w: FloatArray, v: FloatArray) -> float:
    """sum(w * v) without BLAS.

    ``w @ v`` goes to OpenBLAS, which hands long vectors to its thread pool; on a busy
    machine the threads' spin-waiting made whole fits 50x slower than this plain loop.
    """
    return float(np.einsum("i,i->", w, v))


def log_add_exp(a: FloatArray, b: FloatArray) -> FloatArray:
    """log(e^a + e^b) for finite a and a or b possibly -inf; np.logaddexp is ~4x slower."""
    with np.errstate(invalid="ignore"):
        return np.asarray(np.maximum(a, b) + np.log1p(np.exp(-np.abs(a - b))), dtype=np.float64)


def minimise_mean_nll(
    x0: Sequence[float],
    *,
    model: str,
    value_and_grad: Callable[[FloatArray], Grad] | None = None,
    value: Callable[[FloatArray], float] | None = None,
) -> tuple[FloatArray, float]:
    """Minimise a mean negative log-likelihood over log-parameters; return (log_theta, nll).

    Give ``value_and_grad`` when the gradient is analytic, otherwise ``value`` alone. The
    mean rather than the sum keeps the optimiser's tolerances independent of the customer
    count. Raises NotConverged unless the result is a finite, plausible, strict minimum.
    """
    if value_and_grad is not None:
        fun = value_and_grad
        res = _lbfgsb(fun, x0, gtol=1e-9)
    elif value is not None:
        # Starting with cheaper forward differences and switching to central ones near the
        # optimum was tried: L-BFGS-B loses its curvature memory at the switch and the total
        # evaluation count went up, not down.
        fun = central_difference(value)
        res = _lbfgsb(fun, x0, gtol=1e-9)
    else:
        raise TypeError("give value_and_grad or value")
    log_theta = np.asarray(res.x, dtype=np.float64)
    nll = float(res.fun)
    grad = np.asarray(res.jac, dtype=np.float64)
    if not (np.isfinite(log_theta).all() and np.isfinite(nll) and np.isfinite(grad).all()):
        raise NotConverged(f"{model}: optimiser produced non-finite values ({res.message})")
    if (np.abs(log_theta) > PLAUSIBLE_LOG).any():
        raise NotConverged(
            f"{model}: parameters ran off towards a degenerate limit (dimensionless values "
            f"{np.exp(log_theta).tolist()}); the likelihood has no interior maximum for these data"
        )
    if not res.success and np.max(np.abs(grad)) > GRADIENT_ACCEPT:
        raise NotConverged(
            f"{model}: optimiser stopped after {res.nit} iterations without reaching a "
            f"stationary point ({res.message}; max |gradient| {np.max(np.abs(grad)):.2e})"
        )
    if value is None:
        hess = _hessian(fun, log_theta, grad)
    else:
        # 33 objective evaluations, against 4 gradients of 9 evaluations each.
        hess = _hessian_from_values(value, log_theta)
    curvature = np.linalg.eigvalsh(hess).min()
    if curvature < -CURVATURE_NOISE:
        raise NotConverged(
            f"{model}: optimiser stopped at a saddle point or on a ridge (smallest Hessian "
            f"eigenvalue {curvature:.2e}), not at a maximum of the likelihood"
        )
    return log_theta, nll


def _hessian(fun: Callable[[FloatArray], Grad], z: FloatArray, grad: FloatArray) -> FloatArray:
    """Symmetrised forward difference of an analytic gradient (``grad`` is the one at z).

    Truncation error is ~h/2 times the third derivative, i.e. ~1e-6 with h = 1e-6, well
    inside CURVATURE_NOISE; one gradient per parameter keeps the check cheap.
    """
    h = 1e-6
    with np.errstate(all="ignore"):
        cols = [(fun(z + e)[1] - grad) / h for e in np.eye(z.size) * h]
    hess = np.array(cols)
    return np.asarray(0.5 * (hess + hess.T), dtype=np.float64)


def _hessian_from_values(f: Callable[[FloatArray], float], z: FloatArray) -> FloatArray:
    """Central second differences of the objective itself."""
    k, h = z.size, HESSIAN_STEP
    e = np.eye(k) * h
    f0 = f(z)
    hess = np.empty((k, k))
    with np.errstate(all="ignore"):
        for i in range(k):
            hess[i, i] = (f(z + e[i]) - 2.0 * f0 + f(z - e[i])) / h**2
            for j in range(i):
                d = (
                    f(z + e[i] + e[j])
                    - f(z + e[i] - e[j])
                    - f(z - e[i] + e[j])
                    + f(z - e[i] - e[j])
                )
                hess[i, j] = hess[j, i] = d / (4.0 * h**2)
    return hess
