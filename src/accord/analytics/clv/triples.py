"""Compression of per-customer (x, t_x, T) summaries into distinct weighted triples.

Every BTYD likelihood depends on a customer only through (x, t_x, T), and real data sit on a
calendar grid, so many customers share a triple. Fitting on the distinct triples with integer
weights keeps the cost and memory of each likelihood evaluation proportional to the number of
distinct histories rather than to the number of customers.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]
# Product of the three columns' distinct-value counts below which one int64 key per
# customer cannot overflow (a module constant so that tests can force the other path).
SINGLE_KEY_LIMIT = 2**62


@dataclass(frozen=True)
class Triples:
    """Distinct (x, t_x, T) rows in lexicographic order, with customer counts.

    ``inverse[i]`` is the row of customer ``i``, so ``values[inverse]`` expands any per-triple
    result back to one value per customer.
    """

    x: FloatArray
    t_x: FloatArray
    T: FloatArray
    weight: IntArray
    inverse: NDArray[np.intp]

    @property
    def n_customers(self) -> int:
        return int(self.weight.sum())

    def __len__(self) -> int:
        return int(self.x.shape[0])

    def mean_age(self) -> float:
        """Customer-weighted mean of T: the natural time unit for optimisation."""
        return float(np.average(self.T, weights=self.weight))

    def rescaled(self, time_unit: float) -> Triples:
        """The same customers with t_x and T measured in multiples of ``time_unit``."""
        return Triples(self.x, self.t_x / time_unit, self.T / time_unit, self.weight, self.inverse)

    def expand(self, values: NDArray[np.float64]) -> FloatArray:
        """Per-triple values -> per-customer values (in the original customer order)."""
        return np.asarray(values, dtype=np.float64)[self.inverse]


def validate_rfm(x: ArrayLike, t_x: ArrayLike, T: ArrayLike) -> tuple[FloatArray, ...]:
    """Check and convert per-customer frequency, recency and age arrays to float64.

    Raises ValueError for data that no BTYD model can describe, instead of letting a NaN
    surface deep inside an optimiser.
    """
    xa = np.asarray(x, dtype=np.float64)
    ta = np.asarray(t_x, dtype=np.float64)
    Ta = np.asarray(T, dtype=np.float64)
    if xa.ndim != 1 or xa.shape != ta.shape or xa.shape != Ta.shape:
        raise ValueError("x, t_x and T must be 1-D arrays of the same length")
    if not (np.isfinite(xa).all() and np.isfinite(ta).all() and np.isfinite(Ta).all()):
        raise ValueError("x, t_x and T must be finite")
    if (xa < 0).any() or (xa != np.round(xa)).any():
        raise ValueError("x (repeat purchase count) must be a non-negative integer")
    if (ta < 0).any() or (ta > Ta).any():
        raise ValueError("recency must satisfy 0 <= t_x <= T")
    # With no repeat purchase there is no last purchase after the first: t_x is 0 by
    # definition, and a non-zero value would change the Pareto/NBD likelihood silently.
    if (ta[xa == 0] != 0).any():
        raise ValueError("t_x must be 0 for customers with x == 0")
    return xa, ta, Ta


def compress(x: ArrayLike, t_x: ArrayLike, T: ArrayLike) -> Triples:
    """Group customers by identical (x, t_x, T).

    Equivalent to ``np.unique(np.column_stack([x, t_x, T]), axis=0, return_inverse=True,
    return_counts=True)`` but about an order of magnitude faster for millions of rows: each
    column is factorised on its own (a plain float sort), then the integer codes are merged
    into one int64 key per customer (or, if the three code ranges multiply past 2**62, two
    at a time, each product staying below n**2).
    """
    xa, ta, Ta = validate_rfm(x, t_x, T)
    n = xa.size
    # Codes are int64 so that the key arithmetic below cannot overflow.
    ux, cx = _factorize_counts(xa, n)
    ut, ct = _factorize_floats(ta)
    uT, cT = _factorize_floats(Ta)
    del xa, ta, Ta

    nx, nt, nT = ux.size, ut.size, uT.size
    if nx * nt * nT < SINGLE_KEY_LIMIT:
        # The usual case: one int64 key per customer, one more factorisation.
        key = (cx * nt + ct) * nT + cT
        del cx, ct, cT  # before the factorisation, which is the memory peak
        keys, inverse, counts = _factorize_keys(key, nx * nt * nT)
        pair = keys // nT
    else:
        pair_keys, pair_code, _ = _factorize_keys(cx * nt + ct, nx * nt)
        del cx, ct
        keys, inverse, counts = _factorize_keys(pair_code * nT + cT, pair_keys.size * nT)
        pair = pair_keys[keys // nT]

    return Triples(
        x=ux[pair // nt],
        t_x=ut[pair % nt],
        T=uT[keys % nT],
        weight=counts.astype(np.int64),
        inverse=inverse.reshape(-1),
    )


def _factorize_counts(x: FloatArray, n: int) -> tuple[FloatArray, IntArray]:
    """Distinct values and codes of a validated non-negative integer column.

    Purchase counts are small integers, so a bincount replaces the sort np.unique would do.
    """
    top = int(x.max()) if x.size else 0
    if top > 2 * n:
        ux, codes = np.unique(x, return_inverse=True)
        return ux, codes.reshape(-1).astype(np.int64)
    xi = x.astype(np.int64)
    present = np.bincount(xi, minlength=top + 1) > 0
    code_of = np.cumsum(present) - 1
    return np.flatnonzero(present).astype(np.float64), code_of[xi]


def _factorize_floats(v: FloatArray) -> tuple[FloatArray, IntArray]:
    """Distinct values and int64 codes; -0.0 and 0.0 compare equal, so they share a code."""
    uv, codes = np.unique(v, return_inverse=True)
    return uv, codes.reshape(-1).astype(np.int64, copy=False)


def _factorize_keys(keys: IntArray, key_range: int) -> tuple[IntArray, IntArray, IntArray]:
    """(distinct keys, code per row, count per key) for keys in [0, key_range).

    When the range is at most twice the row count a bincount does it in O(n) with memory of
    the same order as the rows; otherwise sort (np.unique).
    """
    if key_range <= 2 * keys.size:
        counts_all = np.bincount(keys, minlength=key_range)
        present = counts_all > 0
        code_of = np.cumsum(present, dtype=np.int64) - 1
        del present
        uk = np.flatnonzero(counts_all)
        return uk, code_of[keys], counts_all[uk]
    uk, inverse, counts = np.unique(keys, return_inverse=True, return_counts=True)
    return uk, inverse.reshape(-1), counts


def from_arrays(x: ArrayLike, t_x: ArrayLike, T: ArrayLike, weight: ArrayLike) -> Triples:
    """Wrap already-aggregated rows (e.g. a published frequency table) without regrouping."""
    xa, ta, Ta = validate_rfm(x, t_x, T)
    wa = np.asarray(weight)
    if wa.shape != xa.shape or (wa != np.round(wa)).any() or (wa < 1).any():
        raise ValueError("weight must hold a positive integer count for every row")
    return Triples(
        x=xa, t_x=ta, T=Ta, weight=wa.astype(np.int64), inverse=np.arange(xa.size, dtype=np.intp)
    )
