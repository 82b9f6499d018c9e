"""CSV import of transactions: streamed in chunks, one set-based write per chunk.

Rows are parsed and checked in Python (parsing, not per-row SQL); each chunk of valid rows is
then stored by `writer.write_records`. Bad rows go to a rejects file with their line number
and the reason, while the good rows land. Importing the same file again changes nothing: rows
are identified by (brand, order id).

Formats:
- ``csv``: comma-separated with a header line; columns named like the fields map themselves,
  others by ``mapping`` (column -> field).
- ``whitespace``: the same with whitespace-separated columns (the raw CDNOW master log).
- ``cdnow``: the CDNOW logs as shipped: ``customer_id date cds value`` (the master log, with a
  header) or ``master_id sample_id date cds value`` (the 1/10 sample, without); the customer
  is the master id, order ids are automatic and the currency is USD.
"""

from __future__ import annotations

import csv
import io
import os
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from sqlalchemy.orm import Session

from accord.analytics import validation as v
from accord.analytics.writer import write_records
from accord.core.db import utcnow
from accord.core.errors import InvalidInput
from accord.core.settings import Settings

FORMATS = ("csv", "whitespace", "cdnow")
CDNOW_COLUMNS = {
    4: ["customer", "time", "quantity", "amount"],
    5: ["customer", "sample_id", "time", "quantity", "amount"],
}
Progress = Callable[[int, int], None]


@dataclass(frozen=True)
class ImportReport:
    """What an import did. ``rejects_path`` is None when no row was rejected and no path was
    asked for; ``rows`` counts the data rows read."""

    imported: int
    duplicates_skipped: int
    rejected: int
    rejects_path: Path | None
    rows: int = 0


class RowParser:
    """Turns one row of a file into a Record, or raises ValueError with the reason."""

    def __init__(
        self,
        header: list[str],
        mapping: dict[str, str] | None = None,
        *,
        default_currency: str = "USD",
        order_id_auto: bool = False,
    ) -> None:
        self.width = len(header)
        self.auto = order_id_auto
        self.time = v.TimeParser()
        self.default_currency = _checked_currency(default_currency)
        self.index = _resolve(header, mapping or {}, order_id_auto)

    def parse(self, values: list[str], line: int) -> v.Record:
        if len(values) != self.width:
            what = "missing columns" if len(values) < self.width else "too many columns"
            raise ValueError(f"{what}: expected {self.width} values, found {len(values)}")
        at = self.index.get

        def get(name: str) -> str | None:
            i = at(name)
            return None if i is None else values[i]

        customer = v.text_id(values[self.index["customer"]], "customer")
        occurred_at = self.time(values[self.index["time"]])
        refund = v.flag(get("refund"))
        amount = v.amount(values[self.index["amount"]], refund)
        code = get("currency")
        order = (
            v.auto_order_id(customer, occurred_at, line)
            if self.auto
            else v.text_id(values[self.index["order_id"]], "order_id")
        )
        return v.Record(
            line,
            customer,
            occurred_at,
            amount,
            self.default_currency if code is None else v.currency(code),
            v.channel(get("channel")),
            order,
            v.optional_text(get("product"), "product", v.MAX_PRODUCT),
            v.cost(get("cost")),
            refund,
            v.email(get("email")),
        )


def _checked_currency(code: str) -> str:
    try:
        return v.currency(code)
    except ValueError as exc:
        raise InvalidInput(str(exc), field="currency") from None


def _resolve(header: list[str], mapping: dict[str, str], auto: bool) -> dict[str, int]:
    """Field -> column index: explicit mapping first, then columns named like a field."""
    names = [h.strip() for h in header]
    index: dict[str, int] = {}
    for column, field in mapping.items():
        if field not in v.FIELDS:
            raise InvalidInput(
                f"unknown field {field!r}; fields are {', '.join(v.FIELDS)}", field="map"
            )
        if column not in names:
            raise InvalidInput(f"column {column!r} is not in the file's header", field="map")
        index[field] = names.index(column)
    for i, name in enumerate(names):
        key = name.lower()
        if key in v.FIELDS and key not in index and i not in index.values():
            index[key] = i
    if auto and "order_id" in index:
        raise InvalidInput("order ids are automatic: map no column to order_id", field="map")
    required = [f for f in v.REQUIRED if not (auto and f == "order_id")]
    for field in required:
        if field not in index:
            raise InvalidInput(
                f"no column maps to {field!r}; name one with --map COLUMN={field}", field="map"
            )
    return index


class _CountingReader(io.RawIOBase):
    """Counts the bytes read, for a progress bar over a file we only stream once."""

    def __init__(self, raw: IO[bytes]) -> None:
        self.raw = raw
        self.count = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        n = self.raw.readinto(buffer)  # type: ignore[attr-defined]
        self.count += n or 0
        return int(n or 0)


def _rows(stream: IO[str], fmt: str) -> Iterator[tuple[int, list[str]]]:
    """(line number, values) of every non-blank row, header included."""
    if fmt == "csv":
        reader = csv.reader(stream)
        for values in reader:
            if values:
                yield reader.line_num, values
    else:
        for number, line in enumerate(stream, 1):
            values = line.split()
            if values:
                yield number, values


def _header(rows: Iterator[tuple[int, list[str]]], fmt: str) -> tuple[list[str], list[Any]]:
    """The header and any data row read ahead to find it (the CDNOW sample has no header)."""
    first = next(rows, None)
    if first is None:
        raise InvalidInput("The file has no rows.", field="file")
    if fmt != "cdnow":
        return first[1], []
    pending = [first] if first[1][0].isdigit() else []
    if not pending:
        nxt = next(rows, None)
        if nxt is None:
            raise InvalidInput("The file has no data rows.", field="file")
        pending = [nxt]
    header = CDNOW_COLUMNS.get(len(pending[0][1]))
    if header is None:
        raise InvalidInput(
            "Not a CDNOW log: expected 4 or 5 whitespace-separated columns.", field="file"
        )
    return header, pending


def import_csv(
    session: Session,
    settings: Settings,
    brand_id: uuid.UUID,
    path: Path,
    mapping: dict[str, str] | None,
    rejects_path: Path | None,
    chunk: int = 50_000,
    progress: Progress | None = None,
    *,
    fmt: str = "csv",
    order_id_auto: bool = False,
    currency: str = "USD",
) -> ImportReport:
    """Import a transaction file into ``brand_id`` within the caller's transaction.

    ``mapping`` maps file columns to fields (customer, time, amount, currency, channel,
    order_id, product, cost, quantity (ignored), refund, email). ``rejects_path`` None writes
    rejects, if any, under ``var/rejects/``. ``progress(bytes_read, bytes_total)`` is called
    after each chunk. ``fmt`` is csv, whitespace or cdnow (see the module docstring);
    ``order_id_auto`` builds order ids from customer, date and line number; ``currency`` is
    the currency of rows without a currency column. Raises InvalidInput for a file that
    cannot be read at all (no header, required field not mapped).
    """
    if fmt not in FORMATS:
        raise InvalidInput(f"format must be one of {', '.join(FORMATS)}", field="format")
    if chunk < 1:
        raise InvalidInput("chunk must be positive", field="chunk")
    if fmt == "cdnow":
        order_id_auto, currency = True, "USD"
    total = os.path.getsize(path)
    counting = _CountingReader(open(path, "rb"))  # noqa: SIM115 - closed by the wrapper
    stream = io.TextIOWrapper(io.BufferedReader(counting), encoding="utf-8-sig", newline="")
    with stream:
        rows = _rows(stream, fmt)
        header, pending = _header(rows, fmt)
        parser = RowParser(header, mapping, default_currency=currency, order_id_auto=order_id_auto)
        rejects = _Rejects(rejects_path, settings, path, header)
        imported = duplicates = read = 0
        batch: list[tuple[int, list[str]]] = []
        for item in _chain(pending, rows):
            batch.append(item)
            if len(batch) >= chunk:
                i, d = _store(session, brand_id, parser, batch, rejects)
                imported, duplicates, read = imported + i, duplicates + d, read + len(batch)
                batch = []
                if progress is not None:
                    progress(counting.count, total)
        if batch:
            i, d = _store(session, brand_id, parser, batch, rejects)
            imported, duplicates, read = imported + i, duplicates + d, read + len(batch)
        rejects.close()
    if progress is not None:
        progress(total, total)
    return ImportReport(imported, duplicates, rejects.count, rejects.path, read)


def _chain(pending: list[Any], rows: Iterator[Any]) -> Iterator[tuple[int, list[str]]]:
    yield from pending
    yield from rows


def _store(
    session: Session,
    brand_id: uuid.UUID,
    parser: RowParser,
    batch: list[tuple[int, list[str]]],
    rejects: _Rejects,
) -> tuple[int, int]:
    records: list[v.Record] = []
    bad: list[tuple[int, str]] = []
    parse = parser.parse
    for line, values in batch:
        try:
            records.append(parse(values, line))
        except ValueError as exc:
            bad.append((line, str(exc)))
    result = write_records(session, brand_id, records)
    bad += result.rejected
    if bad:
        raw = dict(batch)
        for line, reason in sorted(bad):
            rejects.write(line, reason, raw[line])
    return result.imported, result.duplicates


class _Rejects:
    """The rejects file: ``line,reason`` then the row's own columns; opened on first use."""

    def __init__(self, path: Path | None, settings: Settings, source: Path, header: list[str]):
        self.header = header
        self.count = 0
        self.file: IO[str] | None = None
        self.writer: Any = None
        if path is None:
            stamp = utcnow().strftime("%Y%m%dT%H%M%SZ")
            self.path: Path | None = None
            self.default = Path(settings.var_dir) / "rejects" / f"{source.stem}-{stamp}.csv"
        else:
            # An explicit path is always written, so that no stale rejects file survives.
            self.path = self.default = path
            self._open()

    def _open(self) -> None:
        self.default.parent.mkdir(parents=True, exist_ok=True)
        self.file = open(self.default, "w", newline="", encoding="utf-8")  # noqa: SIM115
        self.writer = csv.writer(self.file)
        self.writer.writerow(["line", "reason", *self.header])
        self.path = self.default

    def write(self, line: int, reason: str, values: list[str]) -> None:
        if self.file is None:
            self._open()
        self.writer.writerow([line, reason, *values])
        self.count += 1

    def close(self) -> None:
        if self.file is not None:
            self.file.close()
