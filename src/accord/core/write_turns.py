"""SQLite write turns: a long-running writer (the delivery worker) lets waiting writers in.

SQLite has one write lock and no queue. A writer that finds it taken sleeps in its busy handler
(1, 2, 5 … then 100 ms at a time) and tries again, so a worker that commits and begins its next
chunk at once can hold a person's withdrawal off until the busy timeout fails it; a fixed pause
after every chunk costs the worker most of its throughput. Instead, each connection holds a
shared lock on a small file next to the database while one of its statements waits for the
write lock. The worker looks at that file between two messages: when nobody waits it goes
straight on; when someone does, it commits what it has sent and lets them in first.

Advisory `flock` locks on one local file: every process and thread (each opening the file
itself) sees the others'. Without `fcntl` (not POSIX) nobody announces and nobody waits.

Inside one process, writers also queue on a lock of their own (`Turn`), taken before the
statement that begins a write transaction and given back when it commits or rolls back: a
writer that finds the database taken then wakes the moment the transaction before it ends,
where SQLite's busy handler would sleep and poll (1, 2, 5 … then 100 ms at a time), so a
writer that just missed the lock waited far longer than the transaction it waited for
(bench/preference_write.py: p99 in seconds with 16 clients). Other processes still meet in
the busy handler.
"""

from __future__ import annotations

import os
import sqlite3
import threading
import time
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import Engine

try:
    import fcntl
except ImportError:  # pragma: no cover - not POSIX
    fcntl = None  # type: ignore[assignment]

# The statements before which Python's sqlite3 begins a transaction: the ones that take the
# write lock when the connection is not already in a transaction.
_WRITES = ("INSERT", "UPDATE", "DELETE", "REPLAC")
_FD = "accord_write_turn_fd"


# How long a writer waits for this process's turn before it goes on to SQLite's own busy
# handler anyway (as long as the busy timeout: a stuck turn slows writers, never stops them).
TURN_TIMEOUT = 10.0


class Turn:
    """One write transaction at a time per database in this process."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._owner: int | None = None

    def take(self) -> bool:
        # A thread that already holds the turn on another connection does not wait for itself:
        # SQLite's busy handler decides, as it did before there were turns.
        if self._owner == threading.get_ident():
            return False
        if not self._lock.acquire(timeout=TURN_TIMEOUT):
            return False
        self._owner = threading.get_ident()
        return True

    def give_back(self) -> None:
        self._owner = None
        self._lock.release()


class TurnConnection(sqlite3.Connection):
    """A sqlite3 connection that gives its writer's turn back when its transaction ends."""

    accord_turn: Turn | None = None

    def _end_turn(self) -> None:
        turn = self.accord_turn
        if turn is not None and not self.in_transaction:
            self.accord_turn = None
            turn.give_back()

    def commit(self) -> None:
        try:
            super().commit()
        finally:
            self._end_turn()

    def rollback(self) -> None:
        try:
            super().rollback()
        finally:
            self._end_turn()

    def close(self) -> None:
        try:
            super().close()
        finally:
            turn, self.accord_turn = self.accord_turn, None
            if turn is not None:
                turn.give_back()


def path_for(database: str) -> str:
    return os.path.abspath(database) + "-writers"


def _open(path: str) -> int:
    return os.open(path, os.O_RDWR | os.O_CREAT, 0o600)


def install(engine: Engine, database: str) -> None:
    """Make every connection of `engine` announce itself while it waits for the write lock."""
    path = path_for(database) if fcntl is not None else None
    turn = Turn()

    @event.listens_for(engine, "before_cursor_execute")
    def announce(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        dbapi = conn.connection.dbapi_connection
        if dbapi is None or dbapi.in_transaction:
            return
        if statement.lstrip()[:6].upper() not in _WRITES:
            return
        if path is not None:  # announced first: a worker holding the turn sees us waiting
            fd = _open(path)
            fcntl.flock(fd, fcntl.LOCK_SH)
            conn.info[_FD] = fd
        if isinstance(dbapi, TurnConnection) and dbapi.accord_turn is None and turn.take():
            dbapi.accord_turn = turn

    @event.listens_for(engine, "after_cursor_execute")
    def got_in(conn: Any, *args: Any) -> None:
        _release(conn)

    @event.listens_for(engine, "handle_error")
    def failed(context: Any) -> None:
        if context.connection is not None:
            _release(context.connection)


def _release(conn: Any) -> None:
    fd = conn.info.pop(_FD, None)
    if fd is not None:
        os.close(fd)  # closing the file releases its lock
    dbapi = conn.connection.dbapi_connection if not conn.invalidated else None
    if isinstance(dbapi, TurnConnection):
        dbapi._end_turn()  # a write that began no transaction (or failed to) holds no turn


def _file(engine: Engine) -> str | None:
    database = engine.url.database
    if fcntl is None or engine.dialect.name != "sqlite" or not database or database == ":memory:":
        return None
    return path_for(database)


def _nobody_waits(fd: int) -> bool:
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    fcntl.flock(fd, fcntl.LOCK_UN)
    return True


def someone_waits(engine: Engine) -> bool:
    """Does another connection wait for SQLite's write lock right now? (A few microseconds: a
    long transaction can ask between any two steps, and end early to let it in.)"""
    path = _file(engine)
    if path is None:
        return False
    fd = _open(path)
    try:
        return not _nobody_waits(fd)
    finally:
        os.close(fd)


def let_waiters_in(engine: Engine, *, timeout: float = 1.0) -> bool:
    """Between transactions: if another connection waits for SQLite's write lock, wait (at most
    `timeout`) until it has it. True if someone was waiting. Never call it while holding the
    write lock: the waiter could not get in."""
    path = _file(engine)
    if path is None:
        return False
    fd = _open(path)
    try:
        deadline = time.monotonic() + timeout
        waited = False
        while not _nobody_waits(fd):
            waited = True
            if time.monotonic() >= deadline:
                break
            time.sleep(0.001)
        return waited
    finally:
        os.close(fd)
