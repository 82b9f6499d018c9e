"""Property and error-path tests for the CLV models (no data files needed)."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from numpy.typing import NDArray

from accord.analytics.clv import (
    BGNBDParams,
    FitError,
    GammaGammaParams,
    NotConverged,
    ParetoNBDParams,
    TooFewCustomers,
    bgnbd,
    compress,
    customer_equity,
    customer_lifetime_value,
    gammagamma,
    paretonbd,
    triples,
)
from accord.analytics.clv.paretonbd import _log_beta_integral, _log_hyp2f1_c

FloatArray = NDArray[np.float64]
Rfm = tuple[FloatArray, FloatArray, FloatArray]


def _log_uniform(lo: float, hi: float) -> st.SearchStrategy[float]:
    return st.floats(math.log(lo), math.log(hi)).map(math.exp)


@st.composite
def rfm(draw: st.DrawFn, max_customers: int = 40) -> Rfm:
    """Valid (x, t_x, T): integer x, t_x = 0 without repeats, else 0 < t_x <= T."""
    rows = draw(
        st.lists(
            st.tuples(st.integers(0, 300), st.floats(0.01, 1.0), st.floats(0.0, 400.0)),
            min_size=1,
            max_size=max_customers,
        )
    )
    x = np.array([r[0] for r in rows], dtype=np.float64)
    T = np.array([r[2] for r in rows])
    x[T == 0] = 0  # no time observed, no repeat purchase possible
    t_x = np.where(x > 0, np.array([r[1] for r in rows]) * T, 0.0)
    return x, t_x, T


bg_params = st.builds(
    BGNBDParams,
    _log_uniform(1e-2, 1e2),
    _log_uniform(1e-2, 1e3),
    _log_uniform(1e-2, 1e2),
    _log_uniform(1e-2, 1e2),
)
pn_params = st.builds(
    ParetoNBDParams,
    _log_uniform(1e-2, 1e2),
    _log_uniform(1e-2, 1e3),
    _log_uniform(1e-2, 1e2),
    _log_uniform(1e-2, 1e3),
)


@settings(max_examples=150, deadline=None)
@given(params=bg_params, data=rfm())
def test_bgnbd_likelihood_finite_and_consistent(params: BGNBDParams, data: Rfm) -> None:
    x, t_x, T = data
    per_customer = bgnbd.log_likelihood_per_customer(params, x, t_x, T)
    assert np.isfinite(per_customer).all()
    total = bgnbd.log_likelihood(params, compress(x, t_x, T))
    assert total == pytest.approx(float(per_customer.sum()), rel=1e-9, abs=1e-9)
    p_alive = bgnbd.probability_alive(params, x, t_x, T)
    assert ((p_alive >= 0) & (p_alive <= 1)).all()
    assert (p_alive[x == 0] == 1).all()


@settings(max_examples=150, deadline=None)
@given(params=pn_params, data=rfm())
def test_paretonbd_likelihood_finite_and_consistent(params: ParetoNBDParams, data: Rfm) -> None:
    x, t_x, T = data
    per_customer = paretonbd.log_likelihood_per_customer(params, x, t_x, T)
    assert np.isfinite(per_customer).all()
    total = paretonbd.log_likelihood(params, compress(x, t_x, T))
    assert total == pytest.approx(float(per_customer.sum()), rel=1e-9, abs=1e-9)
    p_alive = paretonbd.probability_alive(params, x, t_x, T)
    assert ((p_alive >= 0) & (p_alive <= 1)).all()


@settings(max_examples=100, deadline=None)
@given(
    params=st.builds(
        BGNBDParams,
        _log_uniform(0.05, 5),
        _log_uniform(0.5, 50),
        _log_uniform(0.1, 5),
        _log_uniform(0.1, 10),
    ),
    data=rfm(max_customers=10),
    horizon=st.floats(0.0, 104.0),
    extra=st.floats(0.0, 52.0),
)
def test_bgnbd_expectation_finite_and_monotone(
    params: BGNBDParams, data: Rfm, horizon: float, extra: float
) -> None:
    """Over a plausible parameter box (2F1 at extreme parameters is outside this promise)."""
    x, t_x, T = data
    near = bgnbd.conditional_expected_purchases(params, horizon, x, t_x, T)
    far = bgnbd.conditional_expected_purchases(params, horizon + extra, x, t_x, T)
    assert np.isfinite(near).all() and (near >= 0).all()
    assert (far >= near * (1 - 1e-9) - 1e-12).all()


@settings(max_examples=100, deadline=None)
@given(
    params=st.builds(
        ParetoNBDParams,
        _log_uniform(0.05, 5),
        _log_uniform(0.5, 50),
        _log_uniform(0.1, 5),
        _log_uniform(0.5, 50),
    ),
    data=rfm(max_customers=10),
    horizon=st.floats(0.0, 104.0),
    extra=st.floats(0.0, 52.0),
)
def test_paretonbd_expectation_finite_and_monotone(
    params: ParetoNBDParams, data: Rfm, horizon: float, extra: float
) -> None:
    x, t_x, T = data
    near = paretonbd.conditional_expected_purchases(params, horizon, x, t_x, T)
    far = paretonbd.conditional_expected_purchases(params, horizon + extra, x, t_x, T)
    assert np.isfinite(near).all() and (near >= 0).all()
    assert (far >= near * (1 - 1e-9) - 1e-12).all()


@settings(max_examples=60, deadline=None)
@given(data=rfm(max_customers=200))
def test_compress_matches_numpy_unique_rows(data: Rfm) -> None:
    x, t_x, T = data
    # Coarsen to a day grid so that rows actually repeat.
    t_x, T = np.round(t_x * 7 / 50) * 50 / 7, np.round(T * 7 / 50) * 50 / 7
    T = np.maximum(T, t_x)
    rows, inverse, counts = np.unique(
        np.column_stack([x, t_x, T]), axis=0, return_inverse=True, return_counts=True
    )
    # Both key-merging paths: one int64 key per customer, and the two-step merge used when
    # the distinct-value counts multiply past the int64 range.
    for limit in (triples.SINGLE_KEY_LIMIT, 0):
        saved, triples.SINGLE_KEY_LIMIT = triples.SINGLE_KEY_LIMIT, limit
        try:
            tr = compress(x, t_x, T)
        finally:
            triples.SINGLE_KEY_LIMIT = saved
        np.testing.assert_array_equal(np.column_stack([tr.x, tr.t_x, tr.T]), rows)
        np.testing.assert_array_equal(tr.weight, counts)
        np.testing.assert_array_equal(tr.inverse, inverse.reshape(-1))
        np.testing.assert_array_equal(tr.expand(tr.T), T)


def test_hyp2f1_fallback_agrees_where_scipy_is_reliable() -> None:
    rng = np.random.default_rng(3)
    a, c = 10 ** rng.uniform(-2, 1.5, 500), 10 ** rng.uniform(-2, 1.5, 500)
    y = rng.uniform(0.3, 1.0, 500)
    via_scipy = _log_hyp2f1_c(a, c, 1.0 - y, y)
    via_quadrature = np.log(a) + _log_beta_integral(a, c, y)
    np.testing.assert_allclose(via_quadrature, via_scipy, rtol=1e-11, atol=1e-11)


def test_paretonbd_likelihood_where_scipy_hyp2f1_returns_nan() -> None:
    """scipy gives NaN for 2F1(1, 572.8; 574.3; 0.9975), met while fitting small samples."""
    params = ParetoNBDParams(1.54986, 46.0272, 571.788, 18209.3)
    ll = paretonbd.log_likelihood_per_customer(params, [0, 1, 4], [0.0, 0.1, 30.0], [10.0, 20, 35])
    assert np.isfinite(ll).all()


def _numeric_gradient(f: object, z: FloatArray, h: float = 1e-6) -> FloatArray:
    steps = np.eye(z.size) * h
    return np.array([(f(z + e) - f(z - e)) / (2 * h) for e in steps])  # type: ignore[operator]


@settings(max_examples=30, deadline=None)
@given(data=rfm(), theta=st.lists(st.floats(-2, 2), min_size=4, max_size=4))
def test_bgnbd_analytic_gradient(data: Rfm, theta: list[float]) -> None:
    design = bgnbd._Design.from_triples(compress(*data))
    z = np.array(theta)
    _, grad = bgnbd._nll_and_grad(z, design)
    numeric = _numeric_gradient(lambda v: bgnbd._nll_and_grad(v, design)[0], z)
    np.testing.assert_allclose(grad, numeric, rtol=1e-5, atol=1e-7)


def test_gammagamma_analytic_gradient() -> None:
    rng = np.random.default_rng(0)
    x = rng.integers(1, 20, 300).astype(np.float64)
    z = rng.gamma(3.0, 10.0, 300)
    theta = np.log([4.0, 2.5, 20.0])
    _, grad = gammagamma._nll_and_grad(theta, x, z)
    numeric = _numeric_gradient(lambda v: gammagamma._nll_and_grad(v, x, z)[0], theta)
    np.testing.assert_allclose(grad, numeric, rtol=1e-6, atol=1e-9)


# --- errors -------------------------------------------------------------------------------


@pytest.mark.parametrize("model", [bgnbd, paretonbd])
def test_too_few_customers(model: object) -> None:
    x = np.array([1.0, 2, 0, 3, 1, 0, 2, 1, 4])
    t_x = np.where(x > 0, 5.0, 0.0)
    with pytest.raises(TooFewCustomers):
        model.fit(x, t_x, np.full(9, 10.0))  # type: ignore[attr-defined]


@pytest.mark.parametrize("model", [bgnbd, paretonbd])
def test_no_repeat_purchases(model: object) -> None:
    with pytest.raises(TooFewCustomers):
        model.fit(np.zeros(500), np.zeros(500), np.linspace(1, 39, 500))  # type: ignore[attr-defined]


def test_gammagamma_too_few_repeat_customers() -> None:
    x = np.r_[np.zeros(100), np.ones(5)]
    with pytest.raises(TooFewCustomers):
        gammagamma.fit(x, np.where(x > 0, 10.0, 0.0))


@pytest.mark.parametrize("model", [bgnbd, paretonbd])
def test_degenerate_data_is_not_converged(model: object) -> None:
    """Everyone bought on their last day and at similar rates: no dropout is identifiable."""
    rng = np.random.default_rng(0)
    x = rng.poisson(5, 200).astype(np.float64) + 1
    T = np.full(200, 30.0)
    with pytest.raises(NotConverged):
        model.fit(x, T, T)  # type: ignore[attr-defined]


def test_gammagamma_constant_spend_is_not_converged() -> None:
    x = np.random.default_rng(0).integers(1, 10, 200).astype(np.float64)
    with pytest.raises(FitError):
        gammagamma.fit(x, np.full(200, 10.0))


@pytest.mark.parametrize(
    ("x", "t_x", "T"),
    [
        ([1.0, 2.0], [3.0, 5.0], [2.0, 6.0]),  # t_x > T
        ([-1.0, 2.0], [0.0, 5.0], [2.0, 6.0]),  # negative count
        ([1.5, 2.0], [1.0, 5.0], [2.0, 6.0]),  # non-integer count
        ([0.0, 2.0], [1.0, 5.0], [2.0, 6.0]),  # recency without repeat purchase
        ([1.0, 2.0], [1.0, np.nan], [2.0, 6.0]),
    ],
)
def test_invalid_rfm_rejected(x: list[float], t_x: list[float], T: list[float]) -> None:
    with pytest.raises(ValueError):
        compress(x, t_x, T)


# --- value --------------------------------------------------------------------------------

BG = BGNBDParams(0.243, 4.414, 0.793, 2.426)
PN = ParetoNBDParams(0.553, 10.578, 0.606, 11.669)


def _customers() -> tuple[FloatArray, FloatArray, FloatArray, FloatArray]:
    rng = np.random.default_rng(1)
    T = rng.integers(1, 274, 300) / 7.0
    x = rng.poisson(2.0, 300).astype(np.float64)
    t_x = np.where(x > 0, np.round(rng.uniform(0, 1, 300) * T * 7) / 7, 0.0)
    spend = gammagamma.conditional_expected_spend(
        GammaGammaParams(6.25, 3.74, 15.44), x, np.where(x > 0, rng.gamma(5.0, 8.0, 300), 0.0)
    )
    return x, t_x, T, spend


@pytest.mark.parametrize("model", [BG, PN])
def test_clv_zero_without_margin(model: BGNBDParams | ParetoNBDParams) -> None:
    x, t_x, T, spend = _customers()
    assert (customer_lifetime_value(model, x, t_x, T, spend, margin=0.0) == 0).all()
    assert customer_equity(model, x, t_x, T, spend, margin=0.0) == 0


@pytest.mark.parametrize("model", [BG, PN])
def test_clv_decreases_with_discount_rate(model: BGNBDParams | ParetoNBDParams) -> None:
    x, t_x, T, spend = _customers()
    rates = [0.0, 0.005, 0.01, 0.05, 0.2]
    clvs = np.array(
        [
            customer_lifetime_value(model, x, t_x, T, spend, margin=0.3, monthly_discount_rate=d)
            for d in rates
        ]
    )
    assert (clvs > 0).all()
    assert (np.diff(clvs, axis=0) < 0).all()
    equity = [customer_equity(model, x, t_x, T, spend, monthly_discount_rate=d) for d in rates]
    assert (np.diff(equity) < 0).all()


def test_clv_scales_with_margin_and_horizon() -> None:
    x, t_x, T, spend = _customers()
    base = customer_lifetime_value(BG, x, t_x, T, spend, margin=0.2)
    np.testing.assert_allclose(customer_lifetime_value(BG, x, t_x, T, spend, margin=0.4), 2 * base)
    longer = customer_lifetime_value(BG, x, t_x, T, spend, margin=0.2, months=24)
    assert (longer > base).all()
