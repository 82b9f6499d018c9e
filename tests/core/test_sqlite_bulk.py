"""`accord.core.sqlite_bulk`, SQLite's bulk INSERT of imports: one executemany of tuples in the
session's transaction, each value stored exactly as a Core INSERT of the same rows stores it
(`pg_bulk.bound`, which binds a column's few distinct values once)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from sqlalchemy import JSON, Boolean, Column, Integer, MetaData, String, Table, Uuid, text
from sqlalchemy.orm import Session

from accord.core import read_memo, sqlite_bulk
from accord.core.db import UTCDateTime

THEN = datetime(2025, 3, 1, 10, 0, tzinfo=UTC)
pytestmark = pytest.mark.parametrize("engine", ["sqlite"], indirect=True)


def _table(session: Session, name: str) -> Table:
    table = Table(
        name,
        MetaData(),
        Column("id", String(36), primary_key=True),
        Column("code", String(16), unique=True),
        Column("ref", Uuid()),
        Column("at", UTCDateTime()),
        Column("doc", JSON),
        Column("tag", JSON),
        Column("n", Integer),
        Column("flag", Boolean),
        prefixes=["TEMPORARY"],
    )
    table.create(session.connection())  # dropped with the test's connection
    return table


def _raw(session: Session, table: Table) -> list[tuple[Any, ...]]:
    """The stored values as SQLite holds them, not as the column types read them back."""
    query = f"SELECT id, code, ref, at, doc, tag, n, flag FROM {table.name} ORDER BY id"
    return [tuple(r) for r in session.execute(text(query))]


def _rows(count: int) -> list[dict[str, Any]]:
    paris = timezone(timedelta(hours=1))
    ref = uuid.uuid4()
    docs: list[Any] = [{"k": ["v", 1]}, True, 1, None, "é", [1.5]]
    return [
        {
            "id": f"r{i:03d}",
            "code": f"c{i}",
            # Repeated values (bound once) and distinct ones, zones other than UTC, and JSON
            # scalars equal in Python but not in JSON (True == 1).
            "ref": ref if i % 8 else uuid.uuid4(),
            "at": (THEN + timedelta(minutes=i % 2)).astimezone(paris) if i % 5 else None,
            "doc": docs[i % len(docs)],
            "tag": [True, 1, "x", None][i % 4],
            "n": i % 2,
            "flag": bool(i % 2) if i % 7 else None,
        }
        for i in range(count)
    ]


def test_insert_stores_what_a_core_insert_stores(session: Session) -> None:
    rows = _rows(80)
    core, bulk = _table(session, "core_probe"), _table(session, "bulk_probe")
    session.execute(core.insert(), rows)
    sqlite_bulk.insert(session, bulk, rows)
    assert _raw(session, bulk) == _raw(session, core)
    assert len(_raw(session, bulk)) == 80


def test_ignore_skips_rows_that_conflict(session: Session) -> None:
    table = _table(session, "bulk_probe")
    row: dict[str, Any] = {"id": "a", "code": "x", "ref": None, "at": THEN, "doc": {}, "n": 1}
    row |= {"tag": None, "flag": True}
    sqlite_bulk.insert(session, table, [row])
    sqlite_bulk.insert(
        session,
        table,
        [
            row | {"n": 2},  # the same key: kept as stored
            row | {"id": "b", "n": 3},  # another key, the same unique code: skipped
            row | {"id": "c", "code": "z", "n": None},
        ],
        ignore=True,
    )
    assert [(r[0], r[6]) for r in _raw(session, table)] == [("a", 1), ("c", None)]


def test_a_conflict_fails_without_ignore(session: Session) -> None:
    table = _table(session, "bulk_probe")
    row: dict[str, Any] = {"id": "a", "code": "x", "ref": None, "at": None, "doc": None}
    row |= {"tag": None, "n": 1, "flag": None}
    sqlite_bulk.insert(session, table, [row])
    with pytest.raises(Exception, match="UNIQUE"):
        sqlite_bulk.insert(session, table, [row | {"id": "b"}])


def test_columns_with_python_defaults_must_be_given(session: Session) -> None:
    table = Table(
        "defaults_probe",
        MetaData(),
        Column("id", Integer, primary_key=True),
        Column("token", Uuid(), default=uuid.uuid4),
        prefixes=["TEMPORARY"],
    )
    table.create(session.connection())
    with pytest.raises(ValueError, match="token"):
        sqlite_bulk.insert(session, table, [{"id": 1}])


def test_roomy_cache_is_put_back(session: Session) -> None:
    def cache_size() -> int:
        return int(session.execute(text("PRAGMA cache_size")).scalar_one())

    before = cache_size()
    with sqlite_bulk.roomy_cache(session, mebibytes=64):
        assert cache_size() == -64 * 1024
    assert cache_size() == before


def test_a_bulk_insert_empties_the_requests_read_memo(session: Session) -> None:
    """The executemany bypasses the ORM's events: without emptying the memo, a read the request
    remembered before the import would answer with what the import just changed."""
    table = _table(session, "bulk_memo")
    read_memo.remember(session)
    count = lambda: session.execute(text(f"SELECT count(*) FROM {table.name}")).scalar_one()  # noqa: E731
    assert read_memo.remembered(session, ("count",), count) == 0
    sqlite_bulk.insert(session, table, _rows(3))
    assert read_memo.remembered(session, ("count",), count) == 3
