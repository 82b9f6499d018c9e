"""Writing thousands of rows on SQLite with one `executemany` of plain tuples, in the caller's
transaction (the session's own connection; nothing is committed here).

A Core INSERT given a list of dicts builds a parameter dict per row and binds every value
through its type one call at a time: for a bulk import that was most of its time, several times
what SQLite took to store the rows (bench/consent_import.py). Here each column is bound as a
list (`pg_bulk.bound`: the few distinct values of a column bound once), the rows zipped into
tuples, and the INSERT sent as text: the database holds what the Core statement would have
stored.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager

from sqlalchemy import Table
from sqlalchemy.orm import Session

from accord.core import read_memo
from accord.core.pg_bulk import Row, bound


def insert(session: Session, table: Table, rows: Sequence[Row], *, ignore: bool = False) -> None:
    """INSERT `rows` (dicts with the same keys) into `table`; `ignore`: ON CONFLICT DO NOTHING
    (a row that conflicts with a stored one is skipped, as in that statement row by row)."""
    if not rows:
        return
    session.flush()  # the rows may refer to the session's pending changes
    read_memo.forget(session)
    connection = session.connection()
    dialect = connection.dialect
    names = list(rows[0])
    # A Core INSERT would fill these in; the text statement does not.
    defaulted = [c.name for c in table.columns if c.default is not None and c.name not in names]
    if defaulted:
        raise ValueError(f"{table.name}: give {', '.join(defaulted)} (no Python defaults here)")
    preparer = dialect.identifier_preparer
    statement = (
        f"INSERT INTO {preparer.format_table(table)} "
        f"({', '.join(preparer.quote(n) for n in names)}) VALUES ({', '.join('?' * len(names))})"
        + (" ON CONFLICT DO NOTHING" if ignore else "")
    )
    # Tuples go to the driver as they are (text statements skip SQLAlchemy's binding).
    values = bound(dialect, table, names, rows)
    connection.exec_driver_sql(statement, list(zip(*values, strict=True)))


@contextmanager
def roomy_cache(session: Session, mebibytes: int = 256) -> Iterator[None]:
    """A page cache of up to `mebibytes` for the session's connection while the block runs
    (SQLite only), then the one it had. A bulk import adds to every index of ten tables in
    turn, keyed by random ids: with SQLite's default 2 MiB most index pages are evicted
    before their next insert, read back and spilled to the WAL again, and at 100,000 rows its
    inserts took a third longer. Memory only: durability is untouched."""
    connection = session.connection()
    if connection.dialect.name != "sqlite":
        yield
        return
    before = connection.exec_driver_sql("PRAGMA cache_size").scalar()
    connection.exec_driver_sql(f"PRAGMA cache_size = {-1024 * mebibytes}")
    try:
        yield
    finally:
        connection.exec_driver_sql(f"PRAGMA cache_size = {int(before or -2000)}")
