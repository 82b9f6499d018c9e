"""The terms API: a person proffers, a brand publishes and answers, both download one record;
the well-known documents; bad input is a 4xx naming the field, with nothing written."""

from __future__ import annotations

import uuid
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from accord.consent.models import LedgerEvent
from accord.terms.models import Agreement, Proffer
from tests.builders import make_api_key, make_brand, make_person, make_relationship
from tests.helpers import csrf_of, sign_in_person


def person_client(client: TestClient, session: Session, email: str) -> dict[str, str]:
    sign_in_person(client, session, email)
    return {"x-csrf-token": csrf_of(client, "/home")}


def count(session: Session, model: object) -> int:
    return int(session.scalar(select(func.count()).select_from(model)) or 0)  # type: ignore[arg-type]


def test_proffer_answer_and_the_same_record_for_both(client: TestClient, session: Session) -> None:
    brand, person = make_brand(session), make_person(session)
    make_relationship(session, person=person, brand=brand)
    _, key = make_api_key(session, brand=brand)
    brand_headers = {"Authorization": f"Bearer {key}"}
    headers = person_client(client, session, person.email)
    made = client.post(
        "/api/v1/me/terms/proffers",
        json={"terms": "no-stalking", "brand": brand.slug},
        headers=headers,
    )
    assert made.status_code == 201, made.text
    [row] = made.json()["agreements"]
    assert row["status"] == "pending"
    pending = client.get(
        "/api/v1/terms/agreements", params={"status": "pending"}, headers=brand_headers
    ).json()["items"]
    assert [a["id"] for a in pending] == [row["id"]] and pending[0]["person_id"] == str(person.id)
    answered = client.post(
        f"/api/v1/terms/agreements/{row['id']}/answer",
        json={"answer": "accept"},
        headers=brand_headers,
    )
    assert answered.status_code == 200 and answered.json()["effects"] == [
        "no_profiling",
        "no_tracking",
    ]
    events = count(session, LedgerEvent)
    again = client.post(
        f"/api/v1/terms/agreements/{row['id']}/answer",
        json={"answer": "decline"},
        headers=brand_headers,
    )
    assert again.status_code == 409 and again.json()["field"] == "answer"
    assert count(session, LedgerEvent) == events  # the second answer wrote nothing
    stored = session.get(Agreement, uuid.UUID(row["id"]))
    assert stored is not None and stored.status == "accepted"
    mine = client.get(f"/api/v1/me/terms/agreements/{row['id']}/record").json()
    theirs = client.get(
        f"/api/v1/terms/agreements/{row['id']}/record", headers=brand_headers
    ).json()
    assert mine == theirs and {s["signer"] for s in mine["signatures"]} == {"instance", "brand"}
    brand_doc = client.get(f"/.well-known/accord-terms/{brand.slug}.json").json()
    assert mine["signatures"][1]["kid"] in {k["kid"] for k in brand_doc["keys"]}
    instance = client.get("/.well-known/accord-terms.json").json()
    assert {e["id"] for e in instance["roster"]} >= {"service-only", "intent-only"}
    effects = client.get(f"/api/v1/terms/people/{person.id}/effects", headers=brand_headers).json()
    assert effects["effects"] == ["no_profiling", "no_tracking"]


def test_publish_and_only_my_terms(client: TestClient, session: Session) -> None:
    brand, person = make_brand(session), make_person(session)
    make_relationship(session, person=person, brand=brand)
    _, key = make_api_key(session, brand=brand)
    brand_headers = {"Authorization": f"Bearer {key}"}
    published = client.put(
        "/api/v1/terms/accepted",
        json={"accepts": [{"id": "no-sharing", "version": 1}]},
        headers=brand_headers,
    )
    assert published.status_code == 200 and [e["id"] for e in published.json()] == ["no-sharing"]
    doc = client.get(f"/.well-known/accord-terms/{brand.slug}.json").json()
    assert doc["accepts"] == [{"id": "no-sharing", "version": 1, "title": "No sharing"}]
    headers = person_client(client, session, person.email)
    made = client.post("/api/v1/me/terms/proffers", json={"terms": "no-sharing"}, headers=headers)
    assert made.status_code == 201 and made.json()["brand_id"] is None
    assert [a["status"] for a in made.json()["agreements"]] == ["accepted"]
    exported = client.get("/api/v1/me/export").json()["terms"]
    assert exported["effects"][0]["effects"] == ["no_sharing"]
    assert exported["proffers"][0]["terms"] == {"id": "no-sharing", "version": 1}
    stance = client.put(
        "/api/v1/me/terms/only-my-terms", json={"only_my_terms": True}, headers=headers
    )
    assert stance.json() == {"only_my_terms": True}
    withdrawn = client.post(
        f"/api/v1/me/terms/proffers/{made.json()['id']}/withdraw", headers=headers
    )
    assert withdrawn.status_code == 200
    assert [a["status"] for a in withdrawn.json()["agreements"]] == ["withdrawn"]


def test_bad_input_names_the_field_and_writes_nothing(client: TestClient, session: Session) -> None:
    brand, stranger, person = make_brand(session), make_brand(session), make_person(session)
    make_relationship(session, person=person, brand=brand)
    _, key = make_api_key(session, brand=brand)
    brand_headers = {"Authorization": f"Bearer {key}"}
    headers = person_client(client, session, person.email)
    before = (count(session, Proffer), count(session, Agreement), count(session, LedgerEvent))
    cases = [
        ({"terms": "no-such-thing"}, 404, "terms"),
        ({"terms": "no-stalking", "version": 7}, 404, "version"),
        ({"terms": "no-stalking", "version": 0}, 422, "version"),
        ({"terms": "no-stalking", "brand": "no-such-brand"}, 404, "brand"),
        ({"terms": "no-stalking", "brand": stranger.slug}, 409, "brand"),
        ({"terms": "Not A Slug"}, 422, "terms"),
        ({"terms": "no-stalking", "extra": 1}, 422, "extra"),
    ]
    for body, code, field in cases:
        response = client.post("/api/v1/me/terms/proffers", json=body, headers=headers)
        assert (response.status_code, response.json()["field"]) == (code, field), body
    for body, field in [
        ({"accepts": [{"id": "nope", "version": 1}]}, "accepts.0.id"),
        ({"accepts": [{"id": "no-sharing", "version": 3}]}, "accepts.0.version"),
    ]:
        response = client.put("/api/v1/terms/accepted", json=body, headers=brand_headers)
        assert (response.status_code, response.json()["field"]) == (404, field)
    after = (count(session, Proffer), count(session, Agreement), count(session, LedgerEvent))
    assert after == before
    made = client.post(
        "/api/v1/me/terms/proffers",
        json={"terms": "service-only", "brand": brand.slug},
        headers=headers,
    ).json()
    row = made["agreements"][0]["id"]
    for body, code, field in [
        ({"answer": "alternative"}, 422, "alternative"),
        ({"answer": "alternative", "alternative": {"id": "service-only"}}, 422, "alternative.id"),
        ({"answer": "alternative", "alternative": {"id": "nope"}}, 404, "alternative.id"),
        ({"answer": "maybe"}, 422, "answer"),
    ]:
        response = client.post(
            f"/api/v1/terms/agreements/{row}/answer", json=body, headers=brand_headers
        )
        assert (response.status_code, response.json()["field"]) == (code, field), body
    stored = session.get(Agreement, uuid.UUID(row))
    assert stored is not None and stored.status == "pending"


def test_every_proffer_answer_and_withdrawal_is_a_ledger_event_with_a_receipt(
    client: TestClient, session: Session
) -> None:
    from accord.core.signing import verify_document

    brand, person = make_brand(session), make_person(session)
    make_relationship(session, person=person, brand=brand)
    _, key = make_api_key(session, brand=brand)
    brand_headers = {"Authorization": f"Bearer {key}"}
    headers = person_client(client, session, person.email)
    seen = {e["seq"] for e in client.get("/api/v1/me/history").json()}

    def proffer(slug: str) -> dict[str, Any]:
        made = client.post(
            "/api/v1/me/terms/proffers", json={"terms": slug, "brand": brand.slug}, headers=headers
        )
        assert made.status_code == 201, made.text
        return made.json()  # type: ignore[no-any-return]

    def answer(made: dict[str, Any], body: dict[str, Any]) -> None:
        [row] = made["agreements"]
        answered = client.post(
            f"/api/v1/terms/agreements/{row['id']}/answer", json=body, headers=brand_headers
        )
        assert answered.status_code == 200, answered.text

    answer(proffer("no-stalking"), {"answer": "accept"})
    answer(proffer("no-sharing"), {"answer": "decline"})
    offered = proffer("no-ai-training")
    answer(offered, {"answer": "alternative", "alternative": {"id": "no-sharing"}})
    withdrawn = client.post(f"/api/v1/me/terms/proffers/{offered['id']}/withdraw", headers=headers)
    assert withdrawn.status_code == 200
    everywhere = client.post(
        "/api/v1/me/terms/proffers", json={"terms": "intent-only"}, headers=headers
    )
    assert everywhere.status_code == 201

    new = [e for e in client.get("/api/v1/me/history").json() if e["seq"] not in seen]
    actions = [e["event"]["action"] for e in reversed(new)]
    assert actions[:7] == [
        "terms_proffer", "terms_agreed",
        "terms_proffer", "terms_declined",
        "terms_proffer", "terms_alternative", "terms_withdraw",
    ]  # fmt: skip
    assert "terms_proffer" in actions[7:]
    keys = client.get("/.well-known/accord-keys.json").json()["keys"]
    for event in new:
        receipt = client.get(f"/api/v1/me/receipts/{event['seq']}").json()
        assert receipt["ledger"]["hash"] == event["hash"], event
        assert verify_document(receipt, keys), event
        receipt["ledger"]["event"]["action"] = "grant"
        assert not verify_document(receipt, keys)
    # The brand sees the events about it in its consent feed, each with a receipt.
    feed = client.get(
        "/api/v1/consent/events", params={"limit": 100}, headers=brand_headers
    ).json()["items"]
    about_terms = [e for e in feed if e["action"].startswith("terms_")]
    assert [e["action"] for e in about_terms][:7] == actions[:7]
    for event in about_terms:
        receipt = client.get(
            f"/api/v1/consent/events/{event['id']}/receipt", headers=brand_headers
        ).json()
        assert verify_document(receipt, keys), event
