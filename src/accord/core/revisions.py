"""The schema revision of a database and of this code, read without SQLAlchemy or Alembic.

`accord db current` answers in about the time Python takes to import typer and pydantic
(bench/cli_start.py): the code's revision is read from the migration files' `revision` and
`down_revision` lines, the database's from `alembic_version` through the driver itself.
tests/core/test_revisions.py checks both against Alembic's own answers."""

from __future__ import annotations

import re
from pathlib import Path

VERSIONS_DIR = Path(__file__).resolve().parent.parent / "migrations" / "versions"
_ASSIGNMENT = re.compile(
    r'^(revision|down_revision)\s*(?::[^=]*)?=\s*(None|"[^"]*"|\'[^\']*\')', re.M
)


def head_revision(directory: Path = VERSIONS_DIR) -> str | None:
    """The one revision no other revision builds on (Accord's history is a line)."""
    revisions: set[str] = set()
    parents: set[str] = set()
    for path in directory.glob("*.py"):
        found = {m.group(1): m.group(2) for m in _ASSIGNMENT.finditer(path.read_text())}
        if "revision" not in found:
            continue
        revisions.add(found["revision"].strip("\"'"))
        parent = found.get("down_revision", "None")
        if parent != "None":
            parents.add(parent.strip("\"'"))
    heads = revisions - parents
    if len(heads) > 1:
        raise RuntimeError(f"the migrations have several heads: {sorted(heads)}")
    return heads.pop() if heads else None


def current_revision(url: str) -> str | None:
    """The revision stored in the database at `url` (None: no Accord schema yet).

    Only plain SQLite-file and PostgreSQL URLs are read directly; anything else raises
    ValueError so that the caller asks SQLAlchemy."""
    if url.startswith("sqlite:///") and "?" not in url:
        import sqlite3

        path = url.removeprefix("sqlite:///")
        if not path or path == ":memory:" or not Path(path).exists():
            return None
        with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as conn:
            return _read(conn.cursor(), missing=sqlite3.OperationalError)
    for prefix in ("postgresql://", "postgresql+psycopg://"):
        if url.startswith(prefix):
            import psycopg

            with psycopg.connect("postgresql://" + url.removeprefix(prefix)) as conn:
                return _read(conn.cursor(), missing=psycopg.errors.UndefinedTable)
    raise ValueError(f"not read directly: {url.split(':', 1)[0]}")


def _read(cursor: object, missing: type[Exception]) -> str | None:
    try:
        cursor.execute("SELECT version_num FROM alembic_version")  # type: ignore[attr-defined]
    except missing:
        return None
    row = cursor.fetchone()  # type: ignore[attr-defined]
    return str(row[0]) if row else None
