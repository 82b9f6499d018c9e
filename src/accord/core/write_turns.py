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
"""

from __future__ import annotations

import os
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


def path_for(database: str) -> str:
    return os.path.abspath(database) + "-writers"


def _open(path: str) -> int:
    return os.open(path, os.O_RDWR | os.O_CREAT, 0o600)


def install(engine: Engine, database: str) -> None:
    """Make every connection of `engine` announce itself while it waits for the write lock."""
    if fcntl is None:
        return
    path = path_for(database)

    @event.listens_for(engine, "before_cursor_execute")
    def announce(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        dbapi = conn.connection.dbapi_connection
        if dbapi is None or dbapi.in_transaction:
            return
        if statement.lstrip()[:6].upper() not in _WRITES:
            return
        fd = _open(path)
        fcntl.flock(fd, fcntl.LOCK_SH)
        conn.info[_FD] = fd

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
