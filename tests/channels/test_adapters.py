"""Push, in-app and webhook campaigns through the real worker, its gate re-check and the
channel interface: a real local push service, the inbox, a real webhook receiver."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from accord.core.settings import Settings
from accord.delivery.worker import Worker
from accord.inbox.models import InboxItem
from accord.outbox.models import OutboxMessage
from accord.people.models import ContactPoint
from accord.webhooks import dispatch, service
from tests.builders import make_api_key, make_brand, make_person, make_relationship, make_topic
from tests.conftest import RolledBackDatabase
from tests.push_service import PushService, start_push_service
from tests.waiting import drain
from tests.webhook_receiver import Receiver, start_receiver


@pytest.fixture
def push_service() -> Iterator[PushService]:
    running = start_push_service()
    try:
        yield running
    finally:
        running.close()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    running = start_receiver()
    try:
        yield running
    finally:
        running.close()


def _campaign(client: TestClient, key: str, topic: Any, channel: str) -> str:
    auth = {"authorization": f"Bearer {key}"}
    made = client.post(
        "/api/v1/campaigns",
        json={
            "name": f"{channel} news",
            "topic_id": str(topic.id),
            "channel": channel,
            "subject": "Hello {{ person.first_name }}",
            "text": "New in from {{ brand.name }}",
        },
        headers=auth,
    )
    assert made.status_code == 201, made.text
    campaign_id = made.json()["id"]
    sent = client.post(f"/api/v1/campaigns/{campaign_id}/send", headers=auth)
    assert sent.status_code in (200, 202), sent.text
    return str(campaign_id)


def _states(session: Session, campaign_id: str) -> list[tuple[str, str | None]]:
    session.expire_all()
    rows = session.execute(
        select(OutboxMessage.state, OutboxMessage.reason).where(
            OutboxMessage.campaign_id == uuid.UUID(campaign_id)
        )
    ).all()
    return sorted((state, reason) for state, reason in rows)


def test_an_inapp_campaign_lands_in_inboxes_once(
    client: TestClient, session: Session, database: RolledBackDatabase, settings: Settings
) -> None:
    brand = make_brand(session)
    _, key = make_api_key(session, brand=brand)
    topic = make_topic(session, brand=brand)
    fan, no_channel = make_person(session, display_name="Ann Lee"), make_person(session)
    make_relationship(
        session, person=fan, brand=brand, marketing=True, channels=("inapp",), topics_on=(topic,)
    )
    make_relationship(
        session,
        person=no_channel,
        brand=brand,
        marketing=True,
        channels=("email",),
        topics_on=(topic,),
    )
    campaign_id = _campaign(client, key, topic, "inapp")
    session.commit()
    drain(Worker(database, settings))
    assert _states(session, campaign_id) == [("delivered", None)]
    (item,) = session.scalars(select(InboxItem)).all()
    assert (item.person_id, item.title) == (fan.id, "Hello Ann")
    drain(Worker(database, settings))
    assert len(session.scalars(select(InboxItem)).all()) == 1


def test_a_push_campaign_reaches_the_browser_and_a_gone_one_is_suppressed(
    client: TestClient,
    session: Session,
    database: RolledBackDatabase,
    settings: Settings,
    push_service: PushService,
) -> None:
    from accord.people import contacts

    brand = make_brand(session)
    _, key = make_api_key(session, brand=brand)
    topic = make_topic(session, brand=brand)
    here, gone = make_person(session, display_name="Bo"), make_person(session, display_name="Cy")
    for person, behaviour in ((here, "ok"), (gone, "410")):
        make_relationship(
            session,
            person=person,
            brand=brand,
            marketing=True,
            channels=("push",),
            topics_on=(topic,),
        )
        sub = push_service.subscribe(behaviour)
        contacts.add_push(
            session,
            person.id,
            sub["endpoint"],
            sub["keys"]["p256dh"],
            sub["keys"]["auth"],
            allow_http=True,
        )
    campaign_id = _campaign(client, key, topic, "push")
    session.commit()
    drain(Worker(database, settings))
    (got,) = push_service.wait_for(1)
    assert got.json()["title"] == "Hello Bo"
    states = _states(session, campaign_id)
    assert [s for s, _ in states] == ["failed", "sent"], states
    point = session.scalars(
        select(ContactPoint).where(
            ContactPoint.person_id == gone.id, ContactPoint.channel == "push"
        )
    ).one()
    assert point.suppressed_reason is not None


def test_a_webhook_campaign_goes_to_the_brands_channel_endpoint(
    client: TestClient,
    session: Session,
    database: RolledBackDatabase,
    settings: Settings,
    receiver: Receiver,
) -> None:
    brand = make_brand(session)
    _, key = make_api_key(session, brand=brand)
    topic = make_topic(session, brand=brand)
    person = make_person(session, display_name="Di")
    make_relationship(
        session,
        person=person,
        brand=brand,
        marketing=True,
        channels=("webhook",),
        topics_on=(topic,),
    )
    endpoint = service.create_endpoint(
        session, settings, brand.id, url=receiver.url, event_types=[], is_channel=True
    )
    receiver.secret = endpoint.secret
    campaign_id = _campaign(client, key, topic, "webhook")
    session.commit()
    drain(Worker(database, settings))
    assert _states(session, campaign_id) == [("sent", None)]
    dispatch.drain(database, settings)
    (event,) = receiver.verified
    assert event["type"] == "message.deliver"
    assert event["data"]["person_id"] == str(person.id)
    assert event["data"]["subject"] == "Hello Di"


def test_brands_hear_of_messages_handed_over(
    client: TestClient,
    session: Session,
    database: RolledBackDatabase,
    settings: Settings,
    receiver: Receiver,
) -> None:
    brand = make_brand(session)
    _, key = make_api_key(session, brand=brand)
    topic = make_topic(session, brand=brand)
    person = make_person(session, display_name="Ed")
    make_relationship(
        session, person=person, brand=brand, marketing=True, channels=("inapp",), topics_on=(topic,)
    )
    endpoint = service.create_endpoint(
        session,
        settings,
        brand.id,
        url=receiver.url,
        event_types=["message.sent", "message.delivered"],
    )
    receiver.secret = endpoint.secret
    campaign_id = _campaign(client, key, topic, "inapp")
    session.commit()
    drain(Worker(database, settings))
    dispatch.drain(database, settings)
    (event,) = receiver.verified
    assert event["type"] == "message.delivered"
    assert event["data"]["campaign_id"] == campaign_id
    assert event["data"]["person_id"] == str(person.id)
