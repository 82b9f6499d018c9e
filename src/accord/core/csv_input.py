"""Reading an uploaded CSV file: every way it can be broken is a clear 422, never a 500.

`csv` raises `csv.Error` for a value over its field limit, a line break outside quotes, a
quote never closed; bytes that are not UTF-8 raise `UnicodeDecodeError`. Each becomes an
`InvalidInput` on the upload's field that says which line and what to fix.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator

from accord.core.errors import InvalidInput

# csv's own default (128 KiB), stated: a value longer than this is refused.
MAX_FIELD = 131_072

_REASONS = (
    ("field larger than field limit", f"a value is longer than {MAX_FIELD:,} characters"),
    ("new-line character seen in unquoted field", "a line break inside a value must be quoted"),
    ("unexpected end of data", "a quoted value is never closed"),
    ("eof inside string", "a quoted value is never closed"),
    ("line contains nul", "the file contains a NUL byte"),
)


def _reason(error: csv.Error) -> str:
    message = str(error).lower()
    for needle, reason in _REASONS:
        if needle in message:
            return reason
    return "it is not valid CSV"


def decode(data: bytes, *, field: str = "file") -> str:
    """The file's text (UTF-8, with or without a byte order mark)."""
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise InvalidInput(
            f"Line {line}: the file is not UTF-8 text. Save it as CSV UTF-8 and try again.",
            field=field,
        ) from None


def dict_rows(data: bytes, *, field: str = "file") -> tuple[list[str], Iterator[dict[str, str]]]:
    """(header, rows as dicts) of a CSV file; reading a broken line raises InvalidInput."""
    text = decode(data, field=field)
    # newline="" as the csv module asks: line breaks inside quotes stay in the value, and a
    # lone CR is a line end, as spreadsheet programs write it on old Macs.
    reader = csv.DictReader(io.StringIO(text, newline=""), strict=True)
    try:
        header = list(reader.fieldnames or [])
    except csv.Error as exc:
        raise InvalidInput(f"Line 1: {_reason(exc)}.", field=field) from None
    return header, _rows(reader, field)


def _rows(reader: csv.DictReader[str], field: str) -> Iterator[dict[str, str]]:
    while True:
        try:
            row = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            # line_num counts the lines read before the broken one.
            line = reader.line_num + 1
            raise InvalidInput(f"Line {line}: {_reason(exc)}.", field=field) from None
        yield {key: value or "" for key, value in row.items() if isinstance(key, str)}
