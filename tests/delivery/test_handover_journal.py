"""The PostgreSQL hand-over journal's own connection: what it writes, found again by a chunk,
and the connection given back to the pool as it was lent (no `synchronous_commit = off` for
whoever borrows it next, no prepared statement in the way of the next journal)."""

from __future__ import annotations

from datetime import UTC, datetime
from types import SimpleNamespace

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from accord.delivery.channels.base import Verdict
from accord.delivery.email_channel import key_digest
from accord.delivery.journal import Entry, PostgresJournal

ROW = SimpleNamespace(id=-917_001, idempotency_key="test:journal:pool")


def _one_connection(engine: Engine) -> Engine:
    """The suite's database through a pool of one: every checkout is the same connection."""
    return create_engine(engine.url, pool_size=1, max_overflow=0)


def test_the_journal_writes_what_a_chunk_finds_again(engine: Engine, session: Session) -> None:
    if engine.dialect.name != "postgresql":
        pytest.skip("the SQLite journal is a file of its own")
    own = _one_connection(engine)
    journal = PostgresJournal(own)
    at = datetime(2026, 12, 5, 21, 30, 15, 123456, tzinfo=UTC)
    try:
        journal.record(ROW, "a@example.com", Verdict.sent("ref-1"), at)
        journal.record(ROW, "a@example.com", Verdict.sent("ref-1"), at)  # a retry: no error
        found = journal.found(session, [ROW])
        assert found == {ROW.id: Entry("sent", at, "ref-1")}
        digest = session.scalar(
            text("SELECT digest FROM outbox_handovers WHERE outbox_id = :id"), {"id": ROW.id}
        )
        assert digest == key_digest(ROW.idempotency_key)
    finally:
        journal.close()
        with own.begin() as connection:
            connection.execute(
                text("DELETE FROM outbox_handovers WHERE outbox_id = :id"), {"id": ROW.id}
            )
        own.dispose()


def test_the_journal_gives_its_connection_back_as_it_was_lent(engine: Engine) -> None:
    if engine.dialect.name != "postgresql":
        pytest.skip("the SQLite journal is a file of its own")
    own = _one_connection(engine)
    at = datetime.now(UTC)
    try:
        for _ in range(2):  # the second journal gets the same connection back, and prepares again
            journal = PostgresJournal(own)
            journal.record(ROW, "a@example.com", Verdict.sent(), at)
            journal.close()
        with own.connect() as connection:
            assert connection.exec_driver_sql("SHOW synchronous_commit").scalar_one() == "on"
            prepared = connection.exec_driver_sql(
                "SELECT count(*) FROM pg_prepared_statements WHERE name = 'accord_handover'"
            ).scalar_one()
            assert prepared == 0
    finally:
        with own.begin() as connection:
            connection.execute(
                text("DELETE FROM outbox_handovers WHERE outbox_id = :id"), {"id": ROW.id}
            )
        own.dispose()
