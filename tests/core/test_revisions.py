"""The fast revision reader (`accord db current`) gives Alembic's answers on both databases."""

from __future__ import annotations

from pathlib import Path

import pytest

from accord.core import migrate, revisions
from tests.databases import fresh_engine


@pytest.mark.parametrize("backend", ["sqlite", "postgres"])
def test_the_fast_reader_agrees_with_alembic(backend: str, tmp_path: Path) -> None:
    engine = fresh_engine(backend, tmp_path, "revisions")
    url = engine.url.render_as_string(hide_password=False)
    try:
        assert revisions.current_revision(url) is None == migrate.current_revision(engine)
        migrate.upgrade(engine, "0002")
        assert revisions.current_revision(url) == "0002" == migrate.current_revision(engine)
        migrate.upgrade(engine)
        assert revisions.current_revision(url) == migrate.current_revision(engine)
        assert revisions.head_revision() == migrate.head_revision(engine)
    finally:
        engine.dispose()


def test_head_is_the_revision_nothing_builds_on(tmp_path: Path) -> None:
    (tmp_path / "a.py").write_text('revision = "a1"\ndown_revision = None\n')
    (tmp_path / "b.py").write_text("revision: str = 'b2'\ndown_revision: str | None = 'a1'\n")
    assert revisions.head_revision(tmp_path) == "b2"
    (tmp_path / "c.py").write_text('revision = "c3"\ndown_revision = "a1"\n')
    with pytest.raises(RuntimeError, match="several heads"):
        revisions.head_revision(tmp_path)


def test_a_missing_sqlite_file_has_no_revision(tmp_path: Path) -> None:
    assert revisions.current_revision(f"sqlite:///{tmp_path}/none.db") is None
    assert not (tmp_path / "none.db").exists()
    with pytest.raises(ValueError):
        revisions.current_revision("mysql://x/y")
