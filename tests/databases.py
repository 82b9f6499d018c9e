"""The two real databases the suite runs on: a SQLite file and a PostgreSQL database."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import psycopg
import pytest
from sqlalchemy import event
from sqlalchemy.engine import Engine

from accord.core.db import make_engine

PG_ADMIN_URL = os.environ.get("ACCORD_TEST_PG", "postgresql://postgres@127.0.0.1:5432/postgres")
IN_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}


def _worker() -> str:
    # The pid keeps two test runs on one machine (two shells, CI beside a developer) apart.
    return f"{os.environ.get('PYTEST_XDIST_WORKER', 'main')}_{os.getpid()}"


CREATED: list[str] = []


def drop_created() -> None:
    """Drop the databases this process created (called once at the end of the session)."""
    if not CREATED or not postgres_available():
        return
    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
        for name in CREATED:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    CREATED.clear()


def postgres_available() -> bool:
    try:
        with psycopg.connect(PG_ADMIN_URL, connect_timeout=3):
            return True
    except psycopg.OperationalError:
        return False


def require_postgres() -> None:
    """Skip without PostgreSQL on a laptop; in CI a missing server fails the run."""
    if postgres_available():
        return
    message = f"PostgreSQL is not reachable at {PG_ADMIN_URL}"
    if IN_CI:
        pytest.fail(message + " (CI=true: PostgreSQL tests must run)", pytrace=False)
    pytest.skip(message)


def fresh_postgres_url(name: str) -> str:
    """Drop and create a database of our own; return its SQLAlchemy URL."""
    require_postgres()
    dbname = f"accord_test_{name}_{_worker()}".lower()
    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{dbname}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{dbname}"')
    CREATED.append(dbname)
    base = PG_ADMIN_URL.rsplit("/", 1)[0]
    return f"{base}/{dbname}".replace("postgresql://", "postgresql+psycopg://", 1)


def fresh_sqlite_url(directory: Path, name: str) -> str:
    path = directory / f"{name}.db"
    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
    return f"sqlite:///{path}"


def fresh_engine(backend: str, directory: Path, name: str) -> Engine:
    if backend == "postgres":
        return make_engine(fresh_postgres_url(name))
    return make_engine(fresh_sqlite_url(directory, name))


def with_real_sqlite_transactions(engine: Engine) -> Engine:
    """pysqlite opens a transaction only at the first write, so a SAVEPOINT issued before it
    starts (and its RELEASE commits) a transaction of its own: the per-test rollback would
    leak. SQLAlchemy's documented recipe: let us emit BEGIN ourselves."""

    @event.listens_for(engine, "connect")
    def _autocommit_driver(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None

    @event.listens_for(engine, "begin")
    def _begin(connection: Any) -> None:
        connection.exec_driver_sql("BEGIN")

    return engine
