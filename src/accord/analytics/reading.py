"""Reading a transaction file once, as rows of strings with their line numbers."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from typing import IO, Any

from accord.core.errors import InvalidInput

CDNOW_COLUMNS = {
    4: ["customer", "time", "quantity", "amount"],
    5: ["customer", "sample_id", "time", "quantity", "amount"],
}


class CountingReader(io.RawIOBase):
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

    def close(self) -> None:
        self.raw.close()
        super().close()


def rows_of(stream: IO[str], fmt: str) -> Iterator[tuple[int, list[str]]]:
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


def header_of(rows: Iterator[tuple[int, list[str]]], fmt: str) -> tuple[list[str], list[Any]]:
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
