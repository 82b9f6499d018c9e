"""A request's credential read on the event loop (PostgreSQL: psycopg's async connections).

On a real database (not the suite's rolled back one, whose sessions are already in a
transaction and so read in a thread): the read answers as before on both backends, a revoked
key or an ended session is refused at the next request, a connection the server dropped costs
the caller nothing, and the connections are few, per loop, and closed with the app or when
their loop has closed."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import psycopg
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine

from accord.app import create_app
from accord.brands import service as brands
from accord.core import migrate
from accord.core.db import Database
from accord.core.loop_reads import APPLICATION_NAME, MOST_PER_LOOP, LoopReads
from accord.core.web import sign_in
from tests.builders import make_api_key, make_brand, make_person, make_settings
from tests.databases import PG_ADMIN_URL, fresh_engine
from tests.helpers import csrf_of, sign_in_person
from tests.waiting import wait_until


@dataclass
class Live:
    backend: str
    engine: Engine
    db: Database
    app: FastAPI

    @property
    def reads(self) -> LoopReads:
        reads: LoopReads = self.app.state.loop_reads
        return reads

    def _on_loop_connections(self, what: str) -> list[Any]:
        """`what` for each of the server's loop-read connections to this database."""
        with psycopg.connect(PG_ADMIN_URL, autocommit=True) as admin:
            return admin.execute(
                f"SELECT {what} FROM pg_stat_activity WHERE datname = %s AND application_name = %s",
                (self.engine.url.database, APPLICATION_NAME),
            ).fetchall()

    def server_connections(self) -> int:
        """The loop reads' connections the server holds for this database."""
        return len(self._on_loop_connections("pid"))

    def terminate_loop_connections(self) -> int:
        return len(self._on_loop_connections("pg_terminate_backend(pid)"))


def _live(backend: str, tmp_path: Path) -> Iterator[Live]:
    engine = fresh_engine(backend, tmp_path, "loop_reads")
    try:
        migrate.upgrade(engine)
        db = Database(engine)
        settings = make_settings(engine=engine, tmp_path=tmp_path, worker_in_process=False)
        app = create_app(settings, database=db)
        try:
            yield Live(backend, engine, db, app)
        finally:
            app.state.loop_reads.close()
    finally:
        engine.dispose()


@pytest.fixture(params=["sqlite", "postgres"])
def live(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Live]:
    yield from _live(request.param, tmp_path)


@pytest.fixture
def live_pg(tmp_path: Path) -> Iterator[Live]:
    yield from _live("postgres", tmp_path)


def _key(live: Live) -> tuple[Any, str]:
    with live.db.transaction() as session:
        key, secret = make_api_key(session, brand=make_brand(session, slug="looped"))
    return key, secret


def bearer(secret: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {secret}"}


def test_an_api_key_is_read_on_the_loop_and_a_revoked_one_is_refused_at_once(live: Live) -> None:
    key, secret = _key(live)
    with TestClient(live.app) as client:
        for _ in range(3):
            answer = client.get("/api/v1/brand", headers=bearer(secret))
            assert answer.status_code == 200 and answer.json()["slug"] == "looped"
        # PostgreSQL read it on one async connection of the client's loop, given back after
        # each read; SQLite reads its file on the loop, with no such connection.
        assert live.reads.open_connections() == (1 if live.backend == "postgres" else 0)
        with live.db.transaction() as session:
            brands.revoke_api_key(session, key.brand_id, key.id)
        refused = client.get("/api/v1/brand", headers=bearer(secret))
        assert refused.status_code == 401
    # The app's shutdown closed the loop's connections.
    assert live.reads.open_connections() == 0
    if live.backend == "postgres":
        wait_until(lambda: live.server_connections() == 0, timeout=10, what="connections closed")


def test_the_key_read_survives_a_terminated_connection(live_pg: Live) -> None:
    _, secret = _key(live_pg)
    with TestClient(live_pg.app) as client:
        assert client.get("/api/v1/brand", headers=bearer(secret)).status_code == 200
        assert live_pg.terminate_loop_connections() == 1
        # The idle connection is gone (the server restarted, an administrator ended it): the
        # read runs again on a new one, and the caller sees nothing of it.
        answer = client.get("/api/v1/brand", headers=bearer(secret))
        assert answer.status_code == 200 and answer.json()["slug"] == "looped"
        assert live_pg.reads.open_connections() == 1
        assert client.get("/api/v1/brand", headers=bearer(secret)).status_code == 200


def test_a_person_api_call_reads_its_session_on_the_loop_and_an_ended_one_stops(
    live: Live,
) -> None:
    with live.db.transaction() as session:
        person = make_person(session, email="looped@people.example")
    with TestClient(live.app) as client, live.db.session() as mail:
        sign_in_person(client, mail, "looped@people.example")
        assert client.get("/api/v1/me").status_code == 200
        if live.backend == "postgres":
            assert live.reads.open_connections() == 1
        csrf = {"x-csrf-token": csrf_of(client, "/home")}
        # A write still needs its CSRF header, checked on the loop with the session.
        assert client.patch("/api/v1/me", json={"time_zone": "Europe/Berlin"}).status_code == 403
        changed = client.patch("/api/v1/me", json={"time_zone": "Europe/Berlin"}, headers=csrf)
        assert changed.status_code == 200 and changed.json()["time_zone"] == "Europe/Berlin"
        with live.db.transaction() as session:
            assert sign_in.end_all(session, kind=sign_in.PERSON, subject_id=person.id) == 1
        assert client.get("/api/v1/me").status_code == 401


async def _burst(app: FastAPI, secret: str, count: int) -> list[int]:
    transport = httpx.ASGITransport(app=app)  # no lifespan: nothing closes the app
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        answers = await asyncio.gather(
            *(client.get("/api/v1/brand", headers=bearer(secret)) for _ in range(count))
        )
    return [answer.status_code for answer in answers]


def test_connections_are_few_per_loop_and_a_closed_loop_s_are_closed(live_pg: Live) -> None:
    _, secret = _key(live_pg)
    with ThreadPoolExecutor(max_workers=1) as runner:
        assert runner.submit(asyncio.run, _burst(live_pg.app, secret, 30)).result() == [200] * 30
        held = live_pg.reads.open_connections()
        assert 1 <= held <= MOST_PER_LOOP
        assert live_pg.server_connections() == held
        # A new loop (another test client, say): the closed loop's connections go.
        assert runner.submit(asyncio.run, _burst(live_pg.app, secret, 1)).result() == [200]
    assert live_pg.reads.open_connections() == 1
    wait_until(lambda: live_pg.server_connections() == 1, timeout=10, what="stale ones closed")


def test_a_loop_read_gives_what_the_session_read_gives(live_pg: Live) -> None:
    """The same row, value for value (aware times, UUIDs), from either road; None for none."""
    from accord.brands.service import _KEY_AND_BRAND
    from accord.core.db import utcnow
    from accord.core.security import token_hash
    from accord.core.web.sign_in import _SIGNED_IN

    key, secret = _key(live_pg)
    with live_pg.db.transaction() as session:
        brands.touch_api_key(session, key.id)
    with live_pg.db.session() as session:
        expected = _KEY_AND_BRAND.first(session, key_hash=token_hash(secret))

    async def read() -> list[Any]:
        reads = live_pg.reads
        try:
            return [
                await reads.first(_KEY_AND_BRAND, key_hash=token_hash(secret)),
                await reads.first(_KEY_AND_BRAND, key_hash="no such hash"),
                await reads.first(_SIGNED_IN, token_hash="none", kind="person", now=utcnow()),
            ]
        finally:
            reads.close()

    with ThreadPoolExecutor(max_workers=1) as runner:
        got, missing, no_session = runner.submit(asyncio.run, read()).result()
    assert tuple(got) == tuple(expected) and got.last_used_at.tzinfo is not None
    assert got.key_id == key.id and missing is None and no_session is None
