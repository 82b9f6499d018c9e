"""Multichannel campaigns: per person the first channel of their own order that the gate allows,
falling back down it (one test per rule), or every allowed channel; preview and report per
channel."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from accord.brands.models import Brand
from accord.campaigns import report, service
from accord.campaigns.schemas import CampaignCreate
from accord.outbox.models import OutboxMessage
from accord.people import contacts
from accord.people.models import Person
from accord.relationships import decisions
from accord.relationships.models import GlobalPreferences, Topic
from accord.relationships.vocabulary import Channel
from tests.builders import make_brand, make_person, make_relationship, make_topic
from tests.helpers import csrf_of, sign_in_person

NOON = datetime(2026, 3, 25, 12, 0, tzinfo=UTC)
P256DH = "BGsX0fLhLEJH-Lzm5WOkQPJ3A32BLeszoPShOUXYmMKWT-NC4v4af5uO5-tKfA-eFivOM1drMV7Oy7ZAaDe_UfU"


def _person(
    session: Session,
    brand: Brand,
    topic: Topic,
    channels: tuple[str, ...],
    *,
    push: bool = False,
    quiet: tuple[str, str] | None = None,
    order: tuple[str, ...] = (),
) -> Person:
    person = make_person(session)
    rel = make_relationship(
        session, person=person, brand=brand, marketing=True, channels=channels, topics_on=(topic,)
    )
    if push:
        contacts.add_push(
            session, person.id, f"https://push.example/{person.id.hex}", P256DH, "a" * 22
        )
    if quiet:
        session.add(
            GlobalPreferences(person_id=person.id, quiet_start=quiet[0], quiet_end=quiet[1])
        )
    if order:
        decisions.set_channel_order(session, rel, [Channel(c) for c in order], decisions.PORTAL)
    session.flush()
    return person


def _chosen(
    session: Session, brand: Brand, topic: Topic, channels: list[str], mode: str = "preferred"
) -> dict[object, list[str]]:
    campaign = service.create(
        session,
        brand.id,
        CampaignCreate(
            name="Multi",
            topic_id=topic.id,
            channels=channels,
            channel_mode=mode,  # type: ignore[arg-type]
            subject="Hi",
            text="Hello.",
        ),
        member_id=None,
    )
    service.resolve(session, campaign, NOON)
    found: dict[object, list[str]] = {}
    for person_id, channel in session.execute(
        select(OutboxMessage.person_id, OutboxMessage.channel)
        .where(OutboxMessage.campaign_id == campaign.id)
        .order_by(OutboxMessage.channel)
    ):
        found.setdefault(person_id, []).append(channel)
    return found


@pytest.fixture
def world(session: Session) -> tuple[Brand, Topic]:
    brand = make_brand(session)
    return brand, make_topic(session, brand=brand)


def test_the_persons_own_order_comes_first(session: Session, world: tuple[Brand, Topic]) -> None:
    brand, topic = world
    own = _person(session, brand, topic, ("email", "inapp"), order=("inapp", "email"))
    default = _person(session, brand, topic, ("email", "inapp"))
    chosen = _chosen(session, brand, topic, ["email", "inapp"])
    assert chosen[own.id] == ["inapp"] and chosen[default.id] == ["email"]


def test_falls_back_without_a_contact_point(session: Session, world: tuple[Brand, Topic]) -> None:
    brand, topic = world
    no_sub = _person(session, brand, topic, ("push", "email"))
    with_sub = _person(session, brand, topic, ("push", "email"), push=True)
    chosen = _chosen(session, brand, topic, ["push", "email"])
    assert chosen[no_sub.id] == ["email"] and chosen[with_sub.id] == ["push"]


def test_falls_back_past_a_channel_not_chosen(session: Session, world: tuple[Brand, Topic]) -> None:
    brand, topic = world
    person = _person(session, brand, topic, ("email",), push=True)
    assert _chosen(session, brand, topic, ["push", "email"])[person.id] == ["email"]


def test_quiet_hours_fall_back_to_a_channel_that_does_not_interrupt(
    session: Session, world: tuple[Brand, Topic]
) -> None:
    brand, topic = world
    person = _person(session, brand, topic, ("push", "email"), push=True, quiet=("11:00", "13:00"))
    assert _chosen(session, brand, topic, ["push", "email"])[person.id] == ["email"]


def test_quiet_hours_wait_when_the_next_channel_interrupts_too(
    session: Session, world: tuple[Brand, Topic]
) -> None:
    brand, topic = world
    person = _person(session, brand, topic, ("push", "sms"), push=True, quiet=("11:00", "13:00"))
    from accord.people.models import ContactPoint

    session.add(
        ContactPoint(
            person_id=person.id,
            channel="sms",
            address="+4915112345678",
            address_normalised="+4915112345678",
            verified_at=NOON,
        )
    )
    session.flush()
    assert _chosen(session, brand, topic, ["push", "sms"])[person.id] == ["push"]


def test_nobody_reachable_gets_nothing(session: Session, world: tuple[Brand, Topic]) -> None:
    brand, topic = world
    person = _person(session, brand, topic, ("sms",))
    assert person.id not in _chosen(session, brand, topic, ["push", "inapp"])


def test_every_allowed_channel_when_asked(session: Session, world: tuple[Brand, Topic]) -> None:
    brand, topic = world
    person = _person(session, brand, topic, ("email", "inapp"), push=True)
    chosen = _chosen(session, brand, topic, ["email", "inapp", "push"], mode="all")
    assert chosen[person.id] == ["email", "inapp"]


def test_preview_and_report_per_channel(
    client: TestClient, session: Session, world: tuple[Brand, Topic]
) -> None:
    from tests.builders import make_api_key

    brand, topic = world
    a = _person(session, brand, topic, ("email", "inapp"), order=("inapp", "email"))
    _person(session, brand, topic, ("email",))
    _, key = make_api_key(session, brand=brand)
    auth = {"authorization": f"Bearer {key}"}
    made = client.post(
        "/api/v1/campaigns",
        headers=auth,
        json={
            "name": "Multi",
            "topic_id": str(topic.id),
            "channels": ["email", "inapp"],
            "subject": "Hi",
            "text": "Hello.",
        },
    )
    assert made.status_code == 201, made.text
    assert made.json()["channels"] == ["email", "inapp"]
    preview = client.get(f"/api/v1/campaigns/{made.json()['id']}/preview", headers=auth).json()
    assert preview["by_channel"]["inapp"]["chosen"] == 1
    assert preview["by_channel"]["email"]["chosen"] == 1
    assert preview["by_channel"]["email"]["eligible"] == 2
    bad = client.post(
        "/api/v1/campaigns",
        headers=auth,
        json={
            "name": "Multi",
            "topic_id": str(topic.id),
            "channels": ["email", "email"],
            "subject": "Hi",
            "text": "Hello.",
        },
    )
    assert bad.status_code == 422
    # A person sets their order through the API, with a ledger event.
    sign_in_person(client, session, a.email)
    csrf = {"x-csrf-token": csrf_of(client, "/home")}
    put = client.put(
        f"/api/v1/me/relationships/{brand.id}/channel-order",
        json={"channels": ["email", "inapp"]},
        headers=csrf,
    )
    assert put.status_code == 200 and put.json()["channels"] == ["email", "inapp"]
    bad_order = client.put(
        f"/api/v1/me/relationships/{brand.id}/channel-order",
        json={"channels": ["email", "pigeon"]},
        headers=csrf,
    )
    assert bad_order.status_code == 422
    campaign = service.get(session, brand.id, uuid.UUID(made.json()["id"]))
    service.resolve(session, campaign, NOON)
    built = report.build(session, campaign)
    assert set(built.by_channel) == {"email"}  # both now prefer e-mail


def test_the_relationship_page_sets_the_order(
    client: TestClient, session: Session, world: tuple[Brand, Topic]
) -> None:
    brand, topic = world
    person = _person(session, brand, topic, ("email", "inapp"))
    sign_in_person(client, session, person.email)
    csrf = csrf_of(client, f"/relationships/{brand.id}")
    same = client.post(
        f"/relationships/{brand.id}/channel-order",
        data={"csrf_token": csrf, "order1": "inapp", "order2": "inapp"},
    )
    assert same.status_code == 422 and "already higher in your order" in same.text
    assert decisions.channel_order(session, person.id, brand.id) == []
    done = client.post(
        f"/relationships/{brand.id}/channel-order",
        follow_redirects=False,
        data={"csrf_token": csrf, "order1": "inapp", "order2": "email"},
    )
    assert done.status_code == 303
    assert decisions.channel_order(session, person.id, brand.id) == ["inapp", "email"]
    page = client.get(f"/relationships/{brand.id}")
    assert '<option value="inapp" selected>' in page.text
    assert _chosen(session, brand, topic, ["email", "inapp"])[person.id] == ["inapp"]
