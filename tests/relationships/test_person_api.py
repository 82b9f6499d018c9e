"""A person's own API: follow, change, pause, end, global preferences; bad input writes nothing."""

from __future__ import annotations

from datetime import timedelta

from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from accord.consent import ledger
from accord.consent.models import LedgerEvent
from accord.core.db import utcnow
from accord.relationships import replay
from tests.builders import make_brand, make_person, make_topic
from tests.helpers import csrf_of, sign_in_person


def signed_in(client: TestClient, session: Session) -> tuple[str, dict[str, str]]:
    person = make_person(session)
    sign_in_person(client, session, person.email)
    return str(person.id), {"x-csrf-token": csrf_of(client, "/home")}


def events(session: Session) -> int:
    return session.scalar(select(func.count()).select_from(LedgerEvent)) or 0


def test_follow_change_pause_resume_end(client: TestClient, session: Session) -> None:
    person_id, csrf = signed_in(client, session)
    brand = make_brand(session)
    topic = make_topic(session, brand=brand)
    followed = client.post("/api/v1/me/relationships", json={"brand": brand.slug}, headers=csrf)
    assert followed.status_code == 201
    assert followed.json()["purposes"] == {} and followed.json()["channels"] == {
        "transactional": ["email"]
    }
    change = {
        "purposes": {"marketing": True},
        "channels": {"marketing": {"email": True}},
        "topics": {str(topic.id): True},
        "brand_cap": 2,
    }
    changed = client.patch(f"/api/v1/me/relationships/{brand.id}", json=change, headers=csrf).json()
    assert changed["purposes"] == {"marketing": "granted"} and changed["brand_cap"] == 2
    until = (utcnow() + timedelta(days=3)).isoformat()
    paused = client.post(
        f"/api/v1/me/relationships/{brand.id}/pause", json={"until": until}, headers=csrf
    )
    assert paused.json()["state"] == "paused"
    assert (
        client.post(f"/api/v1/me/relationships/{brand.id}/resume", headers=csrf).json()["state"]
        == "active"
    )
    ended = client.post(f"/api/v1/me/relationships/{brand.id}/end", headers=csrf).json()
    assert ended["state"] == "ended" and ended["purposes"] == {} and ended["topics"] == []
    history = client.get("/api/v1/me/history").json()
    assert [h["event"]["action"] for h in history][:3] == ["end", "resume", "pause"]
    import uuid

    assert replay.replay(session, uuid.UUID(person_id)) == replay.stored(
        session, uuid.UUID(person_id)
    )
    receipt = client.get(f"/api/v1/me/receipts/{history[0]['seq']}").json()
    assert receipt["signature"]["alg"] == "EdDSA"


def test_bad_input_is_a_clear_4xx_and_writes_nothing(client: TestClient, session: Session) -> None:
    _, csrf = signed_in(client, session)
    brand = make_brand(session)
    client.post("/api/v1/me/relationships", json={"brand": brand.slug}, headers=csrf)
    stranger_brand = make_brand(session)
    foreign_topic = make_topic(session, brand=stranger_brand)
    before = events(session)
    past = (utcnow() - timedelta(days=1)).isoformat()
    cases = [
        ("post", "/api/v1/me/relationships", {"brand": "no-such-brand"}, 404, "brand"),
        ("patch", f"/api/v1/me/relationships/{stranger_brand.id}", {"brand_cap": 1}, 404, None),
        (
            "patch",
            f"/api/v1/me/relationships/{brand.id}",
            {"topics": {str(foreign_topic.id): True}},
            404,
            "topic",
        ),
        (
            "patch",
            f"/api/v1/me/relationships/{brand.id}",
            {"purposes": {"transactional": False}},
            422,
            "purpose",
        ),
        ("patch", f"/api/v1/me/relationships/{brand.id}", {"brand_cap": -1}, 422, "brand_cap"),
        # A valid change followed by an invalid one: the whole request is refused.
        (
            "patch",
            f"/api/v1/me/relationships/{brand.id}",
            {"purposes": {"marketing": True}, "topics": {str(foreign_topic.id): True}},
            404,
            "topic",
        ),
        ("post", f"/api/v1/me/relationships/{brand.id}/pause", {"until": past}, 422, "until"),
        (
            "patch",
            "/api/v1/me/preferences",
            {"quiet_start": "22:00", "quiet_end": "22:00"},
            422,
            "quiet_end",
        ),
        (
            "patch",
            "/api/v1/me/preferences",
            {"quiet_start": "25:00", "quiet_end": "07:00"},
            422,
            "quiet_start",
        ),
        ("patch", "/api/v1/me/preferences", {"paused_until": past}, 422, "paused_until"),
        ("patch", "/api/v1/me/preferences", {"global_cap": 10_000}, 422, "global_cap"),
    ]
    for method, path, body, status, field in cases:
        response = client.request(method, path, json=body, headers=csrf)
        assert response.status_code == status, (path, body, response.text)
        assert response.json()["field"] == field, (path, body, response.json())
    assert events(session) == before


def test_global_preferences_round_trip(client: TestClient, session: Session) -> None:
    person_id, csrf = signed_in(client, session)
    until = (utcnow() + timedelta(days=5)).isoformat()
    body = {
        "quiet_start": "21:30",
        "quiet_end": "07:00",
        "global_cap": 4,
        "do_not_contact": True,
        "paused_until": until,
    }
    prefs = client.patch("/api/v1/me/preferences", json=body, headers=csrf).json()
    assert (
        prefs["quiet_start"],
        prefs["quiet_end"],
        prefs["global_cap"],
        prefs["do_not_contact"],
    ) == (
        "21:30",
        "07:00",
        4,
        True,
    )
    cleared = client.patch(
        "/api/v1/me/preferences",
        json={"quiet_start": None, "quiet_end": None, "paused_until": None},
        headers=csrf,
    ).json()
    assert cleared["quiet_start"] is None and cleared["paused_until"] is None
    import uuid

    subject = uuid.UUID(person_id)
    actions = [ledger.body_of(e)["action"] for e in ledger.events_for(session, subject)]
    assert actions == [
        "set_quiet_hours",
        "set_global_cap",
        "set_do_not_contact",
        "pause_all",
        "set_quiet_hours",
        "resume_all",
    ]
    assert replay.replay(session, subject) == replay.stored(session, subject)
