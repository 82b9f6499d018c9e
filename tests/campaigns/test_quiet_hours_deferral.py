"""A message on an interruptive channel is deferred through the person's quiet hours, sent when
they end, and dropped as expired if its campaign ends first. (E-mail has no quiet hours; push
is the channel used here, handed to a real local push service.)"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from accord.core.settings import Settings
from accord.delivery.worker import Worker
from accord.outbox.models import OutboxMessage
from accord.people.models import ContactPoint
from accord.relationships import decisions, global_prefs
from accord.relationships.decisions import PORTAL
from accord.relationships.vocabulary import Channel, Purpose
from tests.builders import make_brand, make_person, make_relationship, make_topic
from tests.conftest import RolledBackDatabase
from tests.push_service import PushService, start_push_service

NIGHT = datetime(2026, 6, 1, 23, 0, tzinfo=UTC)  # 23:00 in UTC: inside 22:00-07:00


@pytest.fixture
def push_service() -> Iterator[PushService]:
    running = start_push_service()
    try:
        yield running
    finally:
        running.close()


def queue_push(
    session: Session, *, expires: datetime | None, push: PushService | None = None
) -> tuple[int, object]:
    brand = make_brand(session)
    topic = make_topic(session, brand=brand)
    person = make_person(session, time_zone="UTC")
    rel = make_relationship(session, person=person, brand=brand, marketing=True, topics_on=(topic,))
    decisions.set_channel(session, rel, Purpose.marketing, Channel.push, True, PORTAL)
    global_prefs.set_quiet_hours(session, person.id, "22:00", "07:00", PORTAL)
    sub = push.subscribe() if push is not None else None
    endpoint = str(sub["endpoint"]) if sub else "https://push.example/e1"
    session.add(
        ContactPoint(
            person_id=person.id,
            channel="push",
            address=endpoint,
            address_normalised=endpoint,
            verified_at=NIGHT,
            details=dict(sub["keys"]) if sub else {},
        )
    )
    row_id = session.execute(
        insert(OutboxMessage)
        .values(
            brand_id=brand.id,
            person_id=person.id,
            topic_id=topic.id,
            channel="push",
            purpose="marketing",
            idempotency_key=f"t:{person.id.hex}",
            state="queued",
            not_before=NIGHT,
            expires_at=expires,
            attempts=0,
            payload={"subject": "Night news", "text": "Hello"},
        )
        .returning(OutboxMessage.id)
    ).scalar_one()
    session.flush()
    return row_id, person


def test_deferred_through_quiet_hours_then_sent(
    session: Session, database: RolledBackDatabase, settings: Settings, push_service: PushService
) -> None:
    row_id, _ = queue_push(session, expires=None, push=push_service)
    worker = Worker(database, settings)
    worker.run_once(NIGHT)
    row = session.get_one(OutboxMessage, row_id)
    session.refresh(row)
    assert (row.state, row.reason) == ("deferred", "quiet_hours")
    assert row.not_before == datetime(2026, 6, 2, 7, 0, tzinfo=UTC)
    worker.run_once(NIGHT + timedelta(hours=2))  # still night: not due, nothing happens
    session.refresh(row)
    assert row.state == "deferred"
    worker.run_once(datetime(2026, 6, 2, 7, 1, tzinfo=UTC))
    session.refresh(row)
    assert row.state == "sent"
    (got,) = push_service.wait_for(1)
    assert got.json()["title"] == "Night news"


def test_a_campaign_that_expires_during_the_quiet_hours_drops_the_message(
    session: Session, database: RolledBackDatabase, settings: Settings
) -> None:
    row_id, _ = queue_push(session, expires=NIGHT + timedelta(hours=3))
    Worker(database, settings).run_once(NIGHT)
    row = session.scalars(select(OutboxMessage).where(OutboxMessage.id == row_id)).one()
    session.refresh(row)
    assert (row.state, row.reason) == ("skipped", "expired")
