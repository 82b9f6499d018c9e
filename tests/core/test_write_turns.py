"""SQLite write turns: a connection waiting for the write lock is seen, and a worker between
two transactions lets it in first; with nobody waiting it does not wait at all."""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Connection, Engine, event, text
from sqlalchemy.exc import OperationalError

from accord.core import write_turns
from accord.core.db import make_engine
from tests.waiting import wait_until


def test_a_waiting_writer_is_let_in_between_two_transactions(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'turns.db'}")
    try:
        with engine.begin() as conn:
            conn.execute(text("CREATE TABLE t (n INTEGER)"))
        # Nobody waits: straight on (False: it never looked twice).
        assert not write_turns.let_waiters_in(engine, timeout=30)
        got_in, release = threading.Event(), threading.Event()

        def web_request() -> None:
            with engine.begin() as conn:
                conn.execute(text("INSERT INTO t VALUES (1)"))  # waits for the worker's lock
                got_in.set()
                release.wait(10)  # the rest of the request, holding the lock

        with engine.connect() as worker:
            held = worker.begin()
            worker.execute(text("INSERT INTO t VALUES (0)"))  # the worker's chunk holds the lock
            waiter = threading.Thread(target=web_request)
            waiter.start()
            wait_until(
                lambda: write_turns.someone_waits(engine),
                timeout=10,
                what="the request to wait for the write lock",
            )
            # While the worker holds the lock the waiter cannot get in: seen, but not let in.
            assert write_turns.let_waiters_in(engine, timeout=0.2)
            assert not got_in.is_set()
            held.commit()
        # Between chunks: the worker waits until the waiter has the lock, then goes on (in one
        # process the waiter, woken by the commit, may be in before the worker looks).
        write_turns.let_waiters_in(engine, timeout=5)
        assert got_in.wait(5)
        release.set()
        waiter.join(5)
        with engine.connect() as conn:
            assert conn.execute(text("SELECT count(*) FROM t")).scalar() == 2
    finally:
        engine.dispose()


def _engine_without_busy_wait(path: Path) -> Engine:
    """SQLite's busy handler off: a writer that meets a held write lock fails at once, so a
    writer that gets through waited for its turn instead."""
    engine = make_engine(f"sqlite:///{path}")

    @event.listens_for(engine, "connect")
    def _no_busy_wait(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.execute("PRAGMA busy_timeout=0")

    with engine.begin() as conn:
        conn.execute(text("CREATE TABLE t (n INTEGER)"))
    return engine


def _hold_then(engine: Engine, end: Callable[[Connection], None]) -> int:
    """A writer holds the lock while another thread writes, then ends its transaction by `end`;
    the rows written, once both are done."""
    wrote = threading.Event()
    with engine.connect() as first:
        first.begin()
        first.execute(text("INSERT INTO t VALUES (1)"))

        def second() -> None:
            with engine.begin() as conn:
                conn.execute(text("INSERT INTO t VALUES (2)"))  # waits for its turn
            wrote.set()

        waiter = threading.Thread(target=second)
        waiter.start()
        wait_until(lambda: write_turns.someone_waits(engine), timeout=10, what="the second writer")
        assert not wrote.is_set()
        end(first)
        assert wrote.wait(10)
        waiter.join(10)
    with engine.connect() as conn:
        return int(conn.execute(text("SELECT count(*) FROM t")).scalar_one())


def test_writers_in_one_process_wait_for_their_turn_not_in_the_busy_handler(
    tmp_path: Path,
) -> None:
    engine = _engine_without_busy_wait(tmp_path / "turns.db")
    try:
        assert _hold_then(engine, lambda conn: conn.commit()) == 2
        assert _hold_then(engine, lambda conn: conn.rollback()) == 2 + 1
        assert _hold_then(engine, lambda conn: conn.invalidate()) == 3 + 1  # closed: rolled back
    finally:
        engine.dispose()


def test_a_thread_never_waits_for_its_own_turn(tmp_path: Path) -> None:
    """A second connection of the thread that holds the turn is left to SQLite (here, with no
    busy wait, refused at once) rather than waiting for itself."""
    engine = _engine_without_busy_wait(tmp_path / "turns.db")
    try:
        with engine.connect() as first, engine.connect() as second:
            first.begin()
            first.execute(text("INSERT INTO t VALUES (1)"))
            with pytest.raises(OperationalError, match="locked"), second.begin():
                second.execute(text("INSERT INTO t VALUES (2)"))
            first.commit()
        with engine.begin() as conn:  # the turn was given back
            conn.execute(text("INSERT INTO t VALUES (3)"))
    finally:
        engine.dispose()
