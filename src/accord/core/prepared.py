"""Reads that every request makes, compiled once and run straight on the DBAPI cursor.

An API request authenticates its key with one indexed SELECT. Through SQLAlchemy, even a
statement built once costs several times what the database spends on it (cache key, execution
context, result metadata; the ORM's `Session.get` ten times more), so a request's fixed cost
was mostly that. `Prepared` compiles its statement once per dialect and runs it on a DBAPI
connection (the session's, or straight from the pool when the session has not begun),
applying the column types' conversions itself (the same values SQLAlchemy would give back).
On PostgreSQL, psycopg prepares it on the server after a few runs.

When the connection has no transaction open, the statement runs outside one (PostgreSQL:
autocommit for that one statement): a single SELECT needs no BEGIN, and a request that only
made such reads leaves nothing to end on the server (`server_idle`), so finishing it costs no
round trip. Inside a transaction (a request that already wrote, or the tests' outer one) it
reads in that transaction, seeing its writes.
"""

from __future__ import annotations

from collections import namedtuple
from collections.abc import Callable, Mapping
from typing import Any

from sqlalchemy import Float, Numeric, Select
from sqlalchemy.engine import Dialect, Engine
from sqlalchemy.orm import Session
from sqlalchemy.sql.expression import ClauseElement, CompoundSelect, UpdateBase

_Processor = Callable[[Any], Any] | None


def _columns(statement: ClauseElement) -> list[Any]:
    """The columns a statement gives back (its SELECT list or RETURNING), in order."""
    if isinstance(statement, Select | CompoundSelect):
        return list(statement.selected_columns)
    if isinstance(statement, UpdateBase):
        return list(statement.exported_columns)
    return []


def _result_processor(type_: Any, dialect: Dialect) -> _Processor:
    """How SQLAlchemy would convert a column's values as read. PostgreSQL's numeric types pick
    theirs by the type the server reports (not known before a row is read), converting only
    between float and Decimal where the column's declared type differs from the server's: a
    float column declared a Float (or a numeric one a Numeric) reads as psycopg gives it."""
    impl = type_.dialect_impl(dialect)
    if dialect.name == "postgresql" and isinstance(impl, Float | Numeric):
        return None
    processor: _Processor = impl.result_processor(dialect, None)
    return processor


class Compiled:
    """A statement as one dialect runs it: its SQL, how to bind its parameters (the column
    types' conversions, as SQLAlchemy would bind them), how to read a row (as SQLAlchemy would
    give it back). `Prepared`, `accord.core.direct` and `accord.core.loop_reads` run it.
    `keys`: for an INSERT without values, the columns it sets (as `column_keys`)."""

    def __init__(self, statement: ClauseElement, dialect: Dialect, keys: list[str] | None = None):
        compiled: Any = statement.compile(dialect=dialect, column_keys=keys)
        self.sql = compiled.string
        self.postgres = dialect.name == "postgresql"
        self.positions = list(compiled.positiontup or [])
        names: dict[Any, str] = compiled.bind_names  # each bound parameter: its name in the SQL
        self.binds: dict[str, _Processor] = {
            names[bind]: bind.type.dialect_impl(dialect).bind_processor(dialect)
            for bind in compiled.binds.values()
        }
        # An IN over a list is expanded by SQLAlchemy at each run, which this does not do: a
        # statement with one must run through SQLAlchemy.
        self.expanding = any(bind.expanding for bind in compiled.binds.values())
        # Values the statement carries itself (a `literal`, a bound constant), as compiled.
        self.constants = {
            names[bind]: bind.value
            for bind in compiled.binds.values()
            if not bind.required and bind.callable is None
        }
        columns = _columns(statement)
        self.writes = not isinstance(statement, Select | CompoundSelect)
        self.results: list[_Processor] = [_result_processor(c.type, dialect) for c in columns]
        self.convert = any(p is not None for p in self.results)
        self.row: Any = namedtuple("Row", [c.key for c in columns], rename=True)  # type: ignore[misc]

    def parameters(self, values: Mapping[str, Any]) -> Any:
        bound = {}
        for name, value in (values if not self.constants else {**self.constants, **values}).items():
            process = self.binds[name]
            bound[name] = value if process is None or value is None else process(value)
        if self.positions:
            return tuple(bound[name] for name in self.positions)
        return bound

    def make_row(self, raw: Any) -> Any:
        if not self.convert:
            return self.row._make(raw)
        return self.row._make(
            value if process is None or value is None else process(value)
            for process, value in zip(self.results, raw, strict=True)
        )


class Prepared:
    """A SELECT run many times with different parameters; rows are named tuples whose fields
    are the selected columns' keys."""

    def __init__(self, statement: Select[Any]) -> None:
        self.statement = statement
        self._by_dialect: dict[str, Compiled] = {}

    def compiled(self, dialect: Dialect) -> Compiled:
        """The statement compiled for `dialect`, once."""
        found = self._by_dialect.get(dialect.name)
        if found is None:
            found = self._by_dialect[dialect.name] = Compiled(self.statement, dialect)
        return found

    def first(self, session: Session, **values: Any) -> Any:
        """The first row for these parameters, or None."""
        bind = session.get_bind()
        if isinstance(bind, Engine) and not session.in_transaction():
            # Nothing of the session's to see: a connection straight from the pool, given back
            # at once, spares the session a transaction to begin and end.
            pooled = bind.raw_connection()
            try:
                return self._run(bind.dialect, pooled.dbapi_connection, values)
            finally:
                pooled.close()
        connection = session.connection()
        return self._run(connection.dialect, connection.connection.dbapi_connection, values)

    def _run(self, dialect: Dialect, dbapi: Any, values: dict[str, Any]) -> Any:
        compiled = self.compiled(dialect)
        outside = compiled.postgres and _pg_idle(dbapi)
        if outside:
            dbapi.autocommit = True
        try:
            cursor = dbapi.cursor()
            try:
                cursor.execute(compiled.sql, compiled.parameters(values))
                raw = cursor.fetchone()
            finally:
                cursor.close()
        finally:
            if outside:
                dbapi.autocommit = False
        return None if raw is None else compiled.make_row(raw)


_PG_IDLE = 0  # psycopg.pq.TransactionStatus.IDLE: connected, no transaction open


def _pg_idle(dbapi: Any) -> bool:
    return bool(dbapi.info.transaction_status == _PG_IDLE)


def server_idle(session: Session) -> bool:
    """True when the session's connection (if any) has no transaction open in the database:
    ending the session then sends nothing to the server."""
    if not session.in_transaction():
        return True
    dbapi = session.connection().connection.dbapi_connection
    if dbapi is None:
        return True
    if session.get_bind().dialect.name == "postgresql":
        return _pg_idle(dbapi)
    return not getattr(dbapi, "in_transaction", True)
