"""`accord.core.pg_bulk`, the PostgreSQL bulk writes of imports: COPY of new rows, INSERT …
ON CONFLICT DO NOTHING from arrays, UPDATE from arrays and the probe of stored keys, in the
session's transaction, each value stored as its column's type binds it."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta, timezone

import pytest
from sqlalchemy import JSON, Boolean, Column, Integer, MetaData, String, Table, select
from sqlalchemy.dialects.postgresql import ENUM
from sqlalchemy.orm import Session

from accord.core import pg_bulk, read_memo
from accord.core.db import UTCDateTime

THEN = datetime(2025, 3, 1, 10, 0, tzinfo=UTC)
# PostgreSQL's bulk path only (SQLite writes with executemany): no SQLite run to skip.
pytestmark = pytest.mark.parametrize("engine", ["postgres"], indirect=True)


def _table(session: Session) -> Table:
    table = Table(
        "pg_bulk_probe",
        MetaData(),
        Column("id", String(36), primary_key=True),
        Column("code", String(16), unique=True),
        Column("at", UTCDateTime()),
        Column("doc", JSON),
        Column("n", Integer),
        Column("flag", Boolean),
        prefixes=["TEMPORARY"],
    )
    table.create(session.connection())  # dropped with the test's transaction
    return table


def _rows(session: Session, table: Table) -> dict[str, tuple[object, ...]]:
    query = select(table).order_by(table.c.id)
    return {r.id: (r.code, r.at, r.doc, r.n, r.flag) for r in session.execute(query)}


@pytest.fixture
def table(session: Session) -> Table:
    return _table(session)


def test_copy_stores_values_as_their_types_bind_them(session: Session, table: Table) -> None:
    paris = timezone(timedelta(hours=1))
    pg_bulk.copy(
        session,
        table,
        [
            {"id": "a", "code": "x", "at": THEN.astimezone(paris), "doc": {"k": ["v", 1]},
             "n": 3, "flag": True},
            {"id": "b", "code": "y", "at": None, "doc": {"quote": "a\tb\n\\\"{"}, "n": None,
             "flag": False},
        ],
    )  # fmt: skip
    assert _rows(session, table) == {
        "a": ("x", THEN, {"k": ["v", 1]}, 3, True),
        "b": ("y", None, {"quote": 'a\tb\n\\"{'}, None, False),
    }


def test_insert_missing_skips_rows_that_conflict(session: Session, table: Table) -> None:
    row = {"id": "a", "code": "x", "at": THEN, "doc": {}, "n": 1, "flag": True}
    pg_bulk.copy(session, table, [row])
    pg_bulk.insert_missing(
        session,
        table,
        [
            row | {"n": 2},  # the same key: kept as stored
            row | {"id": "b", "n": 3},  # another key, the same unique code: skipped
            row | {"id": "c", "code": "z", "n": None, "doc": {"new": True}},
        ],
    )
    assert _rows(session, table) == {
        "a": ("x", THEN, {}, 1, True),
        "c": ("z", THEN, {"new": True}, None, True),
    }


def test_a_type_psycopg_does_not_know_goes_as_text(session: Session) -> None:
    """Binary COPY needs every column's type by name; a type of the database's own (an enum
    here) sends the rows as text, which the server parses."""
    table = Table(
        "pg_bulk_moods",
        MetaData(),
        Column("id", String(36), primary_key=True),
        Column("mood", ENUM("calm", "glad", name="pg_bulk_mood")),
        prefixes=["TEMPORARY"],
    )
    table.create(session.connection())
    pg_bulk.copy(session, table, [{"id": "a", "mood": "calm"}])
    pg_bulk.insert_missing(session, table, [{"id": "a", "mood": "glad"}, {"id": "b", "mood": None}])
    stored = session.execute(select(table.c.id, table.c.mood).order_by(table.c.id)).all()
    assert [tuple(r) for r in stored] == [("a", "calm"), ("b", None)]


def test_update_and_stored(session: Session, table: Table) -> None:
    pg_bulk.copy(
        session,
        table,
        [{"id": i, "code": f"c{i}", "at": THEN, "doc": {}, "n": 0, "flag": False} for i in "abc"],
    )
    later = THEN + timedelta(days=1)
    pg_bulk.update(
        session, table, ["id"], [{"id": "a", "n": 5, "at": later}, {"id": "z", "n": 9, "at": None}]
    )
    assert _rows(session, table)["a"] == ("ca", later, {}, 5, False)
    assert _rows(session, table)["b"] == ("cb", THEN, {}, 0, False)
    assert pg_bulk.stored(session, table, "code", ["ca", "cc", "cz"]) == {"ca", "cc"}
    assert pg_bulk.stored(session, table, "code", ["ca", "cb"], n=5) == {"ca"}
    assert pg_bulk.stored(session, table, "code", []) == set()


def test_writes_join_the_session_transaction(session: Session, table: Table) -> None:
    """A savepoint rolled back takes the bulk rows with it: they are written on the session's
    own connection, in its transaction, and nothing is committed apart from it."""
    session.execute(table.insert().values(id="a", code="a", doc={}))
    with session.begin_nested() as savepoint:
        pg_bulk.copy(session, table, [{"id": str(uuid.uuid4()), "code": "b", "doc": {}}])
        assert len(_rows(session, table)) == 2
        savepoint.rollback()
    assert list(_rows(session, table)) == ["a"]


def test_a_bulk_copy_empties_the_requests_read_memo(session: Session, table: Table) -> None:
    """COPY bypasses the ORM's events: without emptying the memo, a read the request remembered
    before the import would answer with what the import just changed."""
    read_memo.remember(session)
    count = lambda: len(_rows(session, table))  # noqa: E731
    assert read_memo.remembered(session, ("count",), count) == 0
    pg_bulk.copy(
        session, table, [{"id": "a", "code": "a", "at": THEN, "doc": 1, "n": 1, "flag": True}]
    )
    assert read_memo.remembered(session, ("count",), count) == 1
