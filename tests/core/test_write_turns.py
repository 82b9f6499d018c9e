"""SQLite write turns: a connection waiting for the write lock is seen, and a worker between
two transactions lets it in first; with nobody waiting it does not wait at all."""

from __future__ import annotations

import threading
from pathlib import Path

from sqlalchemy import text

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
        # Between chunks: the worker waits until the waiter has the lock, then goes on.
        assert write_turns.let_waiters_in(engine, timeout=5)
        assert got_in.wait(5)
        release.set()
        waiter.join(5)
        with engine.connect() as conn:
            assert conn.execute(text("SELECT count(*) FROM t")).scalar() == 2
    finally:
        engine.dispose()
