"""The SQL customer summary against the published CDNOW summary, on SQLite and PostgreSQL.

The CDNOW 1/10 sample is imported through the real importer (master id as the customer, as in
the raw log); its summary at the 39-week calibration cut-off must equal the shipped
cdnow_customers_summary_with_transactions.csv (keyed by sample id) and reproduce the
published BG/NBD fit.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import numpy as np
import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from accord.analytics.clv import bgnbd, compress
from accord.analytics.importer import import_csv
from accord.analytics.models import Customer
from accord.analytics.summary import Summary, customer_summary, holdout_counts
from accord.brands.models import Brand
from accord.core.settings import Settings
from tests.analytics.test_clv_cdnow import _cdnow_dir
from tests.builders import make_brand

START, CUTOFF, HOLDOUT_END = date(1997, 1, 1), date(1997, 9, 30), date(1998, 6, 30)


def _master_to_sample() -> dict[str, int]:
    mapping: dict[str, int] = {}
    for line in (_cdnow_dir() / "CDNOW_sample.txt").read_text().splitlines():
        if line.strip():
            master, sample = line.split()[:2]
            mapping[master] = int(sample)
    return mapping


@pytest.fixture
def cdnow_brand(session: Session, settings: Settings, tmp_path: Path) -> Brand:
    brand = make_brand(session)
    report = import_csv(
        session,
        settings,
        brand.id,
        _cdnow_dir() / "CDNOW_sample.txt",
        None,
        tmp_path / "rejects.csv",
        chunk=2_000,
        fmt="cdnow",
    )
    assert (report.imported, report.rejected, report.duplicates_skipped) == (6919, 0, 0)
    return brand


def _by_sample_id(session: Session, summary: Summary) -> np.ndarray:
    external = dict(session.execute(select(Customer.id, Customer.external_id)).all())
    to_sample = _master_to_sample()
    return np.array([to_sample[external[c]] for c in summary.customer_ids])


def test_summary_equals_the_published_cdnow_summary(session: Session, cdnow_brand: Brand) -> None:
    brand_id = cdnow_brand.id
    summary = customer_summary(session, brand_id, cutoff=CUTOFF, calibration_start=START)
    assert len(summary) == 2357
    order = np.argsort(_by_sample_id(session, summary))
    data = np.loadtxt(
        _cdnow_dir() / "cdnow_customers_summary_with_transactions.csv", delimiter=",", skiprows=1
    )
    x, t_x, T, zbar = (a[order] for a in (summary.x, summary.t_x, summary.T, summary.zbar))
    assert (x == data[:, 1]).all()
    assert (np.round(t_x, 2) == data[:, 2]).all()
    assert (np.round(T, 2) == data[:, 3]).all()
    # The CSV rounded zbar half-up; a float round may go the other way on exact ties.
    assert np.abs(zbar - data[:, 4]).max() <= 0.005 + 1e-9

    fit = bgnbd.fit_triples(compress(summary.x, summary.t_x, summary.T))
    assert (round(fit.r, 3), round(fit.alpha, 3), round(fit.a, 3), round(fit.b, 3)) == (
        0.243,
        4.414,
        0.793,
        2.426,
    )
    assert round(fit.log_likelihood, 1) == -9582.4


def test_holdout_counts_match_the_readme(session: Session, cdnow_brand: Brand) -> None:
    brand_id = cdnow_brand.id
    held = holdout_counts(
        session, brand_id, cutoff=CUTOFF, holdout_end=HOLDOUT_END, calibration_start=START
    )
    # README: 1,882 repeat purchase-days in the holdout (weeks 40-78).
    assert int(held.x_star.sum()) == int(held.per_day.sum()) == 1882
    assert held.days.min() >= 1 and held.days.max() <= (HOLDOUT_END - CUTOFF).days
