"""SMS campaigns end to end through the worker, against real local providers: the body the
channel sends, the verdict of each provider answer (429 throttled, 5xx retried, 4xx failed
with the provider's code, dead numbers suppressed), delivery receipts on the outbox row, the
legal window deferring a text, one message too long failing alone."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from accord.brands.models import Brand
from accord.core.db import utcnow
from accord.core.settings import Settings
from accord.delivery.worker import Worker
from accord.outbox.models import OutboxMessage
from accord.people.models import ContactPoint, Person
from accord.relationships.models import Topic
from accord.sms import numbers
from tests.builders import make_api_key, make_brand, make_person, make_relationship, make_topic
from tests.conftest import RolledBackDatabase
from tests.sms import callbacks
from tests.sms.providers import Answer, Provider
from tests.sms.world import add_phone
from tests.waiting import drain

NUMBER = "+12025550100"
PHONES = ["+12025550181", "+12025550182", "+12025550183"]
# Tomorrow at noon UTC: inside every window for people in UTC, after the campaign's send time.
NOON = (utcnow() + timedelta(days=1)).replace(hour=12, minute=0, second=0, microsecond=0)


def bearer(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


def texting_world(
    session: Session, *, phones: list[str] = PHONES, number: str | None = NUMBER
) -> tuple[Brand, str, Topic, list[Person]]:
    brand = make_brand(session, name="Groove Records")
    if number:
        numbers.register(session, brand.id, number)
    _, key = make_api_key(session, brand=brand)
    topic = make_topic(session, brand=brand, name="New vinyl")
    people = []
    for i, phone in enumerate(phones):
        person = make_person(session, display_name=f"Person {i}")
        add_phone(session, person, phone)
        make_relationship(
            session,
            person=person,
            brand=brand,
            marketing=True,
            channels=("sms",),
            topics_on=(topic,),
        )
        people.append(person)
    session.commit()
    return brand, key, topic, people


def sms_campaign(client: TestClient, key: str, topic: Topic, text: str = "") -> str:
    body = {
        "name": "Vinyl day",
        "topic_id": str(topic.id),
        "channel": "sms",
        "text": text or "Hi {{ person.first_name }}, new {{ topic.name }} is in!",
    }
    created = client.post("/api/v1/campaigns", json=body, headers=bearer(key))
    assert created.status_code == 201, created.text
    cid = created.json()["id"]
    assert client.post(f"/api/v1/campaigns/{cid}/send", headers=bearer(key)).status_code == 200
    return str(cid)


def rows(session: Session) -> list[OutboxMessage]:
    """The outbox, in the order of the people's phone numbers."""
    session.expire_all()
    return list(
        session.scalars(
            select(OutboxMessage)
            .join(ContactPoint, ContactPoint.person_id == OutboxMessage.person_id)
            .where(ContactPoint.channel == "sms")
            .order_by(ContactPoint.address)
        )
    )


def test_an_sms_campaign_goes_out_and_receipts_follow(
    sms_client: TestClient,
    session: Session,
    database: RolledBackDatabase,
    sms_settings: Settings,
    provider: Provider,
) -> None:
    _brand, key, topic, _people = texting_world(session)
    cid = sms_campaign(sms_client, key, topic)
    outcome = drain(Worker(database, sms_settings), now=NOON)
    assert outcome.sent == 3
    texts = sorted(provider.texts, key=lambda t: t["to"])
    assert [t["to"] for t in texts] == PHONES
    assert {t["from"] for t in texts} == {NUMBER}
    assert texts[0]["body"] == (
        "Groove Records: Hi Person, new New vinyl is in!\nReply STOP to opt out"
    )
    sent = rows(session)
    assert [(r.state, r.provider_ref) for r in sent] == [("sent", t["id"]) for t in texts]
    # Receipts: delivered; undelivered because the number is dead (suppressed); a late one.
    assert callbacks.status(sms_client, provider, texts[0]["id"], "delivered").json() == {
        "result": "delivered"
    }
    dead = callbacks.status(sms_client, provider, texts[1]["id"], "undelivered", "30005")
    assert dead.json() == {"result": "undelivered"}
    late = callbacks.status(sms_client, provider, texts[0]["id"], "sent")
    assert late.json() == {"result": "delivered"}
    queued = callbacks.status(sms_client, provider, texts[2]["id"], "sent")
    assert queued.json() == {"result": "sent"}
    states = [(r.state, r.error_code) for r in rows(session)]
    assert states == [("delivered", None), ("undelivered", "30005"), ("sent", None)]
    point = session.scalars(select(ContactPoint).where(ContactPoint.address == PHONES[1])).one()
    assert point.suppressed_reason == "undeliverable"
    report = sms_client.get(f"/api/v1/campaigns/{cid}/report", headers=bearer(key)).json()
    assert report["states"]["delivered"] == 1 and report["states"]["undelivered"] == 1
    assert callbacks.status(sms_client, provider, "SMnope", "delivered").status_code == 404


def test_provider_answers_become_verdicts(
    sms_client: TestClient,
    session: Session,
    database: RolledBackDatabase,
    sms_settings: Settings,
    provider: Provider,
) -> None:
    _brand, key, topic, _ = texting_world(session, phones=["+12025550191", "+12025550192"])
    provider.answer("+12025550191", Answer(503, {"message": "busy"}))
    provider.answer("+12025550192", Answer(400, {"code": 21211, "message": "not a number"}))
    sms_campaign(sms_client, key, topic)
    drain(Worker(database, sms_settings), now=NOON)
    busy, refused = rows(session)
    assert (busy.state, busy.attempts) == ("queued", 1)
    assert busy.not_before > NOON  # tried again later, with backoff
    assert (refused.state, refused.error_code) == ("failed", "21211")
    point = session.scalars(
        select(ContactPoint).where(ContactPoint.address == "+12025550192")
    ).one()
    assert point.suppressed_reason is not None


def test_429_throttles_the_rest_of_the_chunk(
    sms_client: TestClient,
    session: Session,
    database: RolledBackDatabase,
    sms_settings: Settings,
    provider: Provider,
) -> None:
    _brand, key, topic, _ = texting_world(session)
    code = 20429 if provider.kind == "twilio" else "rate_limited"
    provider.answer(PHONES[0], Answer(429, {"code": code}, {"Retry-After": "120"}))
    provider.answer(PHONES[1], Answer(429, {"code": code}, {"Retry-After": "120"}))
    provider.answer(PHONES[2], Answer(429, {"code": code}, {"Retry-After": "120"}))
    sms_campaign(sms_client, key, topic)
    Worker(database, sms_settings).run_once(NOON)
    Worker(database, sms_settings).run_once(NOON)
    waiting = rows(session)
    assert {r.state for r in waiting} == {"queued"}
    assert all(r.not_before >= NOON + timedelta(seconds=119) for r in waiting)
    assert all(r.attempts == 0 for r in waiting), "a throttle is not an attempt"
    assert len(provider.attempts) == 1  # the rest of the chunk was not fed to the provider


def test_the_legal_window_defers_a_text_in_florida(
    sms_client: TestClient,
    session: Session,
    database: RolledBackDatabase,
    sms_settings: Settings,
    provider: Provider,
) -> None:
    _brand, key, topic, people = texting_world(session, phones=["+13055550181"])
    session.execute(
        update(Person)
        .where(Person.id == people[0].id)
        .values(place_country="US", place_subdivision="FL", time_zone="America/New_York")
    )
    session.commit()
    sms_campaign(sms_client, key, topic)
    new_york = ZoneInfo("America/New_York")
    day = NOON.astimezone(new_york).date()
    evening = datetime.combine(day, time(20, 30), new_york).astimezone(UTC)  # Florida: closed
    morning = datetime.combine(day + timedelta(days=1), time(8, 0), new_york).astimezone(UTC)
    drain(Worker(database, sms_settings), now=evening)
    [row] = rows(session)
    assert (row.state, row.reason, row.not_before) == ("deferred", "legal_window", morning)
    assert not provider.texts
    drain(Worker(database, sms_settings), now=morning)
    assert rows(session)[0].state == "sent" and len(provider.texts) == 1


def test_a_text_too_long_for_one_person_fails_alone(
    sms_client: TestClient,
    session: Session,
    database: RolledBackDatabase,
    sms_settings: Settings,
    provider: Provider,
) -> None:
    _brand, key, topic, people = texting_world(session)
    session.execute(update(Person).where(Person.id == people[0].id).values(display_name="Zo" * 60))
    session.commit()
    sms_campaign(sms_client, key, topic, text="{{ person.name }} " * 12 + "x" * 150)
    drain(Worker(database, sms_settings), now=NOON)
    states = [(r.state, r.reason) for r in rows(session)]
    assert states == [("failed", "too_long"), ("sent", None), ("sent", None)]


@pytest.mark.parametrize("provider", ["generic"], indirect=True)
def test_a_brand_without_a_number_sends_from_accords_or_not_at_all(
    sms_client: TestClient,
    session: Session,
    database: RolledBackDatabase,
    sms_settings: Settings,
    provider: Provider,
) -> None:
    _brand, key, topic, _ = texting_world(session, phones=PHONES[:1], number=None)
    sms_campaign(sms_client, key, topic)
    drain(Worker(database, sms_settings), now=NOON)
    assert [t["from"] for t in provider.texts] == [sms_settings.sms_from]
    _brand, key, topic, _ = texting_world(session, phones=PHONES[1:2], number=None)
    sms_campaign(sms_client, key, topic)
    drain(Worker(database, sms_settings.model_copy(update={"sms_from": ""})), now=NOON)
    failed = [r for r in rows(session) if r.state == "failed"]
    assert [r.error_code for r in failed] == ["no_sender"]
