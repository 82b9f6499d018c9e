"""CSV import of transactions: streamed in chunks, one set-based write per chunk.

Rows are parsed and checked in Python, a column of a chunk at a time (`columns`), while the
database stores the chunk before (a pipeline); each chunk of valid rows is stored by
`writer.write_records`. Bad rows go to a rejects file with their line number
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
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from itertools import islice
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session

from accord.analytics import validation as v
from accord.analytics.columns import parse_chunk
from accord.analytics.reading import CountingReader, header_of, rows_of
from accord.analytics.rejects import RejectsFile
from accord.analytics.row_parser import RowParser
from accord.analytics.writer import write_records
from accord.core import cycles
from accord.core.errors import InvalidInput
from accord.core.settings import Settings

FORMATS = ("csv", "whitespace", "cdnow")
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
    counting = CountingReader(open(path, "rb"))  # noqa: SIM115 - closed by the wrapper
    stream = io.TextIOWrapper(io.BufferedReader(counting), encoding="utf-8-sig", newline="")
    with stream:
        rows = rows_of(stream, fmt)
        try:
            header, pending = header_of(rows, fmt)
            parser = RowParser(
                header, mapping, default_currency=currency, order_id_auto=order_id_auto
            )
            rejects = RejectsFile(rejects_path, settings, path, header)
            try:
                imported, duplicates, read = _import_rows(
                    session, brand_id, parser, _chain(pending, rows), rejects, chunk,
                    lambda: progress(counting.count, total) if progress else None,
                )  # fmt: skip
            finally:
                rejects.close()
        except UnicodeDecodeError as exc:
            raise InvalidInput(
                f"The file is not UTF-8 text ({exc.reason}).", field="file"
            ) from None
        except csv.Error as exc:
            raise InvalidInput(f"The file is not valid CSV: {exc}.", field="file") from None
    if progress is not None:
        progress(total, total)
    return ImportReport(imported, duplicates, rejects.count, rejects.path, read)


def _import_rows(
    session: Session,
    brand_id: uuid.UUID,
    parser: RowParser,
    rows: Iterator[tuple[int, list[str]]],
    rejects: RejectsFile,
    chunk: int,
    tick: Callable[[], None],
) -> tuple[int, int, int]:
    """(imported, already stored, rows read), one set-based write per chunk of rows.

    A worker thread reads and parses chunk k+1 while this thread stores chunk k: the server
    is another process and the client waits for it with the GIL released, so on two cores
    Python and PostgreSQL work at the same time. At most two chunks are in memory.
    """
    imported = duplicates = read = 0
    customers: dict[str, uuid.UUID] = {}

    def next_chunk() -> _Parsed | None:
        batch = list(islice(rows, chunk))
        return _Parsed(batch, *parse_chunk(parser, batch)) if batch else None

    with (
        cycles.uncollected(),
        ThreadPoolExecutor(max_workers=1, thread_name_prefix="accord-import") as pool,
    ):
        ahead = pool.submit(next_chunk)
        while (parsed := ahead.result()) is not None:
            ahead = pool.submit(next_chunk)
            i, d = _store(session, brand_id, parsed, rejects, customers)
            imported, duplicates, read = imported + i, duplicates + d, read + len(parsed.batch)
            tick()
    return imported, duplicates, read


def _chain(pending: list[Any], rows: Iterator[Any]) -> Iterator[tuple[int, list[str]]]:
    yield from pending
    yield from rows


@dataclass
class _Parsed:
    """One chunk: its raw rows, the valid records and the rows refused with a reason."""

    batch: list[tuple[int, list[str]]]
    records: list[v.Record]
    bad: list[tuple[int, str]]


def _store(
    session: Session,
    brand_id: uuid.UUID,
    parsed: _Parsed,
    rejects: RejectsFile,
    customers: dict[str, uuid.UUID],
) -> tuple[int, int]:
    result = write_records(session, brand_id, parsed.records, customers)
    bad = parsed.bad + result.rejected
    if bad:
        raw = dict(parsed.batch)
        for line, reason in sorted(bad):
            rejects.write(line, reason, raw[line])
    return result.imported, result.duplicates
