"""Migrations: upgrade, downgrade, upgrade on both databases; models match; behind is caught."""

from __future__ import annotations

from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect

from accord.app import create_app
from accord.core import migrate
from accord.core.errors import SchemaBehind
from accord.core.settings import Settings
from accord.models import metadata
from tests.databases import fresh_engine


@pytest.mark.parametrize("backend", ["sqlite", "postgres"])
def test_upgrade_downgrade_upgrade_and_models_match(backend: str, tmp_path: Path) -> None:
    engine = fresh_engine(backend, tmp_path, "migrations")
    try:
        migrate.upgrade(engine)
        tables = set(inspect(engine).get_table_names())
        assert set(metadata.tables) <= tables
        migrate.downgrade(engine, "base")
        assert set(inspect(engine).get_table_names()) <= {"alembic_version"}
        migrate.upgrade(engine)
        with engine.connect() as connection:
            context = MigrationContext.configure(connection, opts={"compare_type": True})
            diff = compare_metadata(context, metadata)
        assert diff == [], f"models and migrations differ: {diff}"
        migrate.ensure_current(engine)
    finally:
        engine.dispose()


@pytest.mark.parametrize("backend", ["sqlite", "postgres"])
def test_starting_on_a_schema_behind_says_what_to_run(backend: str, tmp_path: Path) -> None:
    engine = fresh_engine(backend, tmp_path, "behind")
    try:
        with pytest.raises(SchemaBehind, match="accord db upgrade"):
            create_app(Settings(var_dir=tmp_path, secret_key="k"), database=_db(engine))  # type: ignore[arg-type]
        migrate.upgrade(engine)
        with engine.begin() as connection:
            connection.exec_driver_sql("UPDATE alembic_version SET version_num = 'old'")
        with pytest.raises(SchemaBehind, match="at schema revision old"):
            migrate.ensure_current(engine)
    finally:
        engine.dispose()


def _db(engine):  # type: ignore[no-untyped-def]
    from accord.core.db import Database

    return Database(engine)
