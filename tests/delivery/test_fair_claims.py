"""Claims are fair across brands (issue 17, part 2): a brand whose big campaign is queued first
and whose messages are slow to make or fail cannot hold another brand's mail back beyond its
share of one claim. Asserted on what was claimed and the order of hand-overs, not on time."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from accord.brands.models import Brand
from accord.core.settings import EmailBackend, Settings
from accord.delivery import claims
from accord.delivery.worker import Worker
from accord.outbox.models import OutboxMessage
from accord.people.models import Person
from accord.relationships.models import Topic
from tests.builders import make_brand, make_person, make_relationship, make_topic
from tests.conftest import RolledBackDatabase
from tests.smtp_sink import Sink, smtp_sink

NOW = datetime.now(UTC).replace(microsecond=0) + timedelta(minutes=10)
# Slow to make (just under the loop limit) and failing (refused when compiled).
SLOW = "{% for a in range(90) %}{% for b in range(100) %}{% endfor %}{% endfor %}slow"
FAILING = "{% include 'x' %}"
BATCH = 40


@pytest.fixture
def sink() -> Iterator[Sink]:
    with smtp_sink() as s:
        yield s


def people(session: Session, topic: Topic, n: int, prefix: str) -> list[Person]:
    brand = session.get_one(Brand, topic.brand_id)
    found = []
    for i in range(n):
        person = make_person(session, email=f"{prefix}{i}@fair.example")
        make_relationship(
            session,
            person=person,
            brand=brand,
            marketing=True,
            channels=("email",),
            topics_on=(topic,),
        )
        found.append(person)
    return found


def queue(
    session: Session, topic: Topic, audience: list[Person], at: datetime, texts: list[str]
) -> None:
    session.execute(
        insert(OutboxMessage),
        [
            {
                "brand_id": topic.brand_id,
                "person_id": person.id,
                "topic_id": topic.id,
                "channel": "email",
                "purpose": "marketing",
                "idempotency_key": f"fair:{person.id.hex}",
                "state": "queued",
                "not_before": at,
                "attempts": 0,
                "payload": {"subject": "News", "text": texts[i % len(texts)]},
            }
            for i, person in enumerate(audience)
        ],
    )


def test_a_slow_failing_brand_queued_first_does_not_hold_another_back(
    session: Session, database: RolledBackDatabase, settings: Settings, sink: Sink
) -> None:
    big, small = make_brand(session), make_brand(session)
    big.send_rate_per_second = small.send_rate_per_second = 100_000
    big_topic, small_topic = make_topic(session, brand=big), make_topic(session, brand=small)
    queue(
        session,
        big_topic,
        people(session, big_topic, 120, "big"),
        NOW - timedelta(minutes=5),
        [SLOW, FAILING],
    )
    small_people = people(session, small_topic, 10, "small")
    queue(session, small_topic, small_people, NOW, ["Hello"])
    session.commit()
    worker = Worker(
        database,
        settings.model_copy(
            update={
                "email_backend": EmailBackend.smtp,
                "smtp_host": sink.host,
                "smtp_port": sink.port,
                "worker_batch": BATCH,
            }
        ),
    )

    first = worker.run_once(NOW)

    # One claim: each brand at most half of it; all ten of the small brand's messages went.
    small_rows = session.scalars(
        select(OutboxMessage).where(OutboxMessage.brand_id == small.id)
    ).all()
    for row in small_rows:
        session.refresh(row)
    assert all(row.state == "sent" for row in small_rows)
    assert first.sent + first.failed == 10 + BATCH // 2
    # Handed over in turns: none of the small brand's waited behind more than one of big's.
    order = [str(m["To"]).startswith("small") for m in sink.messages]
    smalls = [i for i, is_small in enumerate(order) if is_small]
    assert len(smalls) == 10 and smalls[-1] < 2 * 10
    # The big brand's rows are still there for the next claims, slow ones sent, failing failed.
    while worker.run_once(NOW).total:
        pass
    big_rows = session.scalars(
        select(OutboxMessage)
        .where(OutboxMessage.brand_id == big.id)
        .execution_options(populate_existing=True)
    )
    states = sorted({(r.state, r.reason) for r in big_rows}, key=str)
    assert states == [("failed", "render_error"), ("sent", None)]


def test_brands_take_turns_within_a_claim_and_across_claims(
    session: Session, database: RolledBackDatabase
) -> None:
    """Three brands' rows queued one brand after the other: a claim takes an equal share of
    each, in turns; with more brands than a claim has room for, the next claim starts where
    the last one stopped."""
    brands = [make_brand(session) for _ in range(3)]
    topics = [make_topic(session, brand=b) for b in brands]
    for i, topic in enumerate(topics):
        queue(
            session,
            topic,
            people(session, topic, 6, f"b{i}-"),
            NOW - timedelta(minutes=3 - i),
            ["x"],
        )
    session.commit()
    brand_of = {
        row.id: row.brand_id
        for row in session.execute(select(OutboxMessage.id, OutboxMessage.brand_id))
    }
    with database.transaction() as tx:
        got = claims.claim(tx, owner="w", now=NOW, limit=9, lease=timedelta(seconds=60))
    order = [brand_of[row_id] for row_id, _ in got]
    assert len(got) == 9
    assert order[:3] == [b.id for b in brands] and order[3:6] == [b.id for b in brands]
    turn = claims.Turn()
    with database.transaction() as tx:
        first = claims.claim(
            tx, owner="w", now=NOW, limit=2, lease=timedelta(seconds=60), turn=turn
        )
    with database.transaction() as tx:
        second = claims.claim(
            tx, owner="w", now=NOW, limit=2, lease=timedelta(seconds=60), turn=turn
        )
    served = {brand_of[i] for i, _ in first}, {brand_of[i] for i, _ in second}
    assert len(served[0]) == 2 and len(served[1]) == 2
    assert served[0] | served[1] == {b.id for b in brands}
