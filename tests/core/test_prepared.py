"""Prepared reads give what SQLAlchemy gives, see the session's own writes, and leave nothing
open on the server when they ran outside a transaction. Pooled connections are pinged only
after sitting idle, and one found gone is replaced."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import psycopg
import pytest
from sqlalchemy import bindparam, select, text, update
from sqlalchemy.orm import Session

from accord.brands.models import ApiKey, Brand
from accord.core import db as core_db
from accord.core import migrate
from accord.core.db import Database
from accord.core.prepared import Prepared, server_idle
from accord.core.security import token_hash
from tests.builders import make_api_key, make_brand
from tests.databases import PG_ADMIN_URL, fresh_engine

_STATEMENT = (
    select(ApiKey.id, ApiKey.brand_id, ApiKey.revoked_at, ApiKey.last_used_at, ApiKey.created_at)
    .add_columns(Brand.slug, Brand.postal_address, Brand.send_rate_per_second)
    .join_from(ApiKey, Brand, Brand.id == ApiKey.brand_id)
    .where(ApiKey.key_hash == bindparam("key_hash"))
)
KEY_AND_BRAND = Prepared(_STATEMENT)


def test_rows_are_those_sqlalchemy_reads(session: Session) -> None:
    brand = make_brand(session)
    key, secret = make_api_key(session, brand=brand)
    session.execute(update(ApiKey).where(ApiKey.id == key.id).values(last_used_at=key.created_at))
    expected = session.execute(_STATEMENT, {"key_hash": token_hash(secret)}).one()
    got = KEY_AND_BRAND.first(session, key_hash=token_hash(secret))
    assert tuple(got) == tuple(expected)
    assert got.brand_id == brand.id and got.last_used_at == key.created_at
    assert got.revoked_at is None and got.created_at.tzinfo is not None
    assert KEY_AND_BRAND.first(session, key_hash="no such hash") is None


@pytest.mark.parametrize("backend", ["sqlite", "postgres"])
def test_a_read_outside_a_transaction_leaves_nothing_open(tmp_path: Path, backend: str) -> None:
    engine = fresh_engine(backend, tmp_path, "prepared")
    try:
        migrate.upgrade(engine)
        db = Database(engine)
        with db.transaction() as session:
            key, secret = make_api_key(session, brand=make_brand(session))
        with db.session() as session:
            row = KEY_AND_BRAND.first(session, key_hash=token_hash(secret))
            assert row is not None and row.id == key.id
            assert not session.in_transaction() and server_idle(session)
            # Once the session writes, reads are made in its transaction and see the write.
            session.execute(update(ApiKey).values(revoked_at=row.created_at))
            assert not server_idle(session)
            seen = KEY_AND_BRAND.first(session, key_hash=token_hash(secret))
            assert seen.revoked_at == row.created_at
            session.rollback()
    finally:
        engine.dispose()


def _backend_pid(connection: Any) -> int:
    return int(connection.execute(text("SELECT pg_backend_pid()")).scalar_one())


def test_a_pooled_connection_gone_while_idle_is_replaced(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    engine = fresh_engine("postgres", tmp_path, "pings")
    try:
        with engine.connect() as connection:
            gone = _backend_pid(connection)
        with psycopg.connect(PG_ADMIN_URL, autocommit=True) as admin:
            admin.execute("SELECT pg_terminate_backend(%s)", (gone,))
        monkeypatch.setattr(core_db, "PING_AFTER_IDLE_SECONDS", 0.0)  # it sat idle long enough
        with engine.connect() as connection:
            assert _backend_pid(connection) != gone
    finally:
        engine.dispose()


def test_a_connection_given_back_moments_ago_is_not_pinged(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, backend: str
) -> None:
    engine = fresh_engine(backend, tmp_path, "no_pings")
    pings: list[object] = []
    real_ping = engine.dialect.do_ping

    def counted(connection: Any) -> bool:
        pings.append(connection)
        return real_ping(connection)

    monkeypatch.setattr(engine.dialect, "do_ping", counted)
    monkeypatch.setattr(core_db, "PING_AFTER_IDLE_SECONDS", 3600.0)
    try:
        for _ in range(3):
            with engine.connect() as connection:
                connection.execute(text("SELECT 1"))
        assert pings == []
        monkeypatch.setattr(core_db, "PING_AFTER_IDLE_SECONDS", 0.0)
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
        assert len(pings) == (1 if backend == "postgres" else 0)
    finally:
        engine.dispose()
