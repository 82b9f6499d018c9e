"""The hand-over journal: every message a channel took outside the database (an SMTP server's
250, a provider's 2xx) is written down durably before the next message is handed over, so a
worker that is killed or cut off from the database mid-chunk re-sends at most the one message
it had in flight (with the same Message-ID), never the ones before it.

A chunk's outcomes are written in one transaction at its end (the hand-overs are checked by the
gate under the people's ledger-head locks, held until then). The journal is what survives a
chunk that never commits: the next worker to claim those rows finds them here and records them
as sent without handing them over again.

- PostgreSQL: the `outbox_handovers` table, written by an autocommitted INSERT on a connection
  of the journal's own (a small write per message, no lock shared with the chunk: the table has
  no foreign key; `synchronous_commit = off`, see `PostgresJournal`); read and emptied inside
  the chunk's own transaction, atomically with the rows' outcomes. A lost connection is opened
  again and the write retried.
- SQLite: the chunk holds the database's single write lock, so the journal is a second SQLite
  file beside the database (`<database>-handovers`), autocommitted (WAL: each write survives a
  killed process), emptied once the chunk has committed.
"""

from __future__ import annotations

import contextlib
import logging
import sqlite3
import threading
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from select import select as wait_on
from typing import Any

from psycopg.pq import DiagnosticField, ExecStatus
from psycopg.pq.abc import PGconn
from sqlalchemy import delete, select
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.orm import Session

from accord.delivery.channels.base import Verdict
from accord.delivery.outcomes import OutboxRow
from accord.outbox.models import OutboxHandover

log = logging.getLogger("accord.worker")
# A write that fails this many times (each on a new connection) stops the chunk: its message
# is the one in flight, re-sent after the lease.
ATTEMPTS = 3


@dataclass(frozen=True)
class Entry:
    """A hand-over on record: what the row's outcome is, without handing it over again."""

    status: str
    sent_at: datetime
    provider_ref: str | None


class Journal:
    """Where hand-overs are written down as they happen (`record`), found again by the chunk
    that claims their rows after a fault (`found`), and forgotten once the rows' outcomes are
    committed (`forget` inside the chunk's transaction, `settled` after it)."""

    def record(self, row: OutboxRow, address: str, verdict: Verdict, at: datetime) -> None:
        raise NotImplementedError

    def found(self, session: Session, rows: Iterable[OutboxRow]) -> dict[int, Entry]:
        raise NotImplementedError

    def forget(self, session: Session, ids: list[int]) -> None:
        """Inside the chunk's transaction."""

    def settled(self, ids: list[int]) -> None:
        """After the chunk's transaction committed."""

    def close(self, *, lost: bool = False) -> None:
        return None


def _match(rows: Iterable[OutboxRow], entries: Iterable[Any]) -> dict[int, Entry]:
    """Entries of `rows`, by id, whose key digest is the row's (an entry outlives nothing else:
    a row id used again after a rollback is another message)."""
    from accord.delivery.email_channel import key_digest

    by_id = {row.id: row for row in rows}
    found: dict[int, Entry] = {}
    for outbox_id, digest, status, sent_at, provider_ref in entries:
        row = by_id.get(outbox_id)
        if row is not None and key_digest(row.idempotency_key) == digest:
            found[outbox_id] = Entry(status, sent_at, provider_ref)
    return found


# `ON CONFLICT DO NOTHING`: a retry after a write that did land. Prepared once per connection
# under this name, and given back to the pool without it (`close`).
_NAME = b"accord_handover"
_INSERT = (
    b"INSERT INTO outbox_handovers (outbox_id, digest, status, sent_at, provider_ref) "
    b"VALUES ($1::int8, $2::varchar, $3::varchar, $4::timestamptz, $5::varchar) "
    b"ON CONFLICT DO NOTHING"
)
_DUPLICATE_PREPARED = "42P05"  # a pooled connection that still has it (not given back cleanly)


class JournalWriteError(Exception):
    """The server refused a journal write, or the connection broke during it."""

    def __init__(self, detail: str, sqlstate: str = "") -> None:
        super().__init__(detail)
        self.sqlstate = sqlstate


def _run(pgconn: PGconn) -> None:
    """Wait for the one command sent on `pgconn` and check that it worked. The wait is on the
    socket (the GIL released: `accord serve` runs its worker in a thread)."""
    fd = pgconn.socket
    while pgconn.flush():  # nearly always sent at once; else the socket's buffer was full
        wait_on([fd], [fd], [])
    pgconn.consume_input()
    while pgconn.is_busy():
        wait_on([fd], [], [])
        pgconn.consume_input()
    failed = None
    while (result := pgconn.get_result()) is not None:
        if result.status != ExecStatus.COMMAND_OK and failed is None:
            failed = result
    if failed is not None:
        sqlstate = failed.error_field(DiagnosticField.SQLSTATE) or b""
        detail = (failed.error_message or pgconn.error_message).decode(errors="replace")
        raise JournalWriteError(f"hand-over journal: {detail.strip()}", sqlstate.decode())


class PostgresJournal(Journal):
    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.connection: Connection | None = None
        self.pgconn: PGconn | None = None

    def _writer(self) -> PGconn:
        """The journal's own connection, at libpq level: each write is one prepared
        statement's execution with its parameters as text. On every hand-over's path, so it
        matters: two fifths of the CPU of a driver cursor (no cursor, no adaptation, no SQL
        conversion) and about half its wait."""
        if self.pgconn is not None:
            return self.pgconn
        connection = self.engine.connect().execution_options(isolation_level="AUTOCOMMIT")
        self.connection = connection
        # A commit in the server's memory before its disk: it outlives the worker and the
        # worker's connection (the faults the journal is for), at a fifth of the time per
        # message of waiting for the disk; only a crash of PostgreSQL itself within a fraction
        # of a second could lose the last entries. Reset before the connection goes back.
        connection.exec_driver_sql("SET synchronous_commit = off")
        driver = connection.connection.dbapi_connection
        assert driver is not None
        pgconn: PGconn = driver.pgconn
        pgconn.send_prepare(_NAME, _INSERT)
        try:
            _run(pgconn)
        except JournalWriteError as exc:
            if exc.sqlstate != _DUPLICATE_PREPARED:
                raise
        self.pgconn = pgconn
        return pgconn

    def record(self, row: OutboxRow, address: str, verdict: Verdict, at: datetime) -> None:
        from accord.delivery.email_channel import key_digest

        ref = verdict.provider_ref
        params: list[bytes | None] = [
            str(row.id).encode(),
            key_digest(row.idempotency_key).encode(),
            verdict.status.encode(),
            at.isoformat().encode(),
            ref.encode() if ref is not None else None,
        ]
        for attempt in range(1, ATTEMPTS + 1):
            try:
                pgconn = self._writer()
                pgconn.send_query_prepared(_NAME, params)
                _run(pgconn)
                return
            except Exception:
                self.close(lost=True)  # terminated, network: the next attempt opens another
                if attempt == ATTEMPTS:
                    raise
                log.warning("hand-over journal: write failed, retrying on a new connection")

    def found(self, session: Session, rows: Iterable[OutboxRow]) -> dict[int, Entry]:
        rows = list(rows)
        h = OutboxHandover
        entries = session.execute(
            select(h.outbox_id, h.digest, h.status, h.sent_at, h.provider_ref).where(
                h.outbox_id.in_([row.id for row in rows])
            )
        ).all()
        return _match(rows, entries) if entries else {}

    def forget(self, session: Session, ids: list[int]) -> None:
        session.execute(delete(OutboxHandover).where(OutboxHandover.outbox_id.in_(ids)))

    def close(self, *, lost: bool = False) -> None:
        """Give the connection back (the worker is idle) as it was lent, or drop it (`lost`)."""
        connection, pgconn = self.connection, self.pgconn
        self.connection = self.pgconn = None
        if connection is None:
            return
        try:
            if not lost and pgconn is not None:
                # Back in the pool it may commit anything: with the server's default again.
                pgconn.send_query(b"RESET synchronous_commit; DEALLOCATE " + _NAME)
                _run(pgconn)
        except Exception:  # it cannot go back as it was lent
            lost = True
        with contextlib.suppress(Exception):  # a connection already gone is what we drop
            if lost:
                connection.invalidate()
            connection.close()


class SqliteJournal(Journal):
    SCHEMA = (
        "CREATE TABLE IF NOT EXISTS handovers (outbox_id INTEGER PRIMARY KEY, digest TEXT NOT "
        "NULL, status TEXT NOT NULL, sent_at TEXT NOT NULL, provider_ref TEXT)"
    )

    def __init__(self, path: Path) -> None:
        self.path = path
        self.lock = threading.Lock()
        self.db = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        for pragma in ("journal_mode=WAL", "synchronous=NORMAL", "busy_timeout=10000"):
            self.db.execute(f"PRAGMA {pragma}")
        self.db.execute(self.SCHEMA)

    def record(self, row: OutboxRow, address: str, verdict: Verdict, at: datetime) -> None:
        from accord.delivery.email_channel import key_digest

        with self.lock:
            self.db.execute(
                "INSERT OR REPLACE INTO handovers VALUES (?, ?, ?, ?, ?)",
                (
                    row.id,
                    key_digest(row.idempotency_key),
                    verdict.status,
                    at.isoformat(),
                    verdict.provider_ref,
                ),
            )

    def found(self, session: Session, rows: Iterable[OutboxRow]) -> dict[int, Entry]:
        rows = list(rows)
        ids = [row.id for row in rows]
        with self.lock:
            entries = [
                (i, d, s, datetime.fromisoformat(t), p)
                for chunk in range(0, len(ids), 500)
                for i, d, s, t, p in self.db.execute(
                    "SELECT outbox_id, digest, status, sent_at, provider_ref FROM handovers "
                    f"WHERE outbox_id IN ({','.join('?' * len(ids[chunk : chunk + 500]))})",
                    ids[chunk : chunk + 500],
                )
            ]
        return _match(rows, entries) if entries else {}

    def settled(self, ids: list[int]) -> None:
        with self.lock:
            for chunk in range(0, len(ids), 500):
                part = ids[chunk : chunk + 500]
                self.db.execute(
                    f"DELETE FROM handovers WHERE outbox_id IN ({','.join('?' * len(part))})", part
                )

    def close(self, *, lost: bool = False) -> None:
        return None  # one connection for the worker's life: a file, nothing to drop


def open_for(engine: Engine) -> Journal | None:
    """The journal of the database behind `engine`; None for an in-memory SQLite database
    (nothing survives its process anyway)."""
    if engine.dialect.name == "postgresql":
        return PostgresJournal(engine)
    database = engine.url.database
    if engine.dialect.name == "sqlite" and database and database != ":memory:":
        return SqliteJournal(Path(f"{database}-handovers"))
    return None
