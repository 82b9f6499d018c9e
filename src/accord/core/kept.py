"""Values built once a process and kept by key: statements, charts, rosters.

For what is costly to build and the same for every request that asks with the same key (a
statement built for an audience, a stored fit's charts). The caller's key must name everything
the value depends on. The store is bounded: when it holds `most` keys it is emptied and
refilled as requests ask again, since a test run (and a long-lived process) makes keys that
are never asked for again, and a least-recently-used order would cost every hit."""

from __future__ import annotations

from collections.abc import Callable, Hashable
from typing import Generic, TypeVar

V = TypeVar("V")
Key = tuple[Hashable, ...]


class Kept(Generic[V]):
    def __init__(self, most: int) -> None:
        self._most = most
        self._values: dict[Key, V] = {}

    def get(
        self, key: Key, build: Callable[[], V], *, fresh: Callable[[V], bool] | None = None
    ) -> V:
        """The value kept for `key`, built by `build()` when there is none (or when `fresh`
        says the kept one no longer holds)."""
        found = self._values.get(key)
        if found is None or (fresh is not None and not fresh(found)):
            if len(self._values) >= self._most:
                self._values.clear()
            found = self._values[key] = build()
        return found

    def items(self) -> list[tuple[Key, V]]:
        return list(self._values.items())
