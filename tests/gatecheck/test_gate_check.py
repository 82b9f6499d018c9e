"""The gate as a service: the check API answers exactly what the gate decides (differential,
random worlds), bad input is refused naming the field, and the suppression list pages."""

from __future__ import annotations

import csv
import io
import uuid
from datetime import datetime
from typing import Any

from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select
from sqlalchemy.orm import Session

from accord.campaigns.gate_rules import Sending
from accord.campaigns.gate_sql import gate_select
from accord.core.settings import Settings
from accord.gatecheck import service
from accord.gatecheck.models import GateCheckUsage
from accord.gatecheck.schemas import CheckItem
from accord.people.models import Person
from accord.relationships.vocabulary import Channel, Purpose
from tests.builders import make_api_key, make_brand, make_person, make_relationship, make_topic
from tests.campaigns.test_gate_differential import CHANNELS, build, offset, person_world


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    people=st.lists(person_world, min_size=1, max_size=5),
    asks=st.lists(
        st.tuples(st.integers(0, 4), st.sampled_from(CHANNELS), st.booleans()),
        min_size=1,
        max_size=12,
    ),
    at=offset,
)
def test_the_check_api_answers_as_the_gate(
    session: Session,
    people: list[dict[str, Any]],
    asks: list[tuple[int, str, bool]],
    at: datetime,
) -> None:
    """Items over several people, channels and topics (marketing and transactional) in one
    call: each answer is the SQL gate's for that person, channel and topic."""
    savepoint = session.begin_nested()
    try:
        brand, other = make_brand(session), make_brand(session)
        marketing = make_topic(session, brand=brand, purpose="marketing")
        transactional = make_topic(session, brand=brand, purpose="transactional")
        other_topic = make_topic(session, brand=other)
        ids = [build(session, spec, brand, other, marketing, other_topic) for spec in people]
        items, expected = [], []
        for who, channel, is_marketing in asks:
            topic = marketing if is_marketing else transactional
            person_id = ids[who % len(ids)]
            items.append(
                CheckItem(
                    person_id=person_id,
                    channel=Channel(channel),
                    topic=topic.slug if who % 2 else str(topic.id),
                )
            )
            sending = Sending(brand.id, Purpose(topic.purpose), topic.id, Channel(channel), at)
            audience = select(Person.id).where(Person.id == person_id)
            (row,) = session.execute(gate_select(session, sending, audience)).all()
            expected.append(row.reason)
        answers = service.check(session, brand.id, items, at)
        assert [a.reason for a in answers] == expected
        assert [a.allowed for a in answers] == [r is None for r in expected]
    finally:
        savepoint.rollback()


def _auth(session: Session, brand: Any) -> dict[str, str]:
    _, key = make_api_key(session, brand=brand)
    return {"authorization": f"Bearer {key}"}


def test_check_api_over_http(client: TestClient, session: Session) -> None:
    brand, other = make_brand(session), make_brand(session)
    topic = make_topic(session, brand=brand, slug="news")
    fan, stranger = make_person(session), make_person(session)
    make_relationship(
        session, person=fan, brand=brand, marketing=True, channels=("email",), topics_on=(topic,)
    )
    make_relationship(session, person=stranger, brand=other, marketing=True, channels=("email",))
    auth = _auth(session, brand)
    items = [
        {"person_id": str(fan.id), "channel": "email", "topic": "news"},
        {"email": fan.email.upper(), "channel": "email", "topic": str(topic.id)},
        {"person_id": str(fan.id), "channel": "sms", "topic": "news", "purpose": "marketing"},
        {"person_id": str(stranger.id), "channel": "email", "topic": "news"},
        {"email": stranger.email, "channel": "email", "topic": "news"},
        {"email": "nobody@nowhere.example", "channel": "email", "topic": "news"},
        {"person_id": str(uuid.uuid4()), "channel": "email", "topic": "news"},
    ]
    response = client.post("/api/v1/gate/check", json={"items": items}, headers=auth)
    assert response.status_code == 200, response.text
    reasons = [r["reason"] for r in response.json()["results"]]
    assert reasons == [None, None, "channel_not_chosen"] + ["no_relationship"] * 4
    assert response.json()["results"][0]["allowed"] is True
    usage = client.get("/api/v1/gate/usage", headers=auth).json()
    assert usage[0]["calls"] == 1 and usage[0]["items"] == 7


def test_check_api_refuses_bad_input_naming_the_field(client: TestClient, session: Session) -> None:
    brand, other = make_brand(session), make_brand(session)
    make_topic(session, brand=brand, slug="news", purpose="marketing")
    make_topic(session, brand=other, slug="theirs")
    auth = _auth(session, brand)
    person = str(uuid.uuid4())
    good = {"person_id": person, "channel": "email", "topic": "news"}
    cases: list[tuple[Any, str]] = [
        ({"items": [good] * 10_001}, "items"),
        ({"items": []}, "items"),
        ({"items": [good, {**good, "topic": "theirs"}]}, "items.1.topic"),
        ({"items": [{**good, "purpose": "transactional"}]}, "items.0.purpose"),
        ({"items": [{**good, "channel": "pigeon"}]}, "items.0.channel"),
        ({"items": [{"channel": "email", "topic": "news"}]}, "items.0"),
        ({"items": [{**good, "email": "a@b.example"}]}, "items.0"),
        ({"items": [{**good, "person_id": "not-a-uuid"}]}, "items.0.person_id"),
    ]
    for body, field in cases:
        response = client.post("/api/v1/gate/check", json=body, headers=auth)
        assert response.status_code == 422, (field, response.text)
        assert str(response.json()["field"]).startswith(field), (field, response.json())
    assert session.scalars(select(GateCheckUsage)).all() == []  # nothing counted
    ok = client.post("/api/v1/gate/check", json={"items": [good] * 10_000}, headers=auth)
    assert ok.status_code == 200 and len(ok.json()["results"]) == 10_000


def test_suppressions_list_every_kind_and_pages_by_cursor(
    client: TestClient, session: Session, settings: Settings
) -> None:
    from accord.people import contacts
    from accord.people.models import ContactPoint, ErasedAddress
    from accord.people.service import address_hash
    from accord.relationships import decisions

    brand = make_brand(session)
    auth = _auth(session, brand)
    ended, bounced, quiet, fan = (make_person(session) for _ in range(4))
    for p in (ended, bounced, quiet, fan):
        make_relationship(
            session, person=p, brand=brand, marketing=p is not quiet, channels=("email",)
        )
    decisions.end(session, decisions.get(session, ended.id, brand.id), decisions.PORTAL)
    point = session.scalars(select(ContactPoint).where(ContactPoint.person_id == bounced.id)).one()
    contacts.suppress(session, settings, point, "hard_bounce")
    session.add(
        ErasedAddress(address_hash=address_hash(settings, "gone@x.example"), brand_id=brand.id)
    )
    session.flush()
    first = client.get("/api/v1/suppressions?limit=2", headers=auth)
    assert first.status_code == 200, first.text
    body = first.json()
    assert body["has_more"] is True and len(body["items"]) == 2
    rest = client.get(f"/api/v1/suppressions?cursor={body['next_cursor']}", headers=auth).json()
    every = body["items"] + rest["items"]
    got = {(e["address"], e["reason"]) for e in every}
    assert (ended.email, "ended") in got and (bounced.email, "hard_bounce") in got
    assert (quiet.email, "withdrawn") in got
    assert all(e["address"] != fan.email for e in every)
    erased = [e for e in every if e["reason"] == "erased"]
    import hashlib
    import hmac as hmac_mod

    key = bytes.fromhex(body["hmac"]["key_hex"])
    mine = hmac_mod.new(key, b"gone@x.example", hashlib.sha256).hexdigest()
    assert [e["address_hmac"] for e in erased] == [mine]
    later = client.get(f"/api/v1/suppressions?cursor={rest['next_cursor']}", headers=auth).json()
    assert later["items"] == []  # nothing new since
    as_csv = client.get("/api/v1/suppressions", headers={**auth, "accept": "text/csv"})
    rows = list(csv.DictReader(io.StringIO(as_csv.text)))
    assert as_csv.headers["content-type"].startswith("text/csv")
    assert {(r["address"] or None, r["reason"]) for r in rows} == got
    assert client.get("/api/v1/suppressions?cursor=garbage", headers=auth).status_code == 422
    other = _auth(session, make_brand(session))
    assert client.get("/api/v1/suppressions", headers=other).json()["items"] == []
