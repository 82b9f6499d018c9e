"""SQLite: a preference change runs on the event loop when the write lock is free right now, and
in a slot's thread, waiting its turn as before, when another connection (another process's
worker, another request) holds it; loop writers leave the WAL's checkpoints to a thread.

On a real SQLite file (the suite's rolled back sessions are already in a transaction, so they
always write in a thread)."""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text
from sqlalchemy.engine import Engine

from accord.app import create_app
from accord.core import migrate, write_turns
from accord.core.db import Database, make_engine
from tests.builders import make_brand, make_person, make_settings, make_topic
from tests.core.loop_write_cases import (
    check_after_commit_work_runs_in_a_thread,
    ledger_events,
)
from tests.helpers import csrf_of, sign_in_person, statements_run
from tests.waiting import wait_until


@pytest.fixture
def engine(tmp_path: Path) -> Iterator[Engine]:
    engine = make_engine(f"sqlite:///{tmp_path / 'loop_writes.db'}")
    migrate.upgrade(engine)
    try:
        yield engine
    finally:
        engine.dispose()


def test_a_change_writes_on_the_loop_or_waits_in_a_thread(engine: Engine, tmp_path: Path) -> None:
    db = Database(engine)
    settings = make_settings(engine=engine, tmp_path=tmp_path, worker_in_process=False)
    app = create_app(settings, database=db)
    with db.transaction() as session:
        make_person(session, email="writer@people.example")
        brand = make_brand(session, slug="loopy")
        topic = make_topic(session, brand=brand)
    path = f"/api/v1/me/relationships/{brand.id}"
    with TestClient(app) as client, db.session() as mail:
        sign_in_person(client, mail, "writer@people.example")
        csrf = {"x-csrf-token": csrf_of(client, "/home")}
        assert client.post("/api/v1/me/relationships", json={"brand": "loopy"}, headers=csrf)
        before = ledger_events(engine)
        slots = app.state.request_slots
        slots._threads = None  # set-up requests may have used them; the change need not
        for on in (True, False):
            with statements_run(engine) as seen:
                answer = client.patch(path, json={"topics": {str(topic.id): on}}, headers=csrf)
            assert answer.status_code == 200 and answer.json()["topics"] == (
                [str(topic.id)] if on else []
            )
            # Begun holding the write lock: the head read with the relationship, no lock's own
            # statement (`consent.HeldRead`); then the choice, the head and the event.
            assert len(seen) == 4, "\n".join(seen)
        assert slots._threads is None  # both on the loop
        assert ledger_events(engine) == before + 2

        # Another connection (here a plain one, as another process would) holds the write lock:
        # the change does not wait on the loop; it waits in a thread, and goes in once it is free.
        holder = sqlite3.connect(engine.url.database or "", isolation_level=None)
        holder.execute("BEGIN IMMEDIATE")
        answers: list[int] = []
        request = threading.Thread(
            target=lambda: answers.append(
                client.patch(path, json={"topics": {str(topic.id): True}}, headers=csrf).status_code
            )
        )
        request.start()
        wait_until(lambda: write_turns.someone_waits(engine), timeout=10, what="a waiting writer")
        assert not answers
        holder.execute("COMMIT")
        holder.close()
        request.join(10)
        assert answers == [200] and slots._threads is not None
        assert ledger_events(engine) == before + 3

        # This process's turn is taken (another request writes in a thread): the same.
        turn, _ = write_turns._TURNS[engine]
        assert turn.take()
        threading.Timer(0.2, turn.give_back).start()
        answer = client.patch(path, json={"topics": {str(topic.id): False}}, headers=csrf)
        assert answer.status_code == 200 and ledger_events(engine) == before + 4


def test_a_loop_writer_leaves_checkpoints_to_a_thread(
    engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    done = threading.Event()
    checkpoint = write_turns.checkpoint

    def counted(target: Engine) -> None:
        checkpoint(target)
        done.set()

    monkeypatch.setattr(write_turns, "checkpoint", counted)
    monkeypatch.setattr(write_turns.Checkpoints, "EVERY", 3)
    with engine.begin() as conn:
        conn.execute(text("CREATE TABLE t (n INTEGER)"))
    pooled = engine.raw_connection()
    try:
        dbapi = pooled.dbapi_connection
        assert dbapi is not None
        for n in range(3):
            assert write_turns.begin_now(engine, dbapi)
            dbapi.execute("INSERT INTO t VALUES (?)", (n,))
            assert not write_turns.begin_now(engine, dbapi)  # in a transaction already
            dbapi.commit()
        assert dbapi.execute("PRAGMA wal_autocheckpoint").fetchone()[0] == 0
        assert dbapi.execute("PRAGMA busy_timeout").fetchone()[0] == 10000  # as it was
        assert done.wait(10)
    finally:
        pooled.close()


def test_begin_now_takes_nothing_when_the_lock_is_held(engine: Engine) -> None:
    holder = sqlite3.connect(engine.url.database or "", isolation_level=None)
    try:
        holder.execute("BEGIN IMMEDIATE")
        pooled = engine.raw_connection()
        try:
            # (With the connection's own busy timeout it would wait 10 s, then say the same.)
            assert not write_turns.begin_now(engine, pooled.dbapi_connection)
            turn, _ = write_turns._TURNS[engine]
            assert turn.take_now()  # given back
            turn.give_back()
        finally:
            pooled.close()
    finally:
        holder.close()


def test_what_runs_after_the_commit_runs_in_a_thread(engine: Engine) -> None:
    """Mail and SMS go out after the commit, talking to other servers: not on the loop."""
    with engine.begin() as conn:
        conn.execute(text("CREATE TABLE t (n INTEGER)"))
    check_after_commit_work_runs_in_a_thread(engine, 1)
