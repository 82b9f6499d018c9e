"""On PostgreSQL, concurrent decisions for one person all land, as seq n, n+1, … (no fork)."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import psycopg
import pytest

from accord.consent import ledger, verification
from accord.core import migrate
from accord.core.db import Database
from accord.relationships import decisions, global_prefs, topic_change
from accord.relationships.decisions import PORTAL
from tests.builders import make_brand, make_person, make_topic
from tests.databases import fresh_engine

WRITERS = 8
EACH = 15


def test_parallel_decisions_for_one_person_chain_without_fork(tmp_path: Path) -> None:
    engine = fresh_engine("postgres", tmp_path, "concurrency")
    try:
        migrate.upgrade(engine)
        db = Database(engine)
        with db.transaction() as session:
            person = make_person(session)
            brand = make_brand(session)
            topics = [make_topic(session, brand=brand) for _ in range(WRITERS)]
            decisions.start(session, person.id, brand.id, PORTAL)
            person_id, brand_id, topic_ids = person.id, brand.id, [t.id for t in topics]
        barrier = threading.Barrier(WRITERS)
        errors: list[BaseException] = []

        def writer(index: int) -> None:
            try:
                barrier.wait()
                for n in range(EACH):
                    with db.transaction() as session:
                        rel = decisions.get(session, person_id, brand_id)
                        decisions.set_topic(session, rel, topic_ids[index], n % 2 == 0, PORTAL)
                        global_prefs.set_global_cap(session, person_id, index * 20 + n, PORTAL)
            except BaseException as exc:
                errors.append(exc)

        threads = [threading.Thread(target=writer, args=(i,)) for i in range(WRITERS)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert errors == []
        with db.session() as session:
            events = ledger.events_for(session, person_id)
            seqs = [e.seq for e in events]
            # 1 follow + WRITERS * EACH * 2 decisions, every one landed, in one unbroken chain.
            assert len(events) == 1 + WRITERS * EACH * 2
            assert seqs == list(range(1, len(events) + 1))
            assert verification.verify(session, subject=person_id)[1] == []
    finally:
        engine.dispose()


def test_a_topic_change_that_waited_for_the_lock_reads_what_was_decided_meanwhile(
    tmp_path: Path,
) -> None:
    """The preference change locks the head and reads the relationship in one statement
    (`ledger.HeldRead`), whose snapshot predates a decision that commits while it waits: it
    must see that decision all the same (the same topic turned on: nothing left to do)."""
    engine = fresh_engine("postgres", tmp_path, "heldread")
    try:
        migrate.upgrade(engine)
        db = Database(engine)
        with db.transaction() as session:
            person, brand = make_person(session), make_brand(session)
            topic = make_topic(session, brand=brand)
            decisions.start(session, person.id, brand.id, PORTAL)
            person_id, brand_id, topic_id = person.id, brand.id, topic.id
        first = db.session()
        rel = decisions.get(first, person_id, brand_id)
        assert decisions.set_topic(first, rel, topic_id, True, PORTAL)  # holds the lock
        answers: list[object] = []

        def second() -> None:
            try:
                with db.transaction() as session:
                    answers.append(
                        topic_change.change_topics(
                            session, person_id, brand_id, {topic_id: True}, PORTAL
                        )
                    )
            except BaseException as exc:
                answers.append(exc)

        waiting = threading.Thread(target=second)
        waiting.start()
        waiting.join(1.0)  # it waits for the lock
        assert waiting.is_alive()
        first.commit()
        first.close()
        waiting.join()
        assert len(answers) == 1 and not isinstance(answers[0], BaseException), answers
        assert answers[0].topics == [topic_id]  # type: ignore[attr-defined]
        with db.session() as session:
            assert [e.action for e in ledger.events_for(session, person_id)] == ["follow", "grant"]
            assert verification.verify(session, subject=person_id)[1] == []
    finally:
        engine.dispose()


@pytest.mark.parametrize("backend", ["sqlite", "postgres"])
def test_the_lock_the_held_read_takes_lasts_until_the_transaction_ends(
    tmp_path: Path, backend: str
) -> None:
    """Python's sqlite3 opens a transaction only before a statement that starts with INSERT,
    UPDATE, DELETE or REPLACE: a lock taken by any other statement would end with it."""
    engine = fresh_engine(backend, tmp_path, "heldlock")
    try:
        migrate.upgrade(engine)
        db = Database(engine)
        with db.transaction() as session:
            person, brand = make_person(session), make_brand(session)
            decisions.start(session, person.id, brand.id, PORTAL)
            person_id, brand_id = person.id, brand.id
        with db.session() as session:
            values = {"person": person_id, "brand": brand_id, "topic": None}
            assert ledger.hold_reading(session, person_id, topic_change._HELD, **values)
            dbapi: Any = session.connection().connection.dbapi_connection
            if backend == "sqlite":
                assert dbapi.in_transaction
            else:
                assert dbapi.info.transaction_status == psycopg.pq.TransactionStatus.INTRANS
            session.rollback()
    finally:
        engine.dispose()
