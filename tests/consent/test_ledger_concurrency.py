"""On PostgreSQL, concurrent decisions for one person all land, as seq n, n+1, … (no fork)."""

from __future__ import annotations

import threading
from pathlib import Path

from accord.consent import ledger, verification
from accord.core import migrate
from accord.core.db import Database
from accord.relationships import decisions, global_prefs
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
