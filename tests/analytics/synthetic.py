"""Synthetic transactions drawn from BG/NBD and Gamma-Gamma with the CDNOW parameters."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import numpy as np

from accord.analytics.validation import Record

START = date(2024, 1, 1)
CUTOFF = START + timedelta(days=272)  # 39 weeks, as CDNOW's calibration period
END = CUTOFF + timedelta(days=273)  # a holdout of the same length


def transactions(
    customers: list[str], *, seed: int = 7, currency: str = "EUR", days: int = 545
) -> list[Record]:
    """First purchases spread over the first 12 weeks, then repeat purchases until drop-out."""
    rng = np.random.default_rng(seed)
    out: list[Record] = []
    noon = datetime(START.year, START.month, START.day, 12, tzinfo=UTC)
    for name in customers:
        rate = rng.gamma(0.243, 1 / 4.414) / 7.0  # purchases a day
        drop = rng.beta(0.793, 2.426)
        nu = rng.gamma(3.74, 1 / 15.44)
        day = float(rng.integers(0, 84))
        while day < days:
            value = max(float(rng.gamma(6.25, 1 / nu)), 0.01)
            n = len(out) + 1
            out.append(
                Record(
                    n, name, noon + timedelta(days=int(day)), Decimal(f"{value:.2f}"),
                    currency, "web", f"o-{n}", None, None, False, None,
                )
            )  # fmt: skip
            # BG/NBD: after each repeat purchase the customer drops out with probability p.
            if len(out) > 1 and out[-2].customer == name and rng.random() < drop:
                break
            day += rng.exponential(1 / rate) if rate > 0 else days
    return out
