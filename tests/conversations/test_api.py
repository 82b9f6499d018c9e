"""The conversation APIs: brand and person, cursor pagination, Idempotency-Key, every bad input
refused naming the field with nothing written, and one person never reaching another's."""

from __future__ import annotations

import base64

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from accord.conversations.models import Attachment, Message, Thread
from accord.core.permissions import Role
from accord.relationships import decisions
from tests.builders import make_api_key, make_person
from tests.conversations import PNG, bearer, count, pair
from tests.helpers import csrf_of, sign_in_person


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def test_brand_opens_lists_answers_and_closes(client: TestClient, session: Session) -> None:
    p = pair(session)
    headers = {**bearer(p.key), "Idempotency-Key": "open-1"}
    body = {"person_id": str(p.person.id), "subject": "Your order", "body": "It shipped today."}
    opened = client.post("/api/v1/threads", json=body, headers=headers)
    assert opened.status_code == 201, opened.text
    again = client.post("/api/v1/threads", json=body, headers=headers)
    assert again.json()["id"] == opened.json()["id"] and count(session, Thread) == 1
    thread_id = opened.json()["id"]
    assert opened.json()["waiting_on"] == "person" and opened.json()["started_by"] == "brand"

    for n in range(3):
        r = client.post(
            f"/api/v1/threads/{thread_id}/messages",
            json={
                "body": f"Update {n}",
                "attachments": [{"filename": "label.png", "content_base64": b64(PNG)}],
            },
            headers=bearer(p.key),
        )
        assert r.status_code == 201, r.text
    assert r.json()["attachments"][0]["content_type"] == "image/png"
    attachment_id = r.json()["attachments"][0]["id"]
    got = client.get(f"/api/v1/conversation-attachments/{attachment_id}", headers=bearer(p.key))
    assert got.content == PNG and got.headers["x-content-type-options"] == "nosniff"
    assert got.headers["content-disposition"].startswith("attachment;")

    first = client.get(
        f"/api/v1/threads/{thread_id}/messages?limit=2", headers=bearer(p.key)
    ).json()
    assert [m["body"] for m in first["items"]] == ["Update 2", "Update 1"]
    rest = client.get(
        f"/api/v1/threads/{thread_id}/messages?limit=2&cursor={first['next_cursor']}",
        headers=bearer(p.key),
    ).json()
    assert [m["body"] for m in rest["items"]] == ["Update 0", "It shipped today."]
    assert rest["next_cursor"] is None

    patched = client.patch(
        f"/api/v1/threads/{thread_id}",
        json={"status": "closed", "assigned_member_id": str(p.member.id)},
        headers=bearer(p.key),
    )
    assert patched.status_code == 200, patched.text
    assert patched.json()["status"] == "closed" and patched.json()["assigned_member_id"] == str(
        p.member.id
    )
    listed = client.get("/api/v1/threads?filter=closed", headers=bearer(p.key)).json()
    assert [t["id"] for t in listed["items"]] == [thread_id]
    assert client.get("/api/v1/threads", headers=bearer(p.key)).json()["items"] == []

    note = client.post(
        f"/api/v1/threads/{thread_id}/notes", json={"body": "VIP"}, headers=bearer(p.key)
    )
    assert note.status_code == 201
    notes = client.get(f"/api/v1/threads/{thread_id}/notes", headers=bearer(p.key)).json()
    assert [n["body"] for n in notes] == ["VIP"]


def test_bad_input_is_refused_by_field_and_writes_nothing(
    client: TestClient, session: Session
) -> None:
    p = pair(session)
    stranger = make_person(session)
    cases = [
        ({"person_id": str(p.person.id), "body": "  "}, 422, "body"),
        (
            {
                "person_id": str(p.person.id),
                "body": "x",
                "attachments": [{"filename": "a.png", "content_base64": "%%%"}],
            },
            422,
            "attachments.0.content_base64",
        ),
        (
            {
                "person_id": str(p.person.id),
                "body": "x",
                "attachments": [{"filename": "a.html", "content_base64": b64(b"<html></html>")}],
            },
            422,
            "attachments",
        ),
        (
            {
                "person_id": str(p.person.id),
                "body": "x",
                "attachments": [{"filename": "a.png", "content_base64": b64(PNG + bytes(600_000))}],
            },
            413,
            "attachments",
        ),
        ({"person_id": str(stranger.id), "body": "Hello"}, 404, "person_id"),
        ({"person_id": "not-a-uuid", "body": "Hello"}, 422, "person_id"),
        ({"person_id": str(p.person.id), "body": "x", "subject": "two\nlines"}, 422, "subject"),
        ({"person_id": str(p.person.id), "body": "x", "surprise": 1}, 422, "surprise"),
    ]
    for body, status, field in cases:
        r = client.post("/api/v1/threads", json=body, headers=bearer(p.key))
        assert (r.status_code, r.json()["field"]) == (status, field), (body, r.text)
    decisions.end(session, decisions.get(session, p.person.id, p.brand.id), decisions.PORTAL)
    r = client.post(
        "/api/v1/threads", json={"person_id": str(p.person.id), "body": "Hi"}, headers=bearer(p.key)
    )
    assert r.status_code == 409 and "ended" in r.json()["detail"]
    assert (count(session, Thread), count(session, Message), count(session, Attachment)) == (
        0,
        0,
        0,
    )


def test_a_role_without_conversations_is_refused(client: TestClient, session: Session) -> None:
    p = pair(session)
    _, analyst = make_api_key(session, brand=p.brand, role=Role.analyst)
    assert client.get("/api/v1/threads", headers=bearer(analyst)).status_code == 403
    _, support = make_api_key(session, brand=p.brand, role=Role.support)
    assert client.get("/api/v1/threads", headers=bearer(support)).status_code == 200
    mine = client.get("/api/v1/threads?filter=mine", headers=bearer(support))
    assert mine.status_code == 422 and mine.json()["field"] == "filter"


def test_person_writes_and_reads_only_their_own(client: TestClient, session: Session) -> None:
    p = pair(session, email="writer@people.example")
    other = pair(session, email="other@people.example")
    session.commit()
    sign_in_person(client, session, "writer@people.example")
    csrf = {"X-CSRF-Token": csrf_of(client, "/conversations")}
    started = client.post(
        "/api/v1/me/threads",
        json={"brand_id": str(p.brand.id), "body": "Do you ship to Lisbon?"},
        headers=csrf,
    )
    assert started.status_code == 201, started.text
    thread_id = started.json()["id"]
    assert started.json()["subject"] == "Do you ship to Lisbon?"
    refused = client.post(
        "/api/v1/me/threads", json={"brand_id": str(other.brand.id), "body": "Hi"}, headers=csrf
    )
    assert refused.status_code == 409 and refused.json()["field"] == "brand_id"

    answer = client.post(
        f"/api/v1/threads/{thread_id}/messages", json={"body": "We do."}, headers=bearer(p.key)
    )
    assert answer.status_code == 201
    assert client.get(f"/api/v1/me/threads/{thread_id}").json()["unread"] == 1
    messages = client.get(f"/api/v1/me/threads/{thread_id}/messages").json()["items"]
    assert [m["author"] for m in messages] == ["brand", "person"] and "member_id" not in messages[0]
    assert client.get(f"/api/v1/me/threads/{thread_id}").json()["unread"] == 0
    assert (
        client.post(
            f"/api/v1/me/threads/{thread_id}/messages", json={"body": ""}, headers=csrf
        ).json()["field"]
        == "body"
    )

    theirs = client.post(
        "/api/v1/threads",
        json={"person_id": str(other.person.id), "body": "Private"},
        headers=bearer(other.key),
    ).json()["id"]
    for method, path in [
        ("GET", f"/api/v1/me/threads/{theirs}"),
        ("GET", f"/api/v1/me/threads/{theirs}/messages"),
        ("POST", f"/api/v1/me/threads/{theirs}/messages"),
        ("GET", f"/conversations/{theirs}"),
    ]:
        r = client.request(
            method, path, json={"body": "x"}, headers={**csrf, "accept": "application/json"}
        )
        assert r.status_code == 404, (method, path, r.text)
