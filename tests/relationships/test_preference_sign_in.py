"""A preference change checks its caller's sign-in in its own first statement
(`accord.people.deps.person_to_check`), and answers as a check made before it would: a session
that no longer holds is a 401 before any other refusal, with nothing written and the cookie
cleared, whatever the change; a wrong CSRF header is a 403 only for a sign-in that holds."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from accord.people import deps as people_deps
from tests.builders import make_brand, make_topic
from tests.relationships.test_person_api import events, signed_in


def _followed(client: TestClient, session: Session) -> tuple[dict[str, str], str, str]:
    """A signed-in person following a brand with a topic: their CSRF header, the change's path
    and the topic."""
    _, csrf = signed_in(client, session)
    brand = make_brand(session)
    topic = make_topic(session, brand=brand)
    assert client.post("/api/v1/me/relationships", json={"brand": brand.slug}, headers=csrf)
    return csrf, f"/api/v1/me/relationships/{brand.id}", str(topic.id)


def _revoke(client: TestClient, csrf: dict[str, str]) -> None:
    """Sign out on the server (the session's row revoked) and keep the cookie, as a copy would."""
    kept = dict(client.cookies)
    assert client.post("/signout", headers=csrf).status_code in (200, 303)
    client.cookies.clear()
    client.cookies.update(kept)


def test_the_usual_change_makes_no_sign_in_read_of_its_own(
    client: TestClient, session: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    csrf, path, topic = _followed(client, session)

    async def not_called(*_args: Any) -> None:
        raise AssertionError("the sign-in was read before the change")

    monkeypatch.setattr(people_deps, "current_person", not_called)
    for change in ({"topics": {topic: True}}, {"brand_cap": 3}, {"topics": {topic: False}}):
        answer = client.patch(path, json=change, headers=csrf)
        assert answer.status_code == 200, answer.text
    assert answer.json()["topics"] == [] and answer.json()["brand_cap"] == 3


def test_a_session_that_no_longer_holds_is_refused_first_and_writes_nothing(
    client: TestClient, session: Session
) -> None:
    csrf, path, topic = _followed(client, session)
    other = make_brand(session)
    _revoke(client, csrf)
    refused = client.get("/api/v1/me")
    assert refused.status_code == 401
    before = events(session)
    cookies = dict(client.cookies)
    for where, change, headers in (
        (path, {"topics": {topic: True}}, csrf),  # the topic change's own statement checks it
        (path, {"brand_cap": 3}, csrf),  # any other change checks it first on its own
        (f"/api/v1/me/relationships/{other.id}", {"topics": {topic: True}}, csrf),  # not a 404
        (path, {"topics": {topic: True}}, {}),  # not a 403
        (path, {"topics": {topic: True}}, {"x-csrf-token": "wrong"}),
    ):
        client.cookies.clear()
        client.cookies.update(cookies)
        answer = client.patch(where, json=change, headers=headers)
        assert (answer.status_code, answer.json()) == (401, refused.json()), (change, headers)
        assert "accord_session=null" in answer.headers.get("set-cookie", "")
    assert events(session) == before


def test_other_refusals_come_after_a_sign_in_that_holds(
    client: TestClient, session: Session
) -> None:
    csrf, path, topic = _followed(client, session)
    other = make_brand(session)
    before = events(session)
    change = {"topics": {topic: True}}
    assert client.patch(path, json=change).status_code == 403
    assert client.patch(path, json=change, headers={"x-csrf-token": "wrong"}).status_code == 403
    unknown = client.patch(f"/api/v1/me/relationships/{other.id}", json=change, headers=csrf)
    assert unknown.status_code == 404
    assert client.patch(path, json={"topics": {str(other.id): True}}, headers=csrf).status_code == (
        404
    )
    assert events(session) == before
    assert client.patch(path, json=change, headers=csrf).status_code == 200
