"""PostgreSQL: synchronous database work run on the event loop (`accord.core.loop_waits`) hands
its waits to the loop, so a statement waiting for a row lock stops no other request; a
preference change runs there, a change that leaves mail for after its commit commits in a
thread, and a cancelled caller still lets its statements finish.

On a real database (the suite's rolled back sessions are bound to a connection in a transaction,
so their writes run in a thread, as before)."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from accord.app import create_app
from accord.consent import verification
from accord.core import loop_waits, migrate
from accord.core.db import Database
from accord.core.web.deps import write_in_slot
from tests.builders import make_brand, make_person, make_settings, make_topic
from tests.core.loop_write_cases import (
    check_after_commit_work_runs_in_a_thread,
    ledger_events,
    slot_request,
)
from tests.databases import fresh_engine
from tests.helpers import csrf_of, sign_in_person
from tests.waiting import wait_until


@pytest.fixture
def engine(tmp_path: Path) -> Iterator[Engine]:
    engine = fresh_engine("postgres", tmp_path, "loop_waits")
    try:
        yield engine
    finally:
        engine.dispose()


def _plain(engine: Engine) -> psycopg.Connection[Any]:
    """A connection of its own, as another process's would be."""
    url = engine.url.set(drivername="postgresql").render_as_string(hide_password=False)
    return psycopg.connect(url)


def _table(engine: Engine) -> None:
    with engine.begin() as conn:
        conn.execute(text("CREATE TABLE t (n INTEGER PRIMARY KEY)"))
        conn.execute(text("INSERT INTO t VALUES (1)"))


def _wait_for_lock(engine: Engine, waited: list[int]) -> int:
    with engine.begin() as conn:
        waited.append(threading.get_ident())
        return int(conn.execute(text("SELECT n FROM t WHERE n = 1 FOR UPDATE")).scalar_one())


def _read(engine: Engine) -> int:
    with engine.connect() as conn:
        return int(conn.execute(text("SELECT count(*) FROM t")).scalar_one())


def test_a_statement_waiting_for_a_lock_stops_no_other_work_on_the_loop(engine: Engine) -> None:
    assert loop_waits.serves(engine)
    _table(engine)
    holder = _plain(engine)
    holder.execute("SELECT n FROM t WHERE n = 1 FOR UPDATE")  # held till its commit
    waited: list[int] = []

    async def scenario() -> tuple[int, int, int]:
        locked = asyncio.ensure_future(loop_waits.run(_wait_for_lock, engine, waited))
        while not waited:
            await asyncio.sleep(0.01)
        # The locked statement waits for the holder's commit; the loop goes on meanwhile.
        for _ in range(3):
            assert await loop_waits.run(_read, engine) == 1
        assert not locked.done()
        await asyncio.get_running_loop().run_in_executor(None, holder.commit)
        return await locked, waited[0], threading.get_ident()

    try:
        got, ran_on, loop_thread = asyncio.run(scenario())
    finally:
        holder.close()
    assert got == 1 and ran_on == loop_thread


def test_a_cancelled_caller_lets_its_statements_finish(engine: Engine) -> None:
    _table(engine)
    holder = _plain(engine)
    holder.execute("SELECT n FROM t WHERE n = 1 FOR UPDATE")
    waited: list[int] = []

    async def scenario() -> None:
        locked = asyncio.ensure_future(loop_waits.run(_wait_for_lock, engine, waited))
        while not waited:
            await asyncio.sleep(0.01)
        locked.cancel()
        await asyncio.sleep(0.05)
        assert not locked.done()  # still waiting for its lock, not stopped half way
        await asyncio.get_running_loop().run_in_executor(None, holder.commit)
        with pytest.raises(asyncio.CancelledError):
            await locked
        # Its connection went back to the pool in order: the next work uses it as it is.
        assert await loop_waits.run(_read, engine) == 1

    try:
        asyncio.run(scenario())
    finally:
        holder.close()


def test_an_error_in_the_call_comes_back_and_rolls_back(engine: Engine) -> None:
    _table(engine)
    db = Database(engine)
    request = slot_request()

    def failing(session: Session) -> None:
        session.execute(text("INSERT INTO t VALUES (2)"))
        session.execute(text("INSERT INTO t VALUES (1)"))  # a duplicate key

    async def scenario() -> None:
        with db.session() as session:
            with pytest.raises(Exception, match="duplicate key"):
                await write_in_slot(request, session, failing, session)
            assert not session.in_transaction()

    asyncio.run(scenario())
    assert _read(engine) == 1  # nothing of it written


def test_what_runs_after_the_commit_runs_in_a_thread(engine: Engine) -> None:
    _table(engine)
    check_after_commit_work_runs_in_a_thread(engine, 2)


def test_a_preference_change_runs_on_the_loop_and_a_locked_person_stops_nobody_else(
    engine: Engine, tmp_path: Path
) -> None:
    migrate.upgrade(engine)
    db = Database(engine)
    settings = make_settings(engine=engine, tmp_path=tmp_path, worker_in_process=False)
    app = create_app(settings, database=db)
    with db.transaction() as session:
        people = [make_person(session, email=f"p{n}@people.example") for n in (1, 2)]
        brand = make_brand(session, slug="loopy")
        topic = make_topic(session, brand=brand)
    path = f"/api/v1/me/relationships/{brand.id}"
    with TestClient(app) as client, db.session() as mail:
        # One client (one event loop), each person's cookie and CSRF header sent explicitly.
        headers = []
        for person in people:
            client.cookies.clear()
            sign_in_person(client, mail, person.email)
            csrf = csrf_of(client, "/home")
            assert client.post(
                "/api/v1/me/relationships", json={"brand": "loopy"}, headers={"x-csrf-token": csrf}
            )
            cookie = f"accord_session={client.cookies['accord_session']}"
            headers.append({"x-csrf-token": csrf, "cookie": cookie})
        client.cookies.clear()

        def change(who: int, on: bool) -> Any:
            return client.patch(path, json={"topics": {str(topic.id): on}}, headers=headers[who])

        before = ledger_events(engine)
        slots = app.state.request_slots
        slots._threads = None  # set-up requests may have used them; the change need not
        for on in (True, False):
            answer = change(0, on)
            assert answer.status_code == 200, answer.text
            assert answer.json()["topics"] == ([str(topic.id)] if on else [])
        assert slots._threads is None  # both on the loop
        assert ledger_events(engine) == before + 2

        # Another process holds the first person's ledger head: their change waits for it on
        # the loop, and the second person's change goes through meanwhile.
        holder = _plain(engine)
        holder.execute(
            "SELECT seq FROM ledger_heads WHERE subject_id = %s FOR UPDATE", (people[0].id,)
        )
        answers: list[int] = []
        waiting = threading.Thread(target=lambda: answers.append(change(0, True).status_code))
        waiting.start()
        try:
            wait_until(lambda: _lock_waiters(engine) == 1, timeout=10, what="a waiting change")
            assert change(1, True).status_code == 200 and not answers
        finally:
            holder.commit()
            holder.close()
        waiting.join(10)
        assert answers == [200] and ledger_events(engine) == before + 4
        assert slots._threads is None
    with db.session() as session:
        checked, breaks = verification.verify(session)
    assert checked == ledger_events(engine) and breaks == []


def _lock_waiters(engine: Engine) -> int:
    """Statements waiting for a lock in the test's database."""
    with _plain(engine) as admin:
        row = admin.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = %s AND wait_event_type = 'Lock'",
            (engine.url.database,),
        ).fetchone()
    return int(row[0]) if row else 0
