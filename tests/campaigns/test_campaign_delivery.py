"""Campaigns end to end over real SMTP: preview by reason, send once, the worker's re-check,
one-click headers, cancel, transactional messages."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from accord.brands.models import Brand
from accord.core.db import utcnow
from accord.core.settings import EmailBackend, Settings
from accord.delivery.worker import Worker
from accord.outbox.models import OutboxMessage
from accord.people.models import Person
from accord.relationships import decisions
from accord.relationships.decisions import PORTAL
from accord.relationships.models import Topic
from tests.builders import make_api_key, make_brand, make_person, make_relationship, make_topic
from tests.conftest import RolledBackDatabase
from tests.smtp_sink import Sink, smtp_sink, text_of
from tests.waiting import drain


@pytest.fixture
def sink() -> Iterator[Sink]:
    with smtp_sink() as s:
        yield s


@pytest.fixture
def smtp_settings(settings: Settings, sink: Sink) -> Settings:
    return settings.model_copy(
        update={"email_backend": EmailBackend.smtp, "smtp_host": sink.host, "smtp_port": sink.port}
    )


def bearer(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


def world(session: Session) -> tuple[Brand, str, Topic, list[Person]]:
    brand = make_brand(session)
    _, key = make_api_key(session, brand=brand)
    topic = make_topic(session, brand=brand, name="Jazz news")
    people = [make_person(session, display_name=f"Person {i}") for i in range(6)]
    for person in people[:4]:
        make_relationship(
            session,
            person=person,
            brand=brand,
            marketing=True,
            channels=("email",),
            topics_on=(topic,),
        )
    make_relationship(
        session, person=people[4], brand=brand, marketing=True, channels=("email",)
    )  # no topic
    make_relationship(session, person=people[5], brand=brand)  # no consent
    return brand, key, topic, people


def campaign_body(topic: Topic, **over: object) -> dict[str, object]:
    return {
        "name": "Spring",
        "topic_id": str(topic.id),
        "subject": "Hello {{ person.first_name }}",
        "text": "New {{ topic.name }} from {{ brand.name }}.",
        "html": "<p>Hi {{ person.name }}</p>",
    } | over


def test_preview_send_once_and_deliver(
    client: TestClient,
    session: Session,
    database: RolledBackDatabase,
    smtp_settings: Settings,
    sink: Sink,
) -> None:
    _brand, key, topic, _people = world(session)
    created = client.post("/api/v1/campaigns", json=campaign_body(topic), headers=bearer(key))
    assert created.status_code == 201, created.text
    cid = created.json()["id"]
    preview = client.get(f"/api/v1/campaigns/{cid}/preview", headers=bearer(key)).json()
    assert preview["eligible"] == 4
    assert preview["excluded"] == {"topic_not_chosen": 1, "no_marketing_consent": 1}
    for _ in range(3):  # double click, retried request
        assert (
            client.post(f"/api/v1/campaigns/{cid}/send", headers=bearer(key)).json()["state"]
            == "scheduled"
        )
    worker = Worker(database, smtp_settings)
    outcome = drain(worker)
    assert outcome.sent == 4
    assert len(sink.messages) == 4
    ids = {m["Message-ID"] for m in sink.messages}
    assert len(ids) == 4
    message = sink.messages[0]
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert "/u/" in message["List-Unsubscribe"] and "mailto:" in message["List-Unsubscribe"]
    text = text_of(message)
    assert "1 Test Street" in text and "New Jazz news from" in text
    assert message["Subject"].startswith("Hello Person")
    report = client.get(f"/api/v1/campaigns/{cid}/report", headers=bearer(key)).json()
    assert report["states"]["sent"] == 4 and report["audience"]["eligible"] == 4
    assert client.get(f"/api/v1/campaigns/{cid}", headers=bearer(key)).json()["state"] == "done"
    assert drain(worker).sent == 0 and len(sink.messages) == 4


def resolved_campaign(
    client: TestClient, key: str, topic: Topic, database: RolledBackDatabase, settings: Settings
) -> tuple[str, Worker]:
    """A campaign created and sent through the API and resolved into the outbox; nothing sent."""
    cid = client.post("/api/v1/campaigns", json=campaign_body(topic), headers=bearer(key)).json()
    client.post(f"/api/v1/campaigns/{cid['id']}/send", headers=bearer(key))
    worker = Worker(database, settings)
    worker.schedule(utcnow())
    return cid["id"], worker


def test_withdrawal_after_resolution_stops_the_message(
    client: TestClient,
    session: Session,
    database: RolledBackDatabase,
    smtp_settings: Settings,
    sink: Sink,
) -> None:
    brand, key, topic, people = world(session)
    _cid, worker = resolved_campaign(client, key, topic, database, smtp_settings)
    rel = decisions.get(session, people[0].id, brand.id)  # type: ignore[attr-defined]
    decisions.set_topic(session, rel, topic.id, False, PORTAL)  # type: ignore[attr-defined]
    decisions.pause(session, decisions.get(session, people[1].id, brand.id), None, PORTAL)  # type: ignore[attr-defined]
    session.commit()
    drain(worker)
    assert len(sink.messages) == 2
    reasons = dict(
        session.execute(
            select(OutboxMessage.person_id, OutboxMessage.reason).where(
                OutboxMessage.state == "skipped"
            )
        ).all()
    )
    assert reasons == {people[0].id: "topic_not_chosen", people[1].id: "paused"}  # type: ignore[attr-defined]


def test_cancel_stops_what_was_not_handed_over(
    client: TestClient,
    session: Session,
    database: RolledBackDatabase,
    smtp_settings: Settings,
    sink: Sink,
) -> None:
    _brand, key, topic, _people = world(session)
    cid, worker = resolved_campaign(client, key, topic, database, smtp_settings)
    assert (
        client.post(f"/api/v1/campaigns/{cid}/cancel", headers=bearer(key)).json()["state"]
        == "cancelled"
    )
    drain(worker)
    assert sink.messages == []
    assert session.scalar(select(func.count()).where(OutboxMessage.state == "cancelled")) == 4


def test_bad_campaign_input_writes_nothing(client: TestClient, session: Session) -> None:
    _brand, key, topic, _ = world(session)
    other_topic = make_topic(session, brand=make_brand(session))
    past = (utcnow() - timedelta(days=1)).isoformat()
    soon = (utcnow() + timedelta(days=1)).isoformat()
    cases = [
        (campaign_body(other_topic), 404, "topic"),
        (campaign_body(topic, text="Hi {{ person.email }}"), 422, "text"),
        (campaign_body(topic, subject="{{ secret }}"), 422, "subject"),
        (campaign_body(topic, html="<p>{% for x in %}</p>"), 422, "html"),
        (campaign_body(topic, subject=""), 422, "subject"),
        (campaign_body(topic, subject="Two\nlines"), 422, "subject"),
        (campaign_body(topic, schedule={"kind": "at", "at": past}), 422, "schedule.at"),
        (
            campaign_body(topic, schedule={"kind": "at", "at": soon}, expires_at=past),
            422,
            "expires_at",
        ),
        (campaign_body(topic, html="x" * 200_001), 422, "html"),
    ]
    for body, status, field in cases:
        response = client.post("/api/v1/campaigns", json=body, headers=bearer(key))
        assert response.status_code == status, (field, response.text)
        assert response.json()["field"] == field, response.json()
    from accord.campaigns.models import Campaign

    assert session.scalar(select(func.count()).select_from(Campaign)) == 0


def test_transactional_message_needs_a_transactional_topic_and_key(
    client: TestClient,
    session: Session,
    database: RolledBackDatabase,
    smtp_settings: Settings,
    sink: Sink,
) -> None:
    brand, key, topic, people = world(session)
    orders = make_topic(session, brand=brand, purpose="transactional", name="Orders")
    body = {
        "topic_id": str(orders.id),
        "person_id": str(people[5].id),
        "subject": "Order 42",
        "text": "Thanks!",
    }  # type: ignore[attr-defined]
    assert (
        client.post("/api/v1/messages", json=body, headers=bearer(key)).json()["field"]
        == "Idempotency-Key"
    )
    marketing = client.post(
        "/api/v1/messages",
        json=body | {"topic_id": str(topic.id)},  # type: ignore[attr-defined]
        headers=bearer(key) | {"Idempotency-Key": "x1"},
    )
    assert marketing.status_code == 422 and marketing.json()["field"] == "topic_id"
    headers = bearer(key) | {"Idempotency-Key": "order-42"}
    first = client.post("/api/v1/messages", json=body, headers=headers)
    again = client.post("/api/v1/messages", json=body, headers=headers)
    assert first.status_code == again.status_code == 202 and first.json() == again.json()
    drain(Worker(database, smtp_settings))
    assert len(sink.messages) == 1 and "List-Unsubscribe" not in sink.messages[0]


def test_a_list_audience_counts_only_related_people(client: TestClient, session: Session) -> None:
    _, key, topic, people = world(session)
    stranger = make_person(session)
    ids = [str(people[0].id), str(stranger.id), "00000000-0000-0000-0000-000000000001"]  # type: ignore[attr-defined]
    body = campaign_body(topic, audience={"kind": "people", "people": ids})
    cid = client.post("/api/v1/campaigns", json=body, headers=bearer(key)).json()["id"]
    preview = client.get(f"/api/v1/campaigns/{cid}/preview", headers=bearer(key)).json()
    assert preview["total"] == 1 and preview["eligible"] == 1
