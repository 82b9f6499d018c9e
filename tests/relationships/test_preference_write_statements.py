"""How many SQL statements one preference change costs (a regression guard)."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from accord.consent.models import LedgerEvent
from tests.builders import make_brand, make_topic
from tests.helpers import statements_run as statements
from tests.relationships.test_person_api import signed_in

# Seen by the engine (they run on the DBAPI cursor, `accord.core.direct`, which the engine's
# listeners still see): the person's ledger head locked and read; the relationship with its
# brand, the topic, the person's choices (the answer is built from them and the decision) and
# whether the brand's webhooks listen (they do not here: their endpoints are not read), on
# PostgreSQL by the lock's own statement (`consent.hold_reading`); the choice written, the head
# moved and the event inserted (one statement on PostgreSQL, three on SQLite: `consent.Along`).
# The caller's sign-in is checked by the relationship's read too (`people.deps.person_to_check`).
STATEMENTS_PER_TOPIC_CHANGE = {"postgresql": 2, "sqlite": 5}


def test_one_topic_change_costs_two_or_five_statements(
    client: TestClient, session: Session, engine: Engine
) -> None:
    _, csrf = signed_in(client, session)
    brand = make_brand(session)
    topic = make_topic(session, brand=brand)
    client.post("/api/v1/me/relationships", json={"brand": brand.slug}, headers=csrf)
    path = f"/api/v1/me/relationships/{brand.id}"
    before = session.scalar(select(func.count()).select_from(LedgerEvent))
    for on in (True, False, True):
        with statements(engine) as seen:
            answer = client.patch(path, json={"topics": {str(topic.id): on}}, headers=csrf)
        assert answer.status_code == 200, answer.text
        assert answer.json()["topics"] == ([str(topic.id)] if on else [])
        assert len(seen) <= STATEMENTS_PER_TOPIC_CHANGE[engine.dialect.name], "\n".join(seen)
    assert session.scalar(select(func.count()).select_from(LedgerEvent)) == (before or 0) + 3
