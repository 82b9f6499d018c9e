"""A request's credential read on PostgreSQL, made on the event loop (psycopg's async connection).

Every API request reads its key, and every signed-in request its session, before anything
else: one indexed SELECT (`accord.core.prepared`). Handing it to a thread and back costs the
event loop more than the read itself (bench/api_overhead.py: a third of a request's CPU time).
Here it goes out on one of a few async connections of the running event loop, in autocommit
(a lone SELECT needs no transaction), prepared on the server and run through libpq itself, and
the loop serves other requests while the server answers. It is still read on every request:
a revoked key or an ended session stops at once.

Connections belong to the loop they were opened on (a test client runs a loop of its own):
each loop has its own few, those of a loop that has closed are closed when a new loop first
reads, and `close` (the app's shutdown) closes them all. A connection the server dropped (a
restart, `pg_terminate_backend`) is found out by the read that uses it, which then runs once
more on a new connection; the loop's other idle connections go too (they most likely went
the same way)."""

from __future__ import annotations

import asyncio
import re
from typing import Any

import psycopg
from psycopg import pq
from psycopg.adapt import PyFormat, Transformer
from psycopg.errors import error_from_result
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from accord.core.prepared import Compiled, Prepared

# Enough for the few reads in flight at once (each is one round trip), far fewer than the
# requests admitted at once: each costs a server process.
MOST_PER_LOOP = 4
APPLICATION_NAME = "accord loop reads"
_DONE = (pq.ExecStatus.TUPLES_OK, pq.ExecStatus.COMMAND_OK)


class _Connection:
    """One async connection, its statement prepared once and run through libpq itself: psycopg's
    async cursor (its lock, generators and timers around each wait) cost the loop about twice
    what the read does."""

    __slots__ = ("connection", "fileno", "pgconn", "prepared", "transformer")

    def __init__(self, connection: psycopg.AsyncConnection[Any]) -> None:
        self.connection = connection  # its adapters (SQLAlchemy's) load the values
        self.pgconn = connection.pgconn
        self.fileno = self.pgconn.socket
        self.transformer = Transformer(connection)
        self.prepared: dict[bytes, bytes] = {}  # SQL -> its prepared statement's name

    async def first_row(self, sql: bytes, parameters: list[Any]) -> tuple[Any, ...] | None:
        name = self.prepared.get(sql)
        if name is None:
            name = f"accord_read_{len(self.prepared)}".encode()
            # No parameter types: the server infers them, and the values go as text.
            self.pgconn.send_prepare(name, sql)
            self._check(await self._result())
            self.prepared[sql] = name
        values = self.transformer.dump_sequence(parameters, [PyFormat.TEXT] * len(parameters))
        self.pgconn.send_query_prepared(name, values)
        result = self._check(await self._result())
        if not result.ntuples:
            return None
        self.transformer.set_pgresult(result)
        row: tuple[Any, ...] = self.transformer.load_row(0, tuple)
        return row

    async def _result(self) -> pq.abc.PGresult | None:
        pgconn = self.pgconn
        while pgconn.flush():
            await self._ready(writing=True)
        first = None
        while True:
            while pgconn.is_busy():
                await self._ready()
                pgconn.consume_input()  # a connection the server closed raises here
            result = pgconn.get_result()
            if result is None:
                return first
            if first is None:
                first = result

    def _check(self, result: pq.abc.PGresult | None) -> pq.abc.PGresult:
        if result is None:
            raise psycopg.OperationalError("no answer from the server")
        if result.status not in _DONE:
            raise error_from_result(result, encoding=self.connection.info.encoding)
        return result

    async def _ready(self, *, writing: bool = False) -> None:
        loop = asyncio.get_running_loop()
        ready = loop.create_future()
        if writing:
            loop.add_writer(self.fileno, _wake, ready)
        else:
            loop.add_reader(self.fileno, _wake, ready)
        try:
            await ready
        finally:
            if writing:
                loop.remove_writer(self.fileno)
            else:
                loop.remove_reader(self.fileno)

    def close(self) -> None:
        # Closing needs no round trip, so no loop: this works from any thread, for a closed
        # loop's connections too.
        self.pgconn.finish()


def _wake(ready: asyncio.Future[None]) -> None:
    if not ready.done():  # the socket may signal again before the reader is removed
        ready.set_result(None)


class _LoopConnections:
    __slots__ = ("idle", "room")

    def __init__(self, size: int) -> None:
        self.idle: list[_Connection] = []
        self.room = asyncio.Semaphore(size)

    def close(self) -> None:
        while self.idle:
            self.idle.pop().close()


_PLACEHOLDER = re.compile(r"%\((\w+)\)s|%%")


def _numbered(sql: str) -> tuple[bytes, tuple[str, ...]]:
    """psycopg's `%(name)s` placeholders as the server's `$1`, and the names in their order."""
    names: list[str] = []

    def number(match: re.Match[str]) -> str:
        name = match.group(1)
        if name is None:
            return "%"
        if name not in names:
            names.append(name)
        return f"${names.index(name) + 1}"

    return _PLACEHOLDER.sub(number, sql).encode(), tuple(names)


class LoopReads:
    """Prepared reads run on the running event loop, for a PostgreSQL engine."""

    def __init__(self, engine: Engine, size: int = MOST_PER_LOOP) -> None:
        self.dialect = engine.dialect
        self.enabled = engine.dialect.name == "postgresql"
        self.size = max(1, min(size, MOST_PER_LOOP))
        self._connect_args: dict[str, Any] = {}
        if self.enabled:
            # What the engine's own connections get (the same type adapters, so the same values).
            _, arguments = engine.dialect.create_connect_args(engine.url)
            self._connect_args = dict(arguments)
            # Told apart from the engine's own in pg_stat_activity.
            self._connect_args.setdefault("application_name", APPLICATION_NAME)
        self._by_loop: dict[asyncio.AbstractEventLoop, _LoopConnections] = {}
        self._statements: dict[str, tuple[bytes, tuple[str, ...]]] = {}

    def serves(self, session: Session) -> bool:
        """True when `session` would read on a pooled connection outside any transaction, as a
        read here does: no transaction of its own to see, no writes it must see."""
        return (
            self.enabled and isinstance(session.get_bind(), Engine) and not session.in_transaction()
        )

    async def first(self, prepared: Prepared, **values: Any) -> Any:
        """`prepared.first(...)`, on the loop: the first row for these parameters, or None."""
        compiled = prepared.compiled(self.dialect)
        sql, names = self._numbered(compiled)
        bound = compiled.parameters(values)
        parameters = [bound[name] for name in names]
        pool = self._connections()
        async with pool.room:
            for attempt in (1, 2):
                connection = pool.idle.pop() if pool.idle else await self._connect()
                try:
                    raw = await connection.first_row(sql, parameters)
                except psycopg.OperationalError:
                    connection.close()
                    pool.close()
                    if attempt == 2:
                        raise
                    continue
                except BaseException:
                    # Cancelled or failed half way: nobody knows what the connection holds.
                    connection.close()
                    raise
                pool.idle.append(connection)
                return None if raw is None else compiled.make_row(raw)
        raise AssertionError("unreachable")  # pragma: no cover

    def _numbered(self, compiled: Compiled) -> tuple[bytes, tuple[str, ...]]:
        found = self._statements.get(compiled.sql)
        if found is None:
            found = self._statements[compiled.sql] = _numbered(compiled.sql)
        return found

    async def _connect(self) -> _Connection:
        connection = await psycopg.AsyncConnection.connect(autocommit=True, **self._connect_args)
        return _Connection(connection)

    def _connections(self) -> _LoopConnections:
        loop = asyncio.get_running_loop()
        found = self._by_loop.get(loop)
        if found is None:
            for stale in [other for other in self._by_loop if other.is_closed()]:
                self._by_loop.pop(stale).close()
            found = self._by_loop[loop] = _LoopConnections(self.size)
        return found

    def open_connections(self) -> int:
        """Idle connections held, over all loops (in use ones are not counted)."""
        return sum(len(pool.idle) for pool in self._by_loop.values())

    def close(self) -> None:
        """Close every loop's idle connections (the app shuts down)."""
        for pool in self._by_loop.values():
            pool.close()
        self._by_loop.clear()
