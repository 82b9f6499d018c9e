"""The change feed on PostgreSQL: an event whose transaction commits late is not skipped."""

from __future__ import annotations

import uuid
from pathlib import Path

from accord.consent import feed, ledger
from accord.core import migrate
from accord.core.db import Database
from accord.relationships import decisions
from accord.relationships.decisions import PORTAL
from accord.relationships.vocabulary import Purpose
from tests.builders import make_brand, make_person
from tests.databases import fresh_engine
from tests.waiting import wait_until


def _arrivals(
    db: Database, brand_id: uuid.UUID, cursor: str | None, expected: int
) -> tuple[list[int], str | None]:
    """Page the feed until `expected` events came (failing after a minute): any transaction still
    running in the cluster (another test, another database) holds the feed back a while."""
    arrived: list[int] = []

    def enough() -> bool:
        nonlocal cursor
        with db.session() as session:
            seen, cursor = feed.page(session, brand_id, cursor, 100)
        arrived.extend(e.id for e in seen)
        return len(arrived) >= expected

    wait_until(enough, timeout=60, what=f"{expected} events on the feed")
    return arrived, cursor


def test_a_late_commit_with_an_earlier_id_still_reaches_the_feed(tmp_path: Path) -> None:
    engine = fresh_engine("postgres", tmp_path, "feedorder")
    try:
        migrate.upgrade(engine)
        db = Database(engine)
        with db.transaction() as session:
            brand = make_brand(session)
            early, late = make_person(session), make_person(session)
            for person in (early, late):
                decisions.start(session, person.id, brand.id, PORTAL)
            brand_id, early_id, late_id = brand.id, early.id, late.id
        follows, cursor = _arrivals(db, brand_id, None, 2)
        assert len(follows) == 2
        slow = db.session()
        try:
            # The slow transaction takes its event id first and commits last.
            rel = decisions.get(slow, early_id, brand_id)
            assert decisions.set_purpose(slow, rel, Purpose.marketing, True, PORTAL)
            slow_id = ledger.events_for(slow, early_id)[-1].id
            with db.transaction() as session:
                rel = decisions.get(session, late_id, brand_id)
                assert decisions.set_purpose(session, rel, Purpose.marketing, True, PORTAL)
                fast_id = ledger.events_for(session, late_id)[-1].id
            assert slow_id < fast_id
            with db.session() as session:
                seen, cursor = feed.page(session, brand_id, cursor, 100)
            # Nothing past the running transaction yet: returning fast_id now would skip it.
            assert [e.id for e in seen] == []
            slow.commit()
        finally:
            slow.close()
        # Both arrive, the late commit included; what arrives later is never skipped.
        arrived, cursor = _arrivals(db, brand_id, cursor, 2)
        assert sorted(arrived) == [slow_id, fast_id]
        with db.session() as session:
            assert feed.page(session, brand_id, cursor, 100)[0] == []
    finally:
        engine.dispose()
