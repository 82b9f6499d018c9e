"""Parsing a chunk of rows column by column: the import's fast lane.

`RowParser.parse` checks one row at a time and says why a row is bad; that costs a dozen
Python calls per row, about what the database spends storing it. Here each column of a chunk
is checked and converted at once: C-level `map` over a column, one regular expression over a
whole column, and each distinct value of a repetitive column (currency, channel, refund flag)
checked once. The lane accepts only values the row parser accepts unchanged, so a row becomes
the same Record either way; a row with any doubtful value goes to the row parser, which then
keeps it or gives the reason it is rejected.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from contextlib import suppress
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from accord.analytics import validation as v
from accord.analytics.row_parser import RowParser
from accord.core import text

Rows = list[tuple[int, list[str]]]
# Plain unsigned amounts, one per line: validation.decimal's fast case, without a sign.
_AMOUNTS = re.compile(r"(?:\d{1,12}+(?:\.\d{0,2}+)?+\n)*+")


def parse_chunk(parser: RowParser, batch: Rows) -> tuple[list[v.Record], list[tuple[int, str]]]:
    """(records, (line, reason) of the rejected rows) of one chunk, records in file order."""
    whole = [(line, values) for line, values in batch if len(values) == parser.width]
    slow = [(line, values) for line, values in batch if len(values) != parser.width]
    records: list[v.Record] = []
    if whole:
        lines, rows = zip(*whole, strict=True)
        doubtful: set[int] = set()
        fields = _Fields(parser, list(zip(*rows, strict=True)), list(lines), doubtful).all()
        records = list(map(v.Record, *fields))
        if doubtful:
            slow += [whole[i] for i in doubtful]
            records = [r for i, r in enumerate(records) if i not in doubtful]
    rejected: list[tuple[int, str]] = []
    for line, values in slow:
        try:
            records.append(parser.parse(values, line))
        except ValueError as exc:
            rejected.append((line, str(exc)))
    if slow:
        records.sort(key=lambda r: r.line)  # the first row of an order id is the one stored
    return records, rejected


class _Fields:
    """The Record fields of a chunk's full-width rows, one list per field; the index of a
    row the row parser must see goes to `doubtful` (its values here are placeholders)."""

    def __init__(
        self,
        parser: RowParser,
        columns: list[tuple[str, ...]],
        lines: list[int],
        doubtful: set[int],
    ) -> None:
        self.parser, self.columns, self.lines, self.doubtful = parser, columns, lines, doubtful

    def all(self) -> list[list[Any]]:
        p, at = self.parser, self.columns.__getitem__
        customers = self.ids(at(p.customer))
        times = self.times(at(p.at_time))
        refunds = self.optional(p.refund, v.flag, False)
        if p.refund is None:
            amounts = self.amounts(at(p.amount))
        else:
            amounts = self.each(v.amount, at(p.amount), refunds)
        if p.order_id is None:
            order_ids = self.each(v.auto_order_id, customers, times, self.lines)
        else:
            order_ids = self.ids(at(p.order_id))
        return [
            self.lines,
            customers,
            times,
            amounts,
            self.optional(p.currency, v.currency, p.default_currency),
            self.optional(p.channel, v.channel, None),
            order_ids,
            self.optional(p.product, _product, None),
            self.optional(p.cost, v.cost, None),
            refunds,
            self.optional(p.email, v.email, None),
        ]

    def ids(self, col: Sequence[str]) -> list[Any]:
        """Customer or order ids: kept as they are when none needs trimming and all fit."""
        fit = min(map(len, col)) >= 1 and max(map(len, col)) <= v.MAX_ID
        clean = not text.has_problem("".join(col), one_line=True)
        if fit and clean and list(map(str.strip, col)) == list(col):
            return list(col)
        return self.each(lambda x: v.text_id(x, "id") if x == x.strip() else _doubt(), col)

    def times(self, col: Sequence[str]) -> list[Any]:
        """What parse_time reads (it trims first; untrimmed values go to the row parser)."""
        try:
            found: list[Any] = list(map(datetime.fromisoformat, col))
        except ValueError:
            found = self.each(datetime.fromisoformat, col)
        lo, hi = v.EARLIEST_YEAR, v.LATEST_YEAR
        clean = [d is None or (d.tzinfo is UTC and lo <= d.year <= hi) for d in found]
        if all(clean):
            return found
        return self.each(lambda d, ok: d if ok else v.utc(d), found, clean)

    def amounts(self, col: Sequence[str]) -> list[Any]:
        """Amounts of rows without a refund flag; plain ones in one match for the column."""
        joined = "\n".join(col)
        if joined.count("\n") == len(col) - 1 and _AMOUNTS.fullmatch(joined + "\n"):
            return list(map(Decimal, col))
        return self.each(lambda x: v.amount(x, False), col)

    def optional(self, index: int | None, convert: Callable[[str], Any], default: Any) -> Any:
        """A column the file may lack; each distinct value is converted once."""
        if index is None:
            return [default] * len(self.lines)
        col = self.columns[index]
        known: dict[str, Any] = {}
        for x in set(col):
            with suppress(ValueError):
                known[x] = convert(x)
        if len(known) == len(set(col)):
            return list(map(known.__getitem__, col))
        return self.each(lambda x: known[x] if x in known else _doubt(), col)

    def each(self, convert: Callable[..., Any], *cols: Sequence[Any]) -> list[Any]:
        """Value by value, skipping doubtful rows and marking those `convert` refuses."""
        out: list[Any] = []
        doubtful = self.doubtful
        for i, args in enumerate(zip(*cols, strict=True)):
            if i in doubtful:
                out.append(None)
                continue
            try:
                out.append(convert(*args))
            except ValueError:
                doubtful.add(i)
                out.append(None)
        return out


def _product(value: str) -> str | None:
    return v.optional_text(value, "product", v.MAX_PRODUCT)


def _doubt() -> Any:
    raise ValueError("left to the row parser")
