"""A change of topics only (the PATCH's rows-only path, `service._change_topics`): its answer is
built from the choices read and the decisions made, so it must equal what a fresh read gives;
the same refusals as any other change, and a no-op writes nothing."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from accord.core.settings import Settings
from accord.relationships import topics
from accord.webhooks import service as webhooks
from accord.webhooks.models import WebhookEvent
from tests.builders import make_brand, make_topic
from tests.relationships.test_person_api import events, signed_in
from tests.webhook_receiver import start_receiver


def test_the_answer_is_what_a_fresh_read_gives(client: TestClient, session: Session) -> None:
    _, csrf = signed_in(client, session)
    brand = make_brand(session)
    one, two, three = (make_topic(session, brand=brand) for _ in range(3))
    client.post("/api/v1/me/relationships", json={"brand": brand.slug}, headers=csrf)
    path = f"/api/v1/me/relationships/{brand.id}"
    grants = {"purposes": {"marketing": True}, "channels": {"marketing": {"sms": True}}}
    assert client.patch(path, json=grants, headers=csrf).status_code == 200
    before = events(session)
    steps = [
        {str(one.id): True, str(two.id): True},
        {str(two.id): False, str(three.id): True, str(one.id): True},  # one: already on
        {str(three.id): False},
        {},
    ]
    for step in steps:
        answer = client.patch(path, json={"topics": step}, headers=csrf)
        assert answer.status_code == 200, answer.text
        assert answer.json() == client.get(path).json()
        assert answer.json()["purposes"] == {"marketing": "granted"}
    assert answer.json()["topics"] == [str(one.id)]
    assert events(session) == before + 5  # 2, 2 (one was on already), 1, none


def test_refusals_write_nothing(client: TestClient, session: Session) -> None:
    _, csrf = signed_in(client, session)
    brand = make_brand(session)
    mine, retired = make_topic(session, brand=brand), make_topic(session, brand=brand)
    topics.retire(session, brand.id, retired.id)
    foreign = make_topic(session, brand=make_brand(session))
    client.post("/api/v1/me/relationships", json={"brand": brand.slug}, headers=csrf)
    path = f"/api/v1/me/relationships/{brand.id}"
    before = events(session)
    cases = [
        ({str(mine.id): True, str(foreign.id): True}, 404),  # the first one would be fine
        ({str(foreign.id): True, str(mine.id): True}, 404),
        ({str(mine.id): True, str(retired.id): True}, 409),
    ]
    for change, status in cases:
        answer = client.patch(path, json={"topics": change}, headers=csrf)
        assert answer.status_code == status, answer.text
        assert answer.json()["field"] == "topic"
    # Turning off what is off changes nothing, and writes nothing.
    off = client.patch(path, json={"topics": {str(mine.id): False}}, headers=csrf)
    assert off.status_code == 200 and off.json()["topics"] == []
    assert events(session) == before
    client.post(f"{path}/end", headers=csrf)
    ended = client.patch(path, json={"topics": {str(mine.id): True}}, headers=csrf)
    assert ended.status_code == 409
    stranger = client.patch(
        f"/api/v1/me/relationships/{foreign.brand_id}",
        json={"topics": {str(foreign.id): True}},
        headers=csrf,
    )
    assert stranger.status_code == 404


def test_a_listening_brand_hears_of_each_decision(
    client: TestClient, session: Session, settings: Settings
) -> None:
    _, csrf = signed_in(client, session)
    brand, deaf = make_brand(session), make_brand(session)
    receiver = start_receiver()
    try:
        webhooks.create_endpoint(
            session, settings, brand.id, url=receiver.url, event_types=["consent.changed"]
        )
    finally:
        receiver.close()
    for each in (brand, deaf):
        topic = make_topic(session, brand=each)
        client.post("/api/v1/me/relationships", json={"brand": each.slug}, headers=csrf)
        path = f"/api/v1/me/relationships/{each.id}"
        for on in (True, False):
            changed = client.patch(path, json={"topics": {str(topic.id): on}}, headers=csrf)
            assert changed.status_code == 200
    heard = session.scalars(select(WebhookEvent).where(WebhookEvent.type == "consent.changed"))
    by_brand = sorted((e.brand_id, e.payload["data"]["action"]) for e in heard)
    assert by_brand == sorted([(brand.id, "grant"), (brand.id, "withdraw")])
