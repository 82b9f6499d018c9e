"""Fixtures: an Alembic-built database per backend, each test in a transaction rolled back."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.orm import Session, sessionmaker

from accord.app import create_app
from accord.core import migrate
from accord.core.db import Database
from accord.core.settings import Settings
from tests.builders import make_settings
from tests.databases import drop_created, fresh_engine, with_real_sqlite_transactions

BACKENDS = ["sqlite", "postgres"]


@pytest.fixture(scope="session", autouse=True)
def _drop_test_databases() -> Iterator[None]:
    yield
    drop_created()


@pytest.fixture(scope="session", params=BACKENDS)
def engine(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Engine]:
    """Built once per backend by running the migrations, as production does."""
    directory = tmp_path_factory.mktemp("db")
    eng = fresh_engine(request.param, directory, "suite")
    if request.param == "sqlite":
        with_real_sqlite_transactions(eng)  # the per-test rollback needs real savepoints
    migrate.upgrade(eng)
    yield eng
    eng.dispose()


class RolledBackDatabase(Database):
    """A Database whose sessions all live inside one outer transaction, rolled back at the end."""

    def __init__(self, engine: Engine, connection: Connection) -> None:
        self.engine = engine
        self.sessionmaker = sessionmaker(
            bind=connection, expire_on_commit=False, join_transaction_mode="create_savepoint"
        )


@pytest.fixture
def database(engine: Engine) -> Iterator[RolledBackDatabase]:
    connection = engine.connect()
    outer = connection.begin()
    try:
        yield RolledBackDatabase(engine, connection)
    finally:
        outer.rollback()
        connection.close()


@pytest.fixture
def session(database: RolledBackDatabase) -> Iterator[Session]:
    with database.session() as s:
        yield s


@pytest.fixture
def settings(tmp_path: Path, engine: Engine) -> Settings:
    return make_settings(engine=engine, tmp_path=tmp_path)


@pytest.fixture
def app(settings: Settings, database: RolledBackDatabase) -> FastAPI:
    return create_app(settings, database=database)


@pytest.fixture
def client(app: FastAPI) -> Iterator[TestClient]:
    with TestClient(app) as c:
        yield c


@pytest.fixture
def backend(engine: Engine) -> str:
    """'sqlite' or 'postgres', as tests.databases.fresh_engine names them."""
    return "postgres" if engine.dialect.name == "postgresql" else "sqlite"
