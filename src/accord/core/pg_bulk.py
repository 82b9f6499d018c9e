"""Writing thousands of rows on PostgreSQL with one statement per table, in the caller's
transaction (the session's own connection; nothing is committed here).

psycopg's `executemany` sends one INSERT per row: pipelined, but each one still parsed,
planned and executed on its own by the server, which made bulk imports several times slower
than a COPY of the same rows (bench/consent_import.py). Here:

- `copy`: COPY … FROM STDIN, for rows the caller knows are new (a conflict is an error, as it
  is for a plain INSERT);
- `insert_missing`: COPY into a temporary table, then INSERT … SELECT … ON CONFLICT DO NOTHING,
  for rows of which some may exist: the same outcome as that INSERT row by row;
- `update`: UPDATE … FROM unnest(…), each row matched on its key columns;
- `stored`: which of many keys a table holds, by one index probe each.

Values go through each column's SQLAlchemy type first (UTC datetimes, JSON through the
engine's serialiser), so the database holds what a Core statement would have stored.
"""

from __future__ import annotations

import re
import zlib
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from operator import itemgetter
from typing import Any

from sqlalchemy import Table
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import Session

from accord.core import read_memo

Row = dict[str, Any]


def copy(session: Session, table: Table, rows: Sequence[Row]) -> None:
    """COPY `rows` (dicts with the same keys, all new) into `table`."""
    if not rows:
        return
    with _cursor(session) as cursor:
        _copy(session, cursor, _name(session.get_bind().dialect, table), table, rows)


def insert_missing(session: Session, table: Table, rows: Sequence[Row]) -> None:
    """Insert those of `rows` that conflict with no row already stored: COPY into a temporary
    table of the same columns, then one INSERT … SELECT … ON CONFLICT DO NOTHING. (Arrays
    given to unnest cost more: psycopg formats each element in Python.)"""
    if not rows:
        return
    dialect = session.get_bind().dialect
    names = list(rows[0])
    columns = ", ".join(_quote(dialect, n) for n in names)
    # Named for the table and the columns: a temporary table of this connection, dropped at
    # commit or rollback, emptied after each use.
    stage = _quote(dialect, f"pg_bulk_{table.name}_{zlib.crc32(columns.encode()):08x}")
    with _cursor(session) as cursor:
        cursor.execute(
            f"CREATE TEMPORARY TABLE IF NOT EXISTS {stage} ON COMMIT DROP AS "
            f"SELECT {columns} FROM {_name(dialect, table)} WITH NO DATA"
        )
        _copy(session, cursor, stage, table, rows)
        cursor.execute(
            f"INSERT INTO {_name(dialect, table)} ({columns}) SELECT {columns} FROM {stage} "
            "ON CONFLICT DO NOTHING"
        )
        cursor.execute(f"TRUNCATE {stage}")


def update(session: Session, table: Table, keys: Sequence[str], rows: Sequence[Row]) -> None:
    """Set the other columns of `rows` on the stored rows whose `keys` columns match."""
    if not rows:
        return
    dialect = session.get_bind().dialect
    names = list(rows[0])
    given = ", ".join(f"%s::{_type(dialect, table, n)}[]" for n in names)
    alias = ", ".join(_quote(dialect, n) for n in names)
    sets = ", ".join(
        f"{_quote(dialect, n)} = u.{_quote(dialect, n)}" for n in names if n not in keys
    )
    match = " AND ".join(f"t.{_quote(dialect, k)} = u.{_quote(dialect, k)}" for k in keys)
    query = (
        f"UPDATE {_name(dialect, table)} AS t SET {sets} "
        f"FROM unnest({given}) AS u({alias}) WHERE {match}"
    )
    with _cursor(session) as cursor:
        cursor.execute(query, bound(dialect, table, names, rows))


def stored(
    session: Session, table: Table, column: str, values: Sequence[Any], **equal: Any
) -> set[Any]:
    """Those of `values` that `column` of some row of `table` holds, among the rows whose
    columns named in `equal` have those values: one index probe per value, whatever the
    planner thinks of the table's size. Inside a bulk import's transaction the statistics
    describe the table before it, and the plan kept for a prepared `= ANY(…)` turned into a
    scan of the whole table per look-up, which made the import quadratic."""
    if not values:
        return set()
    dialect = session.get_bind().dialect
    probe = " AND ".join(
        [f"x.{_quote(dialect, column)} = i.v"] + [f"x.{_quote(dialect, c)} = %s" for c in equal]
    )
    query = (
        f"SELECT i.v FROM unnest(%s::{_type(dialect, table, column)}[]) AS i(v) "
        f"CROSS JOIN LATERAL (SELECT 1 FROM {_name(dialect, table)} x WHERE {probe} LIMIT 1) x"
    )
    given = [list(values), *equal.values()]
    with _cursor(session) as cursor:
        cursor.execute(query, given)
        return {v for (v,) in cursor.fetchall()}


def _copy(session: Session, cursor: Any, target: str, table: Table, rows: Sequence[Row]) -> None:
    """COPY `rows`, valued as `table`'s columns, into `target` (`table` or a table like it):
    binary, with the columns' types declared, when psycopg knows each type by its name (the
    server parses nothing, the client formats in C); as text otherwise."""
    dialect = session.get_bind().dialect
    names = list(rows[0])
    columns = bound(dialect, table, names, rows)
    types = [re.sub(r"\(.*?\)", "", _type(dialect, table, n)).lower() for n in names]
    binary = all(cursor.adapters.types.get(t) is not None for t in types)
    into = f"{target} ({', '.join(_quote(dialect, n) for n in names)})"
    with cursor.copy(f"COPY {into} FROM STDIN" + (" (FORMAT BINARY)" if binary else "")) as out:
        if binary:
            out.set_types(types)
        write = out.write_row
        for row in zip(*columns, strict=True):
            write(row)


def bound(dialect: Dialect, table: Table, names: list[str], rows: Sequence[Row]) -> list[Any]:
    """One list per column, each value as the column's type binds it."""
    columns = []
    for name in names:
        values = list(map(itemgetter(name), rows))
        process: Callable[[Any], Any] | None = (
            table.c[name].type.dialect_impl(dialect).bind_processor(dialect)
        )
        columns.append(values if process is None else _bind(process, values))
    return columns


def _bind(process: Callable[[Any], Any], values: list[Any]) -> list[Any]:
    """`process` of each value; a column of few distinct values (a chunk's brand, its one
    time, a state, a shared empty JSON object) has each bound once: binding a datetime or
    a JSON document costs microseconds, and bulk rows repeat them. Hashable values are told
    apart by value, of one type only (1 and True are equal and bind differently), the others
    (dicts, lists) by identity; the first values tell whether repeats are worth looking for."""
    sample = values[:32]
    try:
        keys: list[Any] = values
        few = len(sample) >= 8 and len(set(sample)) * 4 <= len(sample)
        if few:
            distinct = dict(zip(values, values, strict=True))
            kinds = {type(v) for v in distinct} - {type(None)}
            few = len(distinct) * 4 <= len(values) and len(kinds) <= 1
    except TypeError:  # unhashable
        keys = list(map(id, values))
        few = len(sample) >= 8 and len(set(keys[:32])) * 4 <= len(sample)
        if few:
            distinct = dict(zip(keys, values, strict=True))
            few = len(distinct) * 4 <= len(values)
    if not few:
        return [process(v) for v in values]
    done = {k: process(v) for k, v in distinct.items()}
    return list(map(done.__getitem__, keys))


def _type(dialect: Dialect, table: Table, name: str) -> str:
    return str(table.c[name].type.compile(dialect=dialect))


def _name(dialect: Dialect, table: Table) -> str:
    return str(dialect.identifier_preparer.format_table(table))


def _quote(dialect: Dialect, name: str) -> str:
    return str(dialect.identifier_preparer.quote(name))


@contextmanager
def _cursor(session: Session) -> Iterator[Any]:
    """A cursor of the session's own connection, hence in its transaction; the session's
    pending changes flushed first (the rows may refer to them)."""
    session.flush()
    read_memo.forget(session)
    raw = session.connection().connection.dbapi_connection
    assert raw is not None
    cursor: Any = raw.cursor()
    with cursor:
        yield cursor
