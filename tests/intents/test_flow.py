"""Publish, see anonymously, offer once, compare, accept: only the chosen brand learns who."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from accord.consent.models import LedgerEvent
from accord.core.permissions import Role
from accord.intents.models import Offer
from accord.relationships.models import ChannelChoice, Relationship
from accord.terms.models import Agreement
from tests.builders import make_api_key, make_brand, make_person
from tests.helpers import csrf_of, sign_in_person
from tests.intents.world import intent_body, offer_body, ready_brand


def bearer(session: Session, brand: object) -> dict[str, str]:
    _, key = make_api_key(session, brand=brand, role=Role.marketer)  # type: ignore[arg-type]
    return {"Authorization": f"Bearer {key}"}


def test_the_whole_flow(client: TestClient, session: Session) -> None:
    person = make_person(session, display_name="Ada Lovelace")
    a, b = ready_brand(session, name="Velo"), ready_brand(session, name="Rad")
    stranger = make_brand(session)  # subscribes to nothing
    a_headers, b_headers, s_headers = (
        bearer(session, a),
        bearer(session, b),
        bearer(session, stranger),
    )
    sign_in_person(client, session, person.email)
    csrf = {"x-csrf-token": csrf_of(client, "/home")}
    made = client.post("/api/v1/me/intents", json=intent_body(channel="sms"), headers=csrf)
    assert made.status_code == 201, made.text
    intent = made.json()
    assert intent["pseudonym"].startswith("Shopper ") and intent["offers"] == []

    seen = client.get("/api/v1/intents", headers=a_headers).json()["items"]
    assert [i["id"] for i in seen] == [intent["id"]]
    assert seen[0]["can_offer"] and seen[0]["customer"] is None
    assert client.get("/api/v1/intents", headers=s_headers).json()["items"] == []
    for headers in (a_headers, b_headers):
        offered = client.post(
            f"/api/v1/intents/{intent['id']}/offers", json=offer_body(), headers=headers
        )
        assert offered.status_code == 201, offered.text
    twice = client.post(
        f"/api/v1/intents/{intent['id']}/offers", json=offer_body(), headers=a_headers
    )
    assert (twice.status_code, twice.json()["field"]) == (409, "intent")

    mine = client.get(f"/api/v1/me/intents/{intent['id']}").json()
    assert {o["brand_name"] for o in mine["offers"]} == {"Velo", "Rad"}
    assert all(o["history"]["state"] is None for o in mine["offers"])
    seen_by = client.get(f"/api/v1/me/intents/{intent['id']}/seen-by").json()
    assert {s["brand_name"] for s in seen_by} == {"Velo", "Rad"}
    chosen = next(o for o in mine["offers"] if o["brand_name"] == "Velo")
    accepted = client.post(f"/api/v1/me/offers/{chosen['id']}/accept", headers=csrf)
    assert accepted.status_code == 200, accepted.text
    assert accepted.json()["status"] == "closed"

    theirs = client.get(f"/api/v1/intents/{intent['id']}", headers=a_headers).json()
    assert theirs["customer"]["person_id"] == str(person.id)
    assert theirs["customer"]["name"] == "Ada Lovelace"
    other = client.get(f"/api/v1/intents/{intent['id']}", headers=b_headers).json()
    assert other["customer"] is None and other["status"] == "closed"
    assert other["my_offer"]["status"] == "closed"
    assert (
        str(person.id) not in client.get(f"/api/v1/intents/{intent['id']}", headers=b_headers).text
    )

    rel = session.scalars(
        select(Relationship).where(
            Relationship.person_id == person.id, Relationship.brand_id == a.id
        )
    ).one()
    assert rel.state == "active" and rel.origin == "intent_accept"
    assert session.get(ChannelChoice, (person.id, a.id, "transactional", "sms")) is not None
    sources = session.scalars(
        select(LedgerEvent.body).where(
            LedgerEvent.subject_id == person.id, LedgerEvent.brand_id == a.id
        )
    ).all()
    assert any('"source":"intent_accept"' in body for body in sources)
    agreement = session.scalars(
        select(Agreement).where(Agreement.subject_id == person.id, Agreement.brand_id == a.id)
    ).one()
    assert agreement.status == "accepted" and agreement.slug == "no-stalking"
    assert (
        session.scalars(
            select(Relationship).where(
                Relationship.person_id == person.id, Relationship.brand_id == b.id
            )
        ).one_or_none()
        is None
    )
    offers = {o.brand_id: o.status for o in session.scalars(select(Offer))}
    assert offers == {a.id: "accepted", b.id: "closed"}


def test_auto_offer_rules_answer_as_intents_come(client: TestClient, session: Session) -> None:
    brand, person = ready_brand(session, name="Auto"), make_person(session)
    headers = bearer(session, brand)
    rule = {
        "name": "Mid-range e-bikes",
        "category": "bicycles",
        "budget_min": "1000",
        "budget_max": "3000",
        "currency": "EUR",
        "country": "DE",
        "price": "1899.00",
        "description": "Our mid-range e-bike, delivered.",
        "valid_days": 5,
    }
    created = client.post("/api/v1/intent-rules", json=rule, headers=headers)
    assert created.status_code == 201 and created.json()["offers_made"] == 0
    sign_in_person(client, session, person.email)
    csrf = {"x-csrf-token": csrf_of(client, "/home")}
    made = client.post("/api/v1/me/intents", json=intent_body(), headers=csrf).json()
    assert [o["automatic"] for o in made["offers"]] == [True]
    cheap = client.post(
        "/api/v1/me/intents",
        json=intent_body(budget_min="100", budget_max="300"),
        headers=csrf,
    ).json()
    assert cheap["offers"] == []
    abroad = client.post(
        "/api/v1/me/intents", json=intent_body(region={"country": "FR"}), headers=csrf
    ).json()
    assert abroad["offers"] == []
    rule_id = created.json()["rule"]["id"]
    off = client.post(f"/api/v1/intent-rules/{rule_id}/deactivate", headers=headers)
    assert off.json()["active"] is False
    later = client.post("/api/v1/me/intents", json=intent_body(), headers=csrf).json()
    assert later["offers"] == []
    again = client.post("/api/v1/intent-rules", json=rule | {"name": "again"}, headers=headers)
    assert again.json()["offers_made"] == 1  # the open intent that matches, answered now
