"""A request that SQLite refuses for a lock runs again from the start, with its body, and
answers as if nothing had happened; an error of another kind is not retried."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.testclient import TestClient

from accord.core.web.busy_retry import is_busy
from accord.core.web.edge import Edge


def _snapshot_conflict(path: Path) -> None:
    """Provoke a real SQLITE_BUSY: read (a snapshot), let another connection commit a write,
    then try to write from the stale snapshot (SQLite refuses at once, whatever the timeout)."""
    reader = sqlite3.connect(path, isolation_level=None, timeout=0.1)
    writer = sqlite3.connect(path, isolation_level=None)
    try:
        reader.execute("BEGIN")
        reader.execute("SELECT count(*) FROM t").fetchone()
        writer.execute("INSERT INTO t VALUES ('other')")
        reader.execute("INSERT INTO t VALUES ('stale')")
    finally:
        reader.close()
        writer.close()


def _app(path: Path) -> tuple[FastAPI, list[str]]:
    seen: list[str] = []
    app = FastAPI()

    @app.post("/write")
    async def write(request: Request) -> dict[str, str]:
        body = (await request.body()).decode()
        # The retry starts from the session as the request brought it (empty here).
        seen.append(f"{body} {sorted(request.session)}")
        request.session["attempt"] = len(seen)
        if len(seen) == 1:
            _snapshot_conflict(path)  # raises sqlite3.OperationalError: database is locked
        with sqlite3.connect(path, isolation_level=None) as conn:
            conn.execute("INSERT INTO t VALUES (?)", (body,))
        return {"stored": body}

    @app.post("/broken")
    async def broken() -> None:
        raise sqlite3.OperationalError("no such table: nowhere")

    app.add_middleware(
        Edge, https=False, max_bytes=10_000, secret_key="test", session_cookie="s",
        max_age=3600, sqlite=True,
    )  # fmt: skip
    return app, seen


def test_a_busy_request_runs_again_with_its_body(tmp_path: Path) -> None:
    path = tmp_path / "busy.db"
    with sqlite3.connect(path) as conn:
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("CREATE TABLE t (v TEXT)")
    app, seen = _app(path)
    with TestClient(app) as client:
        response = client.post("/write", content=b"mine")
    assert response.status_code == 200 and response.json() == {"stored": "mine"}
    assert seen == ["mine []", "mine []"]
    with sqlite3.connect(path) as conn:
        rows = sorted(v for (v,) in conn.execute("SELECT v FROM t"))
    assert rows == ["mine", "other"]  # the stale write never landed; the retry's did


def test_other_errors_are_not_retried(tmp_path: Path) -> None:
    app, _ = _app(tmp_path / "unused.db")
    with TestClient(app, raise_server_exceptions=False) as client:
        assert client.post("/broken").status_code == 500
    assert not is_busy(sqlite3.OperationalError("no such table: nowhere"))
    assert is_busy(sqlite3.OperationalError("database is locked"))
