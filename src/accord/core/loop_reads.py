"""A request's credential read on PostgreSQL, made on the event loop (psycopg's async driver).

Every API request reads its key, and every signed-in request its session, before anything
else: one indexed SELECT (`accord.core.prepared`). Handing it to a thread and back costs the
event loop more than the read itself (bench/api_overhead.py: a third of a request's CPU time).
Here it goes out on one of a few async connections of the running event loop, in autocommit
(a lone SELECT needs no transaction) and prepared on the server, and the loop serves other
requests while the server answers. It is still read on every request: a revoked key or an
ended session stops at once.

Connections belong to the loop they were opened on (a test client runs a loop of its own):
each loop has its own few, those of a loop that has closed are closed when a new loop first
reads, and `close` (the app's shutdown) closes them all. A connection the server dropped (a
restart, `pg_terminate_backend`) is found out by the read that uses it, which then runs once
more on a new connection; the loop's other idle connections go too (they most likely went
the same way)."""

from __future__ import annotations

import asyncio
from typing import Any

import psycopg
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from accord.core.prepared import Prepared

# Enough for the few reads in flight at once (each is one round trip), far fewer than the
# requests admitted at once: each costs a server process.
MOST_PER_LOOP = 4
APPLICATION_NAME = "accord loop reads"


class _LoopConnections:
    __slots__ = ("idle", "room")

    def __init__(self, size: int) -> None:
        self.idle: list[tuple[psycopg.AsyncConnection[Any], psycopg.AsyncCursor[Any]]] = []
        self.room = asyncio.Semaphore(size)

    def close(self) -> None:
        while self.idle:
            _close(self.idle.pop()[0])


def _close(connection: psycopg.AsyncConnection[Any]) -> None:
    # Closing needs no round trip, so no loop: this works from any thread, for a closed loop's.
    connection.pgconn.finish()


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

    def serves(self, session: Session) -> bool:
        """True when `session` would read on a pooled connection outside any transaction, as a
        read here does: no transaction of its own to see, no writes it must see."""
        return (
            self.enabled and isinstance(session.get_bind(), Engine) and not session.in_transaction()
        )

    async def first(self, prepared: Prepared, **values: Any) -> Any:
        """`prepared.first(...)`, on the loop: the first row for these parameters, or None."""
        compiled = prepared.compiled(self.dialect)
        parameters = compiled.parameters(values)
        pool = self._connections()
        async with pool.room:
            for attempt in (1, 2):
                connection, cursor = pool.idle.pop() if pool.idle else await self._connect()
                try:
                    await cursor.execute(compiled.sql, parameters, prepare=True)
                    raw = await cursor.fetchone()
                except psycopg.OperationalError:
                    _close(connection)
                    pool.close()
                    if attempt == 2:
                        raise
                    continue
                except BaseException:
                    # Cancelled or failed half way: nobody knows what the connection holds.
                    _close(connection)
                    raise
                pool.idle.append((connection, cursor))
                return None if raw is None else compiled.make_row(raw)
        raise AssertionError("unreachable")  # pragma: no cover

    async def _connect(self) -> tuple[psycopg.AsyncConnection[Any], psycopg.AsyncCursor[Any]]:
        connection = await psycopg.AsyncConnection.connect(autocommit=True, **self._connect_args)
        return connection, connection.cursor()

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
