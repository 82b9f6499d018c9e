"""The brand's consent API: topics, recorded consent with evidence and double opt-in (real SMTP),
invitations, a related person's preferences, the change feed and receipts."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from accord.app import create_app
from accord.consent.models import LedgerEvent
from accord.core.db import utcnow
from accord.core.settings import EmailBackend, Settings
from accord.people.models import Person
from accord.relationships.models import PurposeGrant, Relationship, Topic
from tests.builders import make_api_key, make_brand, make_person, make_relationship, make_topic
from tests.conftest import RolledBackDatabase
from tests.helpers import csrf_of, last_mail_to
from tests.smtp_sink import Sink, smtp_sink, text_of


def bearer(secret: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {secret}"}


def evidence(**over: Any) -> dict[str, Any]:
    return {
        "collected_at": (utcnow() - timedelta(minutes=5)).isoformat(),
        "method": "checkout checkbox",
        "notice_version": "privacy-2026-10",
        "form_url": "https://shop.example/checkout",
        "ip": "203.0.113.7",
    } | over


def count(session: Session, model: type) -> int:
    return session.scalar(select(func.count()).select_from(model)) or 0


def test_topics_crud_and_bad_input(client: TestClient, session: Session) -> None:
    brand = make_brand(session)
    _, key = make_api_key(session, brand=brand)
    body = {
        "slug": "new-arrivals",
        "name": "New arrivals",
        "description": "Fresh stock.",
        "purpose": "marketing",
    }
    created = client.post("/api/v1/topics", json=body, headers=bearer(key))
    assert created.status_code == 201
    topic_id = created.json()["id"]
    dup = client.post("/api/v1/topics", json=body, headers=bearer(key))
    assert dup.status_code == 409 and dup.json()["field"] == "slug"
    bad = client.post(
        "/api/v1/topics", json=body | {"slug": "x2", "purpose": "spam"}, headers=bearer(key)
    )
    assert bad.status_code == 422 and bad.json()["field"] == "purpose"
    renamed = client.patch(
        f"/api/v1/topics/{topic_id}", json={"name": "Arrivals"}, headers=bearer(key)
    )
    assert renamed.json()["name"] == "Arrivals" and renamed.json()["purpose"] == "marketing"
    no_purpose_change = client.patch(
        f"/api/v1/topics/{topic_id}", json={"purpose": "profiling"}, headers=bearer(key)
    )
    assert no_purpose_change.status_code == 422
    assert client.post(f"/api/v1/topics/{topic_id}/retire", headers=bearer(key)).json()[
        "retired_at"
    ]
    assert count(session, Topic) == 1


def test_retiring_a_topic_changes_nobodys_choices(client: TestClient, session: Session) -> None:
    brand = make_brand(session)
    _, key = make_api_key(session, brand=brand)
    topic = make_topic(session, brand=brand)
    person = make_person(session)
    make_relationship(session, person=person, brand=brand, marketing=True, topics_on=(topic,))
    events_before = count(session, LedgerEvent)
    client.post(f"/api/v1/topics/{topic.id}/retire", headers=bearer(key))
    prefs = client.get(f"/api/v1/people/{person.id}/preferences", headers=bearer(key)).json()
    assert prefs["topics"] == [str(topic.id)]
    assert count(session, LedgerEvent) == events_before


@pytest.fixture
def sink() -> Iterator[Sink]:
    with smtp_sink() as s:
        yield s


@pytest.fixture
def smtp_client(
    settings: Settings, database: RolledBackDatabase, sink: Sink
) -> Iterator[TestClient]:
    smtp = settings.model_copy(
        update={"email_backend": EmailBackend.smtp, "smtp_host": sink.host, "smtp_port": sink.port}
    )
    with TestClient(create_app(smtp, database=database)) as c:
        yield c


def test_recorded_marketing_takes_effect_only_after_the_confirmation_link(
    smtp_client: TestClient, sink: Sink, session: Session
) -> None:
    brand = make_brand(session)
    _, key = make_api_key(session, brand=brand)
    topic = make_topic(session, brand=brand)
    body = {
        "email": "doi@example.com",
        "purpose": "marketing",
        "channels": ["email"],
        "topics": [str(topic.id)],
        "evidence": evidence(),
    }
    recorded = smtp_client.post("/api/v1/consent/records", json=body, headers=bearer(key))
    assert recorded.status_code == 201 and recorded.json()["status"] == "pending"
    person_id = recorded.json()["person_id"]
    prefs = smtp_client.get(f"/api/v1/people/{person_id}/preferences", headers=bearer(key)).json()
    assert prefs["purposes"] == {"marketing": "pending"}
    assert "marketing" not in prefs["channels"] and prefs["topics"] == []

    [mail] = sink.to("doi@example.com")
    text = text_of(mail)
    token = text.split("/consent/confirm?token=", 1)[1].split()[0]
    # The evidence is in the ledger as keyed hashes, never in clear.
    bodies = " ".join(session.scalars(select(LedgerEvent.body)))
    assert (
        "203.0.113.7" not in bodies and "shop.example" not in bodies and "privacy-2026-10" in bodies
    )

    page = smtp_client.get(f"/consent/confirm?token={token}", headers={"accept": "text/html"})
    assert page.status_code == 200  # a GET does not confirm (mail scanners prefetch)
    assert smtp_client.get(f"/api/v1/people/{person_id}/preferences", headers=bearer(key)).json()[
        "purposes"
    ] == {"marketing": "pending"}
    confirmed = smtp_client.post(
        "/consent/confirm",
        data={
            "token": token,
            "csrf_token": csrf_of(smtp_client, f"/consent/confirm?token={token}"),
        },
    )
    assert confirmed.status_code in (200, 303)
    prefs = smtp_client.get(f"/api/v1/people/{person_id}/preferences", headers=bearer(key)).json()
    assert prefs["purposes"] == {"marketing": "granted"}
    assert prefs["channels"]["marketing"] == ["email"] and prefs["topics"] == [str(topic.id)]
    again = smtp_client.post(
        "/consent/confirm",
        data={"token": token, "csrf_token": csrf_of(smtp_client)},
        headers={"accept": "text/html"},
    )
    assert again.status_code == 400


def test_recording_consent_without_evidence_writes_nothing(
    client: TestClient, session: Session
) -> None:
    brand = make_brand(session)
    _, key = make_api_key(session, brand=brand)
    before = (count(session, Person), count(session, Relationship), count(session, LedgerEvent))
    cases = [
        ({"email": "e@example.com", "purpose": "marketing"}, "evidence"),
        (
            {"email": "e@example.com", "purpose": "marketing", "evidence": evidence(ip="")},
            "evidence.ip",
        ),
        (
            {
                "email": "e@example.com",
                "purpose": "marketing",
                "evidence": evidence(form_url="nope"),
            },
            "evidence.form_url",
        ),
        ({"email": "e@example.com", "purpose": "transactional", "evidence": evidence()}, None),
        (
            {
                "email": "e@example.com",
                "purpose": "profiling",
                "evidence": evidence(collected_at=(utcnow() + timedelta(days=2)).isoformat()),
            },
            "evidence.collected_at",
        ),
    ]
    for body, field in cases:
        response = client.post("/api/v1/consent/records", json=body, headers=bearer(key))
        assert response.status_code == 422, body
        if field:
            assert response.json()["field"] == field
    other_brand_topic = make_topic(session, brand=make_brand(session))
    foreign = client.post(
        "/api/v1/consent/records",
        json={
            "email": "e@example.com",
            "purpose": "marketing",
            "topics": [str(other_brand_topic.id)],
            "evidence": evidence(),
        },
        headers=bearer(key),
    )
    assert foreign.status_code == 404
    assert (
        count(session, Person),
        count(session, Relationship),
        count(session, LedgerEvent),
    ) == before


def test_profiling_recorded_with_evidence_is_granted_at_once(
    client: TestClient, session: Session
) -> None:
    brand = make_brand(session)
    _, key = make_api_key(session, brand=brand)
    body = {"email": "prof@example.com", "purpose": "profiling", "evidence": evidence()}
    response = client.post("/api/v1/consent/records", json=body, headers=bearer(key))
    assert response.json()["status"] == "granted"
    grant = session.scalars(select(PurposeGrant).where(PurposeGrant.purpose == "profiling")).one()
    assert grant.status == "granted"


def test_a_brand_cannot_see_people_it_has_no_relationship_with(
    client: TestClient, session: Session
) -> None:
    brand, other = make_brand(session), make_brand(session)
    _, key = make_api_key(session, brand=brand)
    stranger = make_person(session)
    make_relationship(session, person=stranger, brand=other)
    for person_id in (stranger.id, "00000000-0000-0000-0000-000000000000"):
        response = client.get(f"/api/v1/people/{person_id}/preferences", headers=bearer(key))
        assert response.status_code == 404
        assert response.json()["detail"] == "No such person."


def test_invitation_sends_one_mail_and_accepting_activates(
    client: TestClient, session: Session
) -> None:
    brand = make_brand(session)
    _, key = make_api_key(session, brand=brand)
    response = client.post(
        "/api/v1/invitations", json={"email": "inv@example.com"}, headers=bearer(key)
    )
    assert response.status_code == 201 and response.json()["state"] == "invited"
    mail = last_mail_to(session, "inv@example.com")
    token = mail.text_body.split("/invitations/", 1)[1].split()[0]
    prefs = client.get(
        f"/api/v1/people/{response.json()['person_id']}/preferences", headers=bearer(key)
    ).json()
    assert prefs["state"] == "invited" and prefs["channels"] == {}
    client.post(
        f"/invitations/{token}",
        data={"answer": "accept", "csrf_token": csrf_of(client, f"/invitations/{token}")},
    )
    prefs = client.get(
        f"/api/v1/people/{response.json()['person_id']}/preferences", headers=bearer(key)
    ).json()
    assert prefs["state"] == "active" and prefs["channels"] == {"transactional": ["email"]}


def test_csv_invitations_check_every_row_first(client: TestClient, session: Session) -> None:
    brand = make_brand(session)
    _, key = make_api_key(session, brand=brand)
    bad = "email,display_name\na@example.com,A\nnot-an-address,B\n"
    response = client.post(
        "/api/v1/invitations/csv", files={"file": ("x.csv", bad, "text/csv")}, headers=bearer(key)
    )
    assert response.status_code == 422 and "Line 3" in response.json()["detail"]
    assert count(session, Relationship) == 0
    good = "email,display_name\na@example.com,A\nb@example.com,B\n"
    response = client.post(
        "/api/v1/invitations/csv", files={"file": ("x.csv", good, "text/csv")}, headers=bearer(key)
    )
    assert response.status_code == 201 and [r["state"] for r in response.json()] == [
        "invited",
        "invited",
    ]


def test_change_feed_and_receipts(client: TestClient, session: Session) -> None:
    brand, other = make_brand(session), make_brand(session)
    _, key = make_api_key(session, brand=brand)
    person = make_person(session)
    make_relationship(session, person=person, brand=brand, marketing=True, channels=("email",))
    make_relationship(session, person=person, brand=other, marketing=True)
    first = client.get("/api/v1/consent/events", params={"limit": 2}, headers=bearer(key)).json()
    assert [e["action"] for e in first["items"]] == ["follow", "grant"]
    rest = client.get(
        "/api/v1/consent/events", params={"cursor": first["next_cursor"]}, headers=bearer(key)
    ).json()
    assert [e["event"]["scope"]["channel"] for e in rest["items"]] == ["email"]
    assert all(e["event"]["brand"] == str(brand.id) for e in first["items"] + rest["items"])
    later = client.get(
        "/api/v1/consent/events", params={"cursor": rest["next_cursor"]}, headers=bearer(key)
    ).json()
    assert later["items"] == [] and later["next_cursor"] == rest["next_cursor"]
    receipt = client.get(
        f"/api/v1/consent/events/{first['items'][1]['id']}/receipt", headers=bearer(key)
    ).json()
    assert receipt["signature"]["alg"] == "EdDSA"
    keys = client.get("/.well-known/accord-keys.json").json()
    from accord.core.signing import verify_document

    assert verify_document(receipt, keys["keys"])
    receipt["piiControllers"][0]["piiController"] = "Someone else"
    assert not verify_document(receipt, keys["keys"])


def test_erased_addresses_are_refused_with_reason_erased(
    client: TestClient, session: Session, settings: Settings
) -> None:
    from accord.privacy import service as privacy

    brand = make_brand(session)
    _, key = make_api_key(session, brand=brand)
    person = make_person(session, email="gone@example.com")
    privacy.erase_account(session, settings, person.id)
    for path, body in (
        ("/api/v1/invitations", {"email": "Gone@Example.com"}),
        (
            "/api/v1/consent/records",
            {"email": "gone@example.com", "purpose": "profiling", "evidence": evidence()},
        ),
    ):
        response = client.post(path, json=body, headers=bearer(key))
        assert response.status_code == 409
        assert "erased" in response.json()["detail"] and response.json()["field"] == "email"
    assert session.scalar(select(func.count()).where(Person.email == "gone@example.com")) == 0
