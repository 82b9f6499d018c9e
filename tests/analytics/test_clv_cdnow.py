"""CLV models against the published CDNOW fits (Fader, Hardie & Lee 2005 and the FH notes).

The summary CSV rounds t_x, T and zbar to 2 decimals. Where that rounding moves an estimate
across the last published digit, the test says so and checks the published digit on the
exact summary rebuilt from the raw transactions (CDNOW_sample.txt), which is the data the
published numbers came from.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest
from numpy.typing import NDArray

from accord.analytics.clv import bgnbd, gammagamma, paretonbd
from accord.analytics.clv.bgnbd import BGNBDParams
from accord.analytics.clv.gammagamma import GammaGammaParams
from accord.analytics.clv.paretonbd import ParetoNBDParams
from accord.analytics.clv.triples import compress
from accord.analytics.clv.value import customer_equity, customer_lifetime_value

FloatArray = NDArray[np.float64]
Summary = tuple[FloatArray, FloatArray, FloatArray, FloatArray]

CALIBRATION_END = np.datetime64("1997-09-30")  # end of week 39
HOLDOUT_END = np.datetime64("1998-06-30")  # end of week 78


def _cdnow_dir() -> Path:
    beside_repo = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "cdnow"
    if beside_repo.is_dir():
        return beside_repo
    env = os.environ.get("ACCORD_CDNOW_DIR")
    if env and Path(env).is_dir():
        return Path(env)
    raise FileNotFoundError(
        f"CDNOW data not found at {beside_repo} and ACCORD_CDNOW_DIR is not set to a directory"
    )


@pytest.fixture(scope="module")
def csv_summary() -> Summary:
    """ID,x,t_x,T,zbar as shipped (CRLF line endings; loadtxt strips them)."""
    path = _cdnow_dir() / "cdnow_customers_summary_with_transactions.csv"
    data = np.loadtxt(path, delimiter=",", skiprows=1)
    return data[:, 1], data[:, 2], data[:, 3], data[:, 4]


def _transactions() -> tuple[NDArray[np.int64], NDArray[np.int64], FloatArray]:
    """(customer, day since 1997-01-01, dollar value) per row of CDNOW_sample.txt."""
    path = _cdnow_dir() / "CDNOW_sample.txt"
    raw = np.loadtxt(path, usecols=(1, 2, 4))
    ymd = raw[:, 1].astype(np.int64)
    dates = np.array(
        [f"{v // 10000:04d}-{v // 100 % 100:02d}-{v % 100:02d}" for v in ymd],
        dtype="datetime64[D]",
    )
    day = (dates - np.datetime64("1997-01-01")).astype(np.int64)
    return raw[:, 0].astype(np.int64), day, raw[:, 2]


def _purchase_days(end: np.datetime64) -> tuple[FloatArray, FloatArray, FloatArray, FloatArray]:
    """Per customer: repeat purchase-days up to ``end``, last one, first day, mean value.

    A purchase is a (customer, day) pair, values summed within the day, as in the README.
    """
    cust, day, value = _transactions()
    n = int(cust.max())
    end_day = int((end - np.datetime64("1997-01-01")).astype(np.int64))
    first = np.full(n + 1, np.iinfo(np.int64).max)
    np.minimum.at(first, cust, day)
    keys, inv = np.unique(cust * 1000 + day, return_inverse=True)
    day_value = np.bincount(inv.reshape(-1), weights=value)
    kc, kd = keys // 1000, keys % 1000
    repeat = (kd > first[kc]) & (kd <= end_day)
    x = np.bincount(kc[repeat], minlength=n + 1)[1:].astype(np.float64)
    last = first.copy()
    np.maximum.at(last, kc[repeat], kd[repeat])
    total = np.bincount(kc[repeat], weights=day_value[repeat], minlength=n + 1)[1:]
    zbar = np.where(x > 0, total / np.maximum(x, 1), 0.0)
    return x, (last - first)[1:].astype(np.float64), first[1:].astype(np.float64), zbar


@pytest.fixture(scope="module")
def exact_summary() -> Summary:
    """The calibration summary in exact days / 7, rebuilt from the raw transactions."""
    x, t_days, first, zbar = _purchase_days(CALIBRATION_END)
    end_day = float((CALIBRATION_END - np.datetime64("1997-01-01")).astype(np.int64))
    return x, t_days / 7.0, (end_day - first) / 7.0, zbar


@pytest.fixture(scope="module")
def bg_fit(csv_summary: Summary) -> BGNBDParams:
    x, t_x, T, _ = csv_summary
    return bgnbd.fit(x, t_x, T)


@pytest.fixture(scope="module")
def pn_fit(csv_summary: Summary) -> ParetoNBDParams:
    x, t_x, T, _ = csv_summary
    return paretonbd.fit(x, t_x, T)


def test_exact_summary_rounds_to_the_shipped_csv(
    csv_summary: Summary, exact_summary: Summary
) -> None:
    x, t_x, T, zbar = csv_summary
    ex, et, eT, ez = exact_summary
    assert (ex == x).all() and int((x > 0).sum()) == 946
    assert (np.round(et, 2) == t_x).all() and (np.round(eT, 2) == T).all()
    # zbar was rounded half-up (22.345 -> 22.35); float round() may go either way on ties.
    assert np.abs(ez - zbar).max() <= 0.005 + 1e-9


def test_bgnbd_published_fit(bg_fit: BGNBDParams) -> None:
    """FHL 2005: r=0.243, alpha=4.414, a=0.793, b=2.426, LL=-9582.4 (all reproduced)."""
    assert bg_fit.converged and bg_fit.n_customers == 2357
    assert round(bg_fit.r, 3) == 0.243
    assert round(bg_fit.alpha, 3) == 4.414
    assert round(bg_fit.a, 3) == 0.793
    assert round(bg_fit.b, 3) == 2.426
    assert round(bg_fit.log_likelihood, 1) == -9582.4


def test_bgnbd_matches_lifetimes_on_the_csv(bg_fit: BGNBDParams) -> None:
    """lifetimes 0.11.3 BetaGeoFitter on this file: 0.242593, 4.413532, 0.792886, 2.425752."""
    got = [bg_fit.r, bg_fit.alpha, bg_fit.a, bg_fit.b]
    np.testing.assert_allclose(got, [0.242593, 4.413532, 0.792886, 2.425752], rtol=2e-6)


def test_bgnbd_published_fit_on_exact_data(exact_summary: Summary) -> None:
    x, t_x, T, _ = exact_summary
    fit = bgnbd.fit(x, t_x, T)
    assert [round(v, 3) for v in (fit.r, fit.alpha, fit.a, fit.b)] == [0.243, 4.414, 0.793, 2.426]
    assert round(fit.log_likelihood, 1) == -9582.4


def test_paretonbd_published_fit(pn_fit: ParetoNBDParams) -> None:
    """Published r=0.553, alpha=10.578, s=0.606, beta=11.669.

    On the CSV the MLE of beta is 11.6679, i.e. 11.668: rounding t_x and T to 2 decimals
    (errors up to 0.0043 week) moves it by 0.0008 across the rounding boundary. The exact
    day counts give 11.6687 (next test). lifetimes' Nelder-Mead (tol 1e-4, seeded start
    np.random.seed(0)) stops at beta=11.6669 on this file, its log-likelihood 8e-8 below ours.
    """
    assert pn_fit.converged and pn_fit.n_customers == 2357
    assert round(pn_fit.r, 3) == 0.553
    assert round(pn_fit.alpha, 3) == 10.578
    assert round(pn_fit.s, 3) == 0.606
    assert abs(pn_fit.beta - 11.669) < 0.0015
    assert round(pn_fit.log_likelihood, 1) == -9595.0


def test_paretonbd_published_fit_on_exact_data(exact_summary: Summary) -> None:
    x, t_x, T, _ = exact_summary
    fit = paretonbd.fit(x, t_x, T)
    got = [round(v, 3) for v in (fit.r, fit.alpha, fit.s, fit.beta)]
    assert got == [0.553, 10.578, 0.606, 11.669]


def test_gammagamma_published_fit(csv_summary: Summary, exact_summary: Summary) -> None:
    """FHL 2005 "RFM and CLV": p=6.25, q=3.74, gamma=15.44 on the 946 repeat customers.

    With zbar rounded to cents (CSV) gamma is 15.4477 -> 15.45 (lifetimes' docs show the same
    15.45); with the exact mean spend it is 15.4435 -> 15.44.
    """
    x, _, _, zbar = csv_summary
    fit = gammagamma.fit(x, zbar)
    assert fit.converged and fit.n_customers == 946
    assert (round(fit.p, 2), round(fit.q, 2)) == (6.25, 3.74)
    assert abs(fit.gamma - 15.44) < 0.01

    ex, _, _, ez = exact_summary
    exact = gammagamma.fit(ex, ez)
    assert (round(exact.p, 2), round(exact.q, 2), round(exact.gamma, 2)) == (6.25, 3.74, 15.44)


@pytest.mark.parametrize("model", [bgnbd, paretonbd])
def test_triples_likelihood_equals_per_customer_sum(
    model: object, csv_summary: Summary, bg_fit: BGNBDParams, pn_fit: ParetoNBDParams
) -> None:
    """The weighted likelihood on 1016 distinct triples is the sum over 2357 customers."""
    x, t_x, T, _ = csv_summary
    triples = compress(x, t_x, T)
    assert len(triples) == 1016 and triples.n_customers == 2357
    fitted = bg_fit if model is bgnbd else pn_fit
    others = (
        [BGNBDParams(0.5, 2.0, 1.5, 0.7), BGNBDParams(2.0, 30.0, 0.2, 9.0)]
        if model is bgnbd
        else [ParetoNBDParams(0.5, 20.0, 1.5, 3.0), ParetoNBDParams(2.0, 1.0, 0.2, 40.0)]
    )
    for params in [fitted, *others]:
        per_customer = model.log_likelihood_per_customer(params, x, t_x, T)  # type: ignore[attr-defined]
        weighted = model.log_likelihood(params, triples)  # type: ignore[attr-defined]
        assert weighted == pytest.approx(float(per_customer.sum()), rel=1e-9)
    assert model.log_likelihood(fitted, triples) == pytest.approx(  # type: ignore[attr-defined]
        fitted.log_likelihood, rel=1e-12
    )


def test_bgnbd_probability_alive(csv_summary: Summary, bg_fit: BGNBDParams) -> None:
    x, t_x, T, _ = csv_summary
    p_alive = bgnbd.probability_alive(bg_fit, x, t_x, T)
    assert (p_alive[x == 0] == 1.0).all()
    assert ((p_alive > 0) & (p_alive <= 1)).all()
    # Same history but a longer silence since the last purchase: less likely to be alive.
    later = bgnbd.probability_alive(bg_fit, [2, 2], [5.0, 5.0], [20.0, 35.0])
    assert later[1] < later[0]


def test_paretonbd_probability_alive(csv_summary: Summary, pn_fit: ParetoNBDParams) -> None:
    x, t_x, T, _ = csv_summary
    p_alive = paretonbd.probability_alive(pn_fit, x, t_x, T)
    assert ((p_alive > 0) & (p_alive <= 1)).all()
    # Bought recently, i.e. t_x == T: the "died in (t_x, T]" term vanishes.
    assert paretonbd.probability_alive(pn_fit, [3], [30.0], [30.0])[0] == pytest.approx(1.0)


@pytest.mark.parametrize("model", [bgnbd, paretonbd])
def test_expected_purchases_monotone_in_horizon(
    model: object, csv_summary: Summary, bg_fit: BGNBDParams, pn_fit: ParetoNBDParams
) -> None:
    x, t_x, T, _ = csv_summary
    params = bg_fit if model is bgnbd else pn_fit
    horizons = [0.0, 1.0, 4.345, 13.0, 39.0, 52.0, 104.0]
    curves = np.array([params.conditional_expected_purchases(h, x, t_x, T) for h in horizons])
    assert (curves[0] == 0).all()
    assert (np.diff(curves, axis=0) > 0).all()
    unconditional = model.expected_purchases(params, np.array(horizons))  # type: ignore[attr-defined]
    assert unconditional[0] == 0 and (np.diff(unconditional) > 0).all()


def test_holdout_tracking(csv_summary: Summary, bg_fit: BGNBDParams) -> None:
    """Cumulative repeat purchases of the cohort, model E[X(t)] against the transactions.

    The README counts 2,457 repeat purchase-days in weeks 1-39 and 4,339 by week 78. The
    fitted BG/NBD gives 2,494 (+1.5%) and 4,161 (-4.1%).
    """
    x, _, T, _ = csv_summary
    x78, *_ = _purchase_days(HOLDOUT_END)
    assert x.sum() == 2457 and x78.sum() == 4339
    calibration = float(bgnbd.expected_purchases(bg_fit, T).sum())
    week78 = float(bgnbd.expected_purchases(bg_fit, T + 39.0).sum())
    assert calibration == pytest.approx(2457, rel=0.02)
    assert week78 == pytest.approx(4339, rel=0.05)


# lifetimes 0.11.3's customer_lifetime_value loop on this file with the published parameters
# (BG/NBD or Pareto/NBD x Gamma-Gamma, 12 months, 1% a month, freq="W"), run with numpy
# inputs because its pandas code path fails under pandas 2.
LIFETIMES_CLV = {
    "bgnbd": (71560.20884012149, [36.28921112559936, 4.637294659747194, 8.369004358920185]),
    "paretonbd": (72348.70968547143, [43.08991786006475, 3.8859614556068647, 4.528021672855981]),
}


@pytest.mark.parametrize("name", ["bgnbd", "paretonbd"])
def test_clv_matches_lifetimes(name: str, csv_summary: Summary) -> None:
    x, t_x, T, zbar = csv_summary
    model: BGNBDParams | ParetoNBDParams = (
        BGNBDParams(0.243, 4.414, 0.793, 2.426)
        if name == "bgnbd"
        else ParetoNBDParams(0.553, 10.578, 0.606, 11.669)
    )
    spend = gammagamma.conditional_expected_spend(GammaGammaParams(6.25, 3.74, 15.44), x, zbar)
    clv = customer_lifetime_value(model, x, t_x, T, spend, months=12, monthly_discount_rate=0.01)
    total, first = LIFETIMES_CLV[name]
    np.testing.assert_allclose(clv[:3], first, rtol=1e-10)
    assert customer_equity(model, x, t_x, T, spend) == pytest.approx(total, rel=1e-10)
