"""The engine's pool: never waits past its size, and an in-memory SQLite has none to size."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import text

from accord.core.db import Database, make_engine
from accord.core.settings import Settings


def test_an_in_memory_database_is_built_without_pool_sizes(tmp_path: Path) -> None:
    settings = Settings(var_dir=tmp_path, database_url="sqlite:///:memory:")
    db = Database.from_settings(settings)
    with db.engine.connect() as conn:
        assert conn.execute(text("SELECT 1")).scalar() == 1
    db.engine.dispose()


def test_a_file_database_opens_past_its_pool_size(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'pool.db'}", pool_size=1)
    try:
        held = [engine.connect() for _ in range(3)]  # a capped pool would wait here
        assert all(c.execute(text("SELECT 1")).scalar() == 1 for c in held)
        for conn in held:
            conn.close()
    finally:
        engine.dispose()
