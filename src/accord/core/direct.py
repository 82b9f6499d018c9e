"""Statements of a hot path, compiled once per dialect and run on the session's DBAPI cursor.

Through `Session.execute`, even a statement built once costs several times what the database
spends on it (ORM execution state, cache key, execution context, result metadata): about
150 µs of CPU a statement on PostgreSQL, and a preference change ran nine of them. `Direct`
compiles its statement once per dialect and hands the SQL to the DBAPI cursor of the session's
own connection, in the session's transaction, applying the column types' conversions itself
(the same values SQLAlchemy would bind and give back). Unlike `accord.core.prepared` (reads
outside any transaction) it writes too.

As `Session.execute` does, it flushes what the session holds first (autoflush). It still goes
through the Connection's cursor hook (`Connection._cursor_execute`, what
SQLAlchemy itself uses for its one-off statements): the engine's `before_cursor_execute` and
`after_cursor_execute` listeners see every statement (SQLite's write turns,
`accord.core.write_turns`; the tests' statement counts), and a DBAPI error comes back as
SQLAlchemy's own exception, the connection invalidated when it is gone. A write also tells the
session what its ORM execution would have: the request wrote (`core.web.deps`) and the read
memo is stale (`core.read_memo.forget`).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy.engine import Connection, Dialect
from sqlalchemy.orm import Session
from sqlalchemy.sql.expression import ClauseElement

from accord.core.db import transaction_info
from accord.core.prepared import Compiled
from accord.core.read_memo import forget
from accord.core.web.deps import WROTE


class Direct:
    """One statement (or one per dialect: {"postgresql": …, "sqlite": …}) run straight on the
    session's DBAPI cursor. Rows are named tuples of the statement's columns (or RETURNING).
    `keys`: for an INSERT without values, the columns it sets (as `column_keys`)."""

    def __init__(
        self,
        statement: ClauseElement | Mapping[str, ClauseElement],
        *,
        keys: list[str] | None = None,
    ) -> None:
        self.statements = statement if isinstance(statement, Mapping) else None
        self.statement = None if isinstance(statement, Mapping) else statement
        self.keys = keys
        self._by_dialect: dict[str, Compiled] = {}

    def compiled(self, dialect: Dialect) -> Compiled:
        """The statement compiled for `dialect`, once."""
        found = self._by_dialect.get(dialect.name)
        if found is None:
            statement = self.statement
            if statement is None:
                assert self.statements is not None
                statement = self.statements[dialect.name]
            found = self._by_dialect[dialect.name] = Compiled(statement, dialect, self.keys)
        return found

    def _execute(self, session: Session, values: Mapping[str, Any], fetch: bool) -> Any:
        session._autoflush()  # as Session.execute: what the session holds goes first
        conn, cursor = _link(session)
        compiled = self.compiled(conn.dialect)
        conn._cursor_execute(cursor, compiled.sql, compiled.parameters(values))
        if compiled.writes:
            _wrote(session)
        if fetch:
            return [compiled.make_row(raw) for raw in cursor.fetchall()]
        if compiled.results:  # a RETURNING nobody reads: the cursor is left with no rows pending
            cursor.fetchall()
        return int(cursor.rowcount)

    def all(self, session: Session, **values: Any) -> list[Any]:
        """Every row (of a read, or of a write's RETURNING)."""
        rows: list[Any] = self._execute(session, values, fetch=True)
        return rows

    def first(self, session: Session, **values: Any) -> Any:
        """The first row, or None."""
        rows = self._execute(session, values, fetch=True)
        return rows[0] if rows else None

    def run(self, session: Session, **values: Any) -> int:
        """Run a write; how many rows it touched."""
        count: int = self._execute(session, values, fetch=False)
        return count


_LINK = "direct_link"  # transaction_info: the session's Connection and a DBAPI cursor on it


def _link(session: Session) -> tuple[Connection, Any]:
    """The session's connection in its transaction (beginning one, as `Session.execute`
    would) and a DBAPI cursor on it, looked up once per transaction."""
    info = transaction_info(session)
    found: tuple[Connection, Any] | None = info.get(_LINK)
    if found is None or found[0].invalidated or not session.in_transaction():
        conn = session.connection()
        info = transaction_info(session)  # beginning may have started a new one
        found = info[_LINK] = (conn, conn.connection.dbapi_connection.cursor())  # type: ignore[union-attr]
    return found


def _wrote(session: Session) -> None:
    """What the session's ORM execution notes for a write: the request must commit, and reads
    remembered before it are stale."""
    session.info[WROTE] = True
    forget(session)
