"""Every bad input: a clear 4xx naming the field, and nothing written."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from accord.core.db import utcnow
from accord.core.permissions import Role
from accord.intents import service as intents
from accord.intents.models import Intent, IntentTerm, Offer
from tests.builders import make_api_key, make_person
from tests.helpers import csrf_of, sign_in_person
from tests.intents.world import intent_body, make_intent, offer_body, ready_brand


def counts(session: Session) -> tuple[int, ...]:
    return tuple(
        int(session.scalar(select(func.count()).select_from(m)) or 0)
        for m in (Intent, IntentTerm, Offer)
    )


def test_publishing_bad_intents(client: TestClient, session: Session) -> None:
    person = make_person(session)
    sign_in_person(client, session, person.email)
    csrf = {"x-csrf-token": csrf_of(client, "/home")}
    yesterday = (utcnow().date() - timedelta(days=1)).isoformat()
    cases: list[tuple[dict[str, Any], int, str]] = [
        ({"budget_min": "500", "budget_max": "100"}, 422, "budget_max"),
        ({"currency": "XYZ"}, 422, "currency"),
        ({"currency": "euro"}, 422, "currency"),
        ({"category": "spaceships"}, 422, "category"),
        ({"timeframe_end": yesterday}, 422, "timeframe_end"),
        ({"budget_min": "-1"}, 422, "budget_min"),
        ({"region": {"country": "ZZ"}}, 422, "region.country"),
        ({"region": {"country": "DE", "subdivision": "FR-BRE"}}, 422, "region.subdivision"),
        ({"region": {"country": "FR", "subdivision": "FR-75"}}, 422, "region.subdivision"),
        ({"channel": "carrier-pigeon"}, 422, "channel"),
        ({"terms": [{"id": "no-such-terms"}]}, 404, "terms.0.id"),
        ({"terms": [{"id": "no-stalking", "version": 9}]}, 404, "terms.0.version"),
        ({"description": ""}, 422, "description"),
    ]
    before = counts(session)
    for change, code, field in cases:
        response = client.post("/api/v1/me/intents", json=intent_body(**change), headers=csrf)
        assert (response.status_code, response.json()["field"]) == (code, field), change
    assert counts(session) == before


def test_offering_where_one_may_not(client: TestClient, session: Session) -> None:
    person = make_person(session)
    brand = ready_brand(session)
    _, key = make_api_key(session, brand=brand, role=Role.marketer)
    headers = {"Authorization": f"Bearer {key}"}
    picky = make_intent(session, person=person, terms=[{"id": "no-sharing"}])
    closed, withdrawn, old = (make_intent(session, person=person) for _ in range(3))
    for intent in (closed, withdrawn, old):  # the brand saw each while it was open
        intents.visible_intent(session, brand.id, intent.id)
    session.execute(update(Intent).where(Intent.id == closed.id).values(status="closed"))
    intents.withdraw(session, person.id, withdrawn.id)
    session.execute(
        update(Intent).where(Intent.id == old.id).values(expires_at=utcnow() - timedelta(hours=1))
    )
    session.flush()
    open_one = make_intent(session, person=person)
    cases: list[tuple[Any, dict[str, Any], int, str]] = [
        (closed.id, {}, 409, "intent"),
        (withdrawn.id, {}, 409, "intent"),
        (old.id, {}, 409, "intent"),
        (picky.id, {}, 409, "terms"),
        (
            open_one.id,
            {"expires_at": (utcnow() - timedelta(days=1)).isoformat()},
            422,
            "expires_at",
        ),
        (open_one.id, {"currency": "ABC"}, 422, "currency"),
        (open_one.id, {"price": "-5"}, 422, "price"),
        (open_one.id, {"link": "not a url"}, 422, "link"),
        (open_one.id, {"terms": [{"id": "no-sharing"}]}, 409, "terms.0.id"),
        (open_one.id, {"terms": []}, 409, "terms"),
        ("00000000-0000-0000-0000-000000000000", {}, 404, "intent"),
    ]
    before = counts(session)
    for intent_id, change, code, field in cases:
        response = client.post(
            f"/api/v1/intents/{intent_id}/offers", json=offer_body(**change), headers=headers
        )
        assert (response.status_code, response.json()["field"]) == (code, field), change
    assert counts(session) == before
    first = client.post(f"/api/v1/intents/{open_one.id}/offers", json=offer_body(), headers=headers)
    assert first.status_code == 201
    second = client.post(
        f"/api/v1/intents/{open_one.id}/offers", json=offer_body(price="1"), headers=headers
    )
    assert (second.status_code, second.json()["field"]) == (409, "intent")
    assert counts(session) == (before[0], before[1], before[2] + 1)


def test_a_blocked_brand_can_neither_see_nor_offer(client: TestClient, session: Session) -> None:
    person, brand = make_person(session), ready_brand(session)
    _, key = make_api_key(session, brand=brand, role=Role.marketer)
    headers = {"Authorization": f"Bearer {key}"}
    seen, unseen = make_intent(session, person=person), make_intent(session, person=person)
    intents.visible_intent(session, brand.id, seen.id)
    intents.block(session, person.id, brand.slug)
    assert client.get("/api/v1/intents", headers=headers).json()["items"] == []
    response = client.post(f"/api/v1/intents/{seen.id}/offers", json=offer_body(), headers=headers)
    assert (response.status_code, response.json()["field"]) == (403, "intent")
    response = client.post(
        f"/api/v1/intents/{unseen.id}/offers", json=offer_body(), headers=headers
    )
    assert (response.status_code, response.json()["field"]) == (404, "intent")


def test_accepting_what_cannot_be_accepted(client: TestClient, session: Session) -> None:
    person, brand, other = make_person(session), ready_brand(session), ready_brand(session)
    intent = make_intent(session, person=person)
    offers = {}
    for b in (brand, other):
        _, key = make_api_key(session, brand=b, role=Role.marketer)
        made = client.post(
            f"/api/v1/intents/{intent.id}/offers",
            json=offer_body(),
            headers={"Authorization": f"Bearer {key}"},
        )
        offers[b.id] = made.json()["id"]
    session.execute(
        update(Offer)
        .where(Offer.brand_id == brand.id)
        .values(expires_at=utcnow() - timedelta(minutes=1))
    )
    session.flush()
    sign_in_person(client, session, person.email)
    csrf = {"x-csrf-token": csrf_of(client, "/home")}
    late = client.post(f"/api/v1/me/offers/{offers[brand.id]}/accept", headers=csrf)
    assert (late.status_code, late.json()["field"]) == (409, "offer")
    session.expire_all()
    assert session.get(Intent, intent.id).status == "open"  # type: ignore[union-attr]
    ok = client.post(f"/api/v1/me/offers/{offers[other.id]}/accept", headers=csrf)
    assert ok.status_code == 200
    again = client.post(f"/api/v1/me/offers/{offers[other.id]}/accept", headers=csrf)
    assert (again.status_code, again.json()["field"]) == (409, "offer")
    stranger = make_person(session)
    sign_in_person(client, session, stranger.email)
    csrf = {"x-csrf-token": csrf_of(client, "/home")}
    theirs = client.post(f"/api/v1/me/offers/{offers[other.id]}/accept", headers=csrf)
    assert (theirs.status_code, theirs.json()["field"]) == (404, "offer")
