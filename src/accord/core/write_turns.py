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
import weakref
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

    def take_now(self) -> bool:
        """The turn if nobody holds it, without waiting (`begin_now`)."""
        if not self._lock.acquire(blocking=False):
            return False
        self._owner = threading.get_ident()
        return True

    def give_back(self) -> None:
        self._owner = None
        self._lock.release()


class TurnConnection(sqlite3.Connection):
    """A sqlite3 connection that gives its writer's turn back when its transaction ends."""

    accord_turn: Turn | None = None
    accord_busy_ms: int | None = None  # its busy timeout, as the engine set it (`begin_now`)
    accord_checkpoints: Checkpoints | None = None  # who checkpoints for it (`begin_now`)

    def _end_turn(self) -> None:
        turn = self.accord_turn
        if turn is not None and not self.in_transaction:
            self.accord_turn = None
            turn.give_back()

    def commit(self) -> None:
        wrote = self.in_transaction
        try:
            super().commit()
        finally:
            self._end_turn()
        if wrote and self.accord_checkpoints is not None:
            self.accord_checkpoints.committed()

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


class Checkpoints:
    """WAL checkpoints in a thread of their own, for connections that write on the event loop.

    SQLite copies the WAL back into the database (a checkpoint: two fsyncs) in the commit that
    takes the WAL past 1000 pages. On the event loop that stopped every request of the process
    for the fsyncs (tens of milliseconds on a busy disk: bench/preference_write.py's p99). The
    connections `begin_now` hands out checkpoint no more themselves; every `EVERY` of their
    commits, this thread runs a passive checkpoint (it waits for nobody, and writers go on
    meanwhile) on a pooled connection, as often as the commits would have."""

    EVERY = 100
    IDLE_SECONDS = 5.0  # how often the thread looks whether its engine is gone

    def __init__(self, engine: Engine) -> None:
        self._engine = weakref.ref(engine)
        self._commits = 0
        self._due = threading.Event()
        self._thread: threading.Thread | None = None

    def committed(self) -> None:
        self._commits += 1
        if self._commits < self.EVERY:
            return
        self._commits = 0
        if self._thread is None or not self._thread.is_alive():
            self._thread = threading.Thread(
                target=self._run, name="accord-checkpoints", daemon=True
            )
            self._thread.start()
        self._due.set()

    def _run(self) -> None:
        while True:
            due = self._due.wait(self.IDLE_SECONDS)
            engine = self._engine()
            if engine is None:
                return
            if due:
                self._due.clear()
                checkpoint(engine)
            del engine


def checkpoint(engine: Engine) -> None:
    """A passive checkpoint on a pooled connection; a failure leaves it to the next one."""
    try:
        pooled = engine.raw_connection()
        try:
            dbapi: Any = pooled.dbapi_connection
            dbapi.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()
        finally:
            pooled.close()
    except Exception:  # the database closed or busy: the WAL only waits a little longer
        return


def path_for(database: str) -> str:
    return os.path.abspath(database) + "-writers"


def _open(path: str) -> int:
    return os.open(path, os.O_RDWR | os.O_CREAT, 0o600)


_TURNS: weakref.WeakKeyDictionary[Engine, tuple[Turn, Checkpoints]] = weakref.WeakKeyDictionary()


def begin_now(engine: Engine, dbapi: Any) -> bool:
    """Begin a write transaction on `dbapi` (a connection of `engine` in no transaction) only
    if that needs no wait: this process's turn is free and no other connection, of any process,
    holds SQLite's write lock. Then the connection holds both until its transaction ends (in
    WAL mode nothing it does until then waits: readers never block it, its commit needs no other
    lock, and it leaves checkpoints to a thread: `Checkpoints`). False, and nothing held, when
    either is taken. For work that must never wait, such as a write run on the event loop."""
    found = _TURNS.get(engine)
    if found is None or not isinstance(dbapi, TurnConnection) or dbapi.in_transaction:
        return False
    turn, checkpoints = found
    if not turn.take_now():
        return False
    began = False
    try:
        busy_ms = dbapi.accord_busy_ms
        if busy_ms is None:
            busy_ms = dbapi.accord_busy_ms = int(dbapi.execute("PRAGMA busy_timeout").fetchone()[0])
        if dbapi.accord_checkpoints is None:
            dbapi.execute("PRAGMA wal_autocheckpoint=0")  # `Checkpoints` does it in a thread
            dbapi.accord_checkpoints = checkpoints
        dbapi.execute("PRAGMA busy_timeout=0")  # the lock now, or SQLITE_BUSY at once
        try:
            dbapi.execute("BEGIN IMMEDIATE")
            began = True
        except sqlite3.OperationalError as exc:
            if (getattr(exc, "sqlite_errorcode", sqlite3.SQLITE_BUSY) & 0xFF) not in _BUSY:
                raise
        finally:
            dbapi.execute(f"PRAGMA busy_timeout={busy_ms}")
    finally:
        if began:
            dbapi.accord_turn = turn  # given back when the transaction ends
        else:
            turn.give_back()
    return began


_BUSY = {sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED}


def install(engine: Engine, database: str) -> None:
    """Make every connection of `engine` announce itself while it waits for the write lock."""
    path = path_for(database) if fcntl is not None else None
    turn = Turn()
    _TURNS[engine] = (turn, Checkpoints(engine))

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
