"""Statements run on the DBAPI cursor (`accord.core.direct`) give and take what SQLAlchemy
does: the same rows, writes in the session's transaction that the request then commits, the
session's pending objects flushed first, the engine's listeners told, SQLAlchemy's errors."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import bindparam, insert, literal, select, update
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from accord.brands.models import ApiKey, Brand
from accord.core.direct import Direct
from accord.core.read_memo import remember, remembered
from accord.core.web.deps import WROTE
from tests.builders import make_api_key, make_brand
from tests.helpers import statements_run

_keys: Any = ApiKey.__table__
_READ = (
    select(ApiKey.id, ApiKey.brand_id, ApiKey.revoked_at, ApiKey.created_at, Brand.slug)
    .join_from(ApiKey, Brand, Brand.id == ApiKey.brand_id)
    .where(ApiKey.brand_id == bindparam("brand"))
)
READ = Direct(_READ)
REVOKE = Direct(
    update(_keys).where(_keys.c.id == bindparam("key")).values(revoked_at=bindparam("at"))
)
ADD = Direct(
    insert(_keys).inline(),
    keys=["id", "brand_id", "name", "role", "prefix", "key_hash", "created_at"],
)


def test_rows_are_those_sqlalchemy_reads(session: Session) -> None:
    brand = make_brand(session)
    key, _ = make_api_key(session, brand=brand)
    expected = session.execute(_READ, {"brand": brand.id}).one()
    got = READ.first(session, brand=brand.id)
    assert tuple(got) == tuple(expected)
    assert got.id == key.id and got.created_at.tzinfo is not None and got.slug == brand.slug
    assert READ.all(session, brand=key.id) == [] and READ.first(session, brand=key.id) is None


def test_a_write_is_the_sessions_and_it_says_so(session: Session) -> None:
    brand = make_brand(session)
    key, _ = make_api_key(session, brand=brand)
    remember(session)
    before = remembered(session, ("key",), lambda: READ.first(session, brand=brand.id))
    session.info.pop(WROTE, None)
    assert REVOKE.run(session, key=key.id, at=key.created_at) == 1
    # The request knows it must commit, and what it remembered is read again.
    assert session.info[WROTE] is True
    after = remembered(session, ("key",), lambda: READ.first(session, brand=brand.id))
    assert before.revoked_at is None and after.revoked_at == key.created_at
    assert session.scalar(select(ApiKey.revoked_at).where(ApiKey.id == key.id)) == key.created_at


def test_pending_objects_are_flushed_first_and_listeners_see_each_statement(
    session: Session, engine: Engine
) -> None:
    brand = make_brand(session)
    key, _ = make_api_key(session, brand=brand)
    key.name = "renamed, not yet flushed"
    with statements_run(engine) as seen:
        row = Direct(select(_keys.c.name).where(_keys.c.id == bindparam("key"))).first(
            session, key=key.id
        )
    assert row.name == "renamed, not yet flushed"
    assert [s.split()[0] for s in seen] == ["UPDATE", "SELECT"]


def test_an_error_is_sqlalchemys_and_the_transaction_goes_on(session: Session) -> None:
    brand = make_brand(session)
    key, _ = make_api_key(session, brand=brand)
    # The same id again: the primary key refuses it.
    row = {"id": key.id, "brand_id": brand.id, "name": "again", "role": key.role,
           "prefix": "acc_again", "key_hash": "x" * 64}  # fmt: skip
    with pytest.raises(IntegrityError), session.begin_nested():
        ADD.run(session, created_at=key.created_at, **row)
    assert READ.first(session, brand=brand.id).id == key.id


def test_values_the_statement_carries_are_bound(session: Session) -> None:
    both = Direct(select((literal("a, ") + literal("b")).label("both")))
    assert both.first(session).both == "a, b"
