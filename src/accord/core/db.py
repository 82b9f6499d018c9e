"""Engine, sessions, the declarative base and its naming convention."""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    DateTime,
    MetaData,
    String,
    TypeDecorator,
    Uuid,
    any_,
    bindparam,
    create_engine,
    event,
    func,
    select,
)
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.engine import Dialect, Engine
from sqlalchemy.exc import DisconnectionError
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column, sessionmaker
from sqlalchemy.sql.elements import ColumnElement

from accord.core import loop_waits, write_turns
from accord.core.settings import Settings

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def utcnow() -> datetime:
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator[datetime]):
    """Stores UTC, always hands back an aware datetime (SQLite keeps no zone)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map = {datetime: UTCDateTime(), uuid.UUID: Uuid(), str: String()}


# `Table.info` key of tables that hold individual scores or profiles about a person at a brand
# (`person_id` and `brand_id` columns): personal terms that forbid profiling delete their rows
# without knowing the domain that owns them (as erasure finds tables by their person column).
INDIVIDUAL_PROFILE = "individual_profile"


class IdMixin:
    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)


class CreatedMixin:
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def make_engine(url: str, **kwargs: Any) -> Engine:
    """An engine with the settings each backend needs (SQLite: WAL, FKs, busy timeout).

    Taking a connection never waits: past the pool's size it opens one more (closed again when
    given back). A capped pool deadlocks a web process: requests holding connections wait for
    the event loop or a thread, while the loop or every thread waits for a connection. The web
    app bounds its connections by admitting requests instead (`accord.core.web.request_slots`)."""
    if url.startswith("sqlite") and url.split("///", 1)[-1] in ("", ":memory:"):
        # One connection per thread, no pool to size (SQLAlchemy refuses the arguments).
        kwargs.pop("pool_size", None)
        kwargs.pop("max_overflow", None)
    else:
        kwargs.setdefault("max_overflow", -1)
    if url.startswith("sqlite"):
        path = url.split("///", 1)[-1]
        if path and path != ":memory:":
            from pathlib import Path

            Path(path).parent.mkdir(parents=True, exist_ok=True)
        database = path if path and path != ":memory:" else None
        connect_args: dict[str, Any] = {"check_same_thread": False}
        if database:  # writers in this process take turns (accord.core.write_turns)
            connect_args["factory"] = write_turns.TurnConnection
        engine = create_engine(url, connect_args=connect_args, **kwargs)
        event.listen(engine, "connect", _sqlite_pragmas)
        if database and engine.url.database:
            write_turns.install(engine, engine.url.database)
        return engine
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url.removeprefix("postgresql://")
    engine = create_engine(url, **kwargs)
    _ping_when_idle(engine)
    loop_waits.install(engine)
    return engine


# A connection given back to the pool moments ago is alive; one that sat idle may have been
# closed by the server (a restart, an idle timeout) while nobody looked.
PING_AFTER_IDLE_SECONDS = 2.0


def _ping_when_idle(engine: Engine) -> None:
    """Ping a connection on checkout only when it sat idle in the pool for a while.

    SQLAlchemy's `pool_pre_ping` pings at every checkout: one more round trip for every request,
    as many as a simple API read makes in all. A ping that fails discards the connection and the
    pool hands out another (`DisconnectionError`), as pre-ping does."""

    @event.listens_for(engine, "checkin")
    def _idle_from(_dbapi_connection: Any, record: Any) -> None:
        record.info["accord_idle_since"] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def _ping(dbapi_connection: Any, record: Any, _proxy: Any) -> None:
        since = record.info.get("accord_idle_since")
        if since is None or time.monotonic() - since < PING_AFTER_IDLE_SECONDS:
            return
        try:
            engine.dialect.do_ping(dbapi_connection)
        except engine.dialect.loaded_dbapi.Error as exc:
            raise DisconnectionError("the pooled connection is gone") from exc


class Database:
    """The engine and session factory of one running Accord (app, CLI command or worker)."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.sessionmaker = sessionmaker(bind=engine, expire_on_commit=False)

    @classmethod
    def from_settings(cls, settings: Settings) -> Database:
        # The requests admitted at once, plus the embedded worker's and digests' connections.
        pool_size = settings.db_connections + 2
        return cls(make_engine(settings.resolved_database_url(), pool_size=pool_size))

    def session(self) -> Session:
        return self.sessionmaker()

    @contextmanager
    def transaction(self) -> Iterator[Session]:
        """A unit of work for the CLI and workers: commit on success, roll back on error."""
        session = self.session()
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise
        finally:
            session.close()


def after_commit(session: Session, callback: Any) -> None:
    """Run `callback()` once this session's transaction commits (never if it rolls back).

    Used for side effects outside the database (SMTP, jobs) so that nothing leaves Accord
    for a change that did not land.
    """
    session.connection()  # begin now, so that a rollback before any SQL still discards it
    session.info.setdefault("after_commit", []).append(callback)


@event.listens_for(Session, "after_commit")
def _run_after_commit(session: Session) -> None:
    callbacks = session.info.pop("after_commit", [])
    for callback in callbacks:
        callback()


@event.listens_for(Session, "after_soft_rollback")
def _drop_after_commit(session: Session, previous_transaction: Any) -> None:
    # Only the outermost rollback discards the side effects; a savepoint's does not.
    if previous_transaction.parent is None:
        session.info.pop("after_commit", None)


_TRANSACTION = "accord_transaction"


def transaction_info(session: Session) -> dict[str, Any]:
    """Scratch space that lives as long as the session's transaction as it stands: emptied when
    the transaction ends (commit, rollback, close) and on any rollback, a savepoint's too. For
    what holds only inside it: a lock taken, a row read under that lock."""
    info: dict[str, Any] = session.info.setdefault(_TRANSACTION, {})
    return info


_WRITE_LOCKED = "accord_write_locked"


def note_write_locked(session: Session) -> None:
    """SQLite: the session's transaction began holding the database's write lock (BEGIN
    IMMEDIATE: `write_turns.begin_now`), so nobody else writes until it ends."""
    transaction_info(session)[_WRITE_LOCKED] = True


def write_locked(session: Session) -> bool:
    """Did the session's transaction begin holding SQLite's write lock (`note_write_locked`)?"""
    return bool(transaction_info(session).get(_WRITE_LOCKED))


@event.listens_for(Session, "after_transaction_end")
def _transaction_ended(session: Session, transaction: Any) -> None:
    if transaction.parent is None:
        session.info.pop(_TRANSACTION, None)


@event.listens_for(Session, "after_soft_rollback")
def _rolled_back(session: Session, _previous_transaction: Any) -> None:
    session.info.pop(_TRANSACTION, None)


def insert_or_ignore(session: Session, model: type[Base], values: dict[str, Any]) -> None:
    """INSERT … ON CONFLICT DO NOTHING on either backend: safe when two writers race."""
    from sqlalchemy.dialects.postgresql import insert as pg_insert
    from sqlalchemy.dialects.sqlite import insert as sqlite_insert

    dialect = session.get_bind().dialect.name
    insert = pg_insert if dialect == "postgresql" else sqlite_insert
    session.execute(insert(model).values(values).on_conflict_do_nothing())


def among(
    session: Session | str,
    column: Any,
    name: str,
    values: Sequence[Any] | None = None,
) -> ColumnElement[bool]:
    """`column IN :name`, the list bound once (reuse the name to repeat the test in one
    statement); given here, or at execution when the statement is built once and kept. On
    PostgreSQL it is `= ANY(:array)`: one parameter whatever the count, so the statement's text
    never changes and psycopg and the server prepare it once, where an IN list of a hundred
    parameters is parsed again on every execution. `session` may be the dialect's name."""
    dialect = session if isinstance(session, str) else session.get_bind().dialect.name
    value = list(values) if values is not None else None
    test: ColumnElement[bool]
    if dialect == "postgresql":
        test = column == any_(bindparam(name, value, type_=ARRAY(column.type)))
    else:
        test = column.in_(bindparam(name, value, expanding=True))
    return test


def among_many(session: Session, column: Any, name: str, values: Sequence[Any]) -> Any:
    """`among` for long lists (thousands of values, in bulk paths). On SQLite the list goes as
    one JSON parameter read by `json_each`, where an expanding IN costs a named parameter per
    value to compile; UUIDs as SQLite stores them (32 hex digits)."""
    if session.get_bind().dialect.name == "postgresql":
        return among(session, column, name, values)
    stored = [v.hex if isinstance(v, uuid.UUID) else v for v in values]
    each = func.json_each(bindparam(name, json.dumps(stored))).table_valued("value")
    return column.in_(select(each.c.value))


def unindexed(column: Any) -> Any:
    """The column as an expression (`column || ''`), which no index serves. SQLite keeps no
    statistics, so for `person IN (a hundred) AND channel = 'email'` it walks every e-mail
    contact point through the (channel, address) index, and for `state = 'sent'` every sent
    message through (state, not_before), rather than each person's few rows through the
    person index: with 20,000 people, 40 ms instead of a fraction of one."""
    return column.concat("")


def rowcount(result: Any) -> int:
    """Rows an UPDATE or DELETE touched (typed: Session.execute returns a plain Result)."""
    return int(getattr(result, "rowcount", 0) or 0)
