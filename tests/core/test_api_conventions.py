"""Idempotency keys, cursor pagination, malformed and oversize bodies, CSRF on forms."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from accord.brands.models import ApiKey, Member
from accord.people.models import Person
from tests.builders import make_api_key, make_brand, make_member


def bearer(secret: str, **extra: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {secret}", **extra}


def test_same_key_and_body_replays_the_stored_response(
    client: TestClient, session: Session
) -> None:
    brand = make_brand(session)
    _, secret = make_api_key(session, brand=brand)
    body = {"name": "idem", "role": "analyst"}
    first = client.post(
        "/api/v1/api-keys", json=body, headers=bearer(secret, **{"Idempotency-Key": "k1"})
    )
    second = client.post(
        "/api/v1/api-keys", json=body, headers=bearer(secret, **{"Idempotency-Key": "k1"})
    )
    assert first.status_code == second.status_code == 201
    assert first.json() == second.json()
    assert second.headers["idempotent-replayed"] == "true"
    assert session.scalar(select(func.count()).where(ApiKey.name == "idem")) == 1


def test_same_key_with_another_body_is_a_422(client: TestClient, session: Session) -> None:
    brand = make_brand(session)
    _, secret = make_api_key(session, brand=brand)
    headers = bearer(secret, **{"Idempotency-Key": "k2"})
    assert client.post("/api/v1/api-keys", json={"name": "a"}, headers=headers).status_code == 201
    other = client.post("/api/v1/api-keys", json={"name": "b"}, headers=headers)
    assert other.status_code == 422
    assert other.json()["field"] == "Idempotency-Key"
    assert session.scalar(select(func.count()).where(ApiKey.name == "b")) == 0


def test_keys_are_per_caller(client: TestClient, session: Session) -> None:
    a, b = make_brand(session), make_brand(session)
    _, key_a = make_api_key(session, brand=a)
    _, key_b = make_api_key(session, brand=b)
    body = {"name": "shared-key"}
    ra = client.post(
        "/api/v1/api-keys", json=body, headers=bearer(key_a, **{"Idempotency-Key": "same"})
    )
    rb = client.post(
        "/api/v1/api-keys", json=body, headers=bearer(key_b, **{"Idempotency-Key": "same"})
    )
    assert ra.status_code == rb.status_code == 201
    assert ra.json()["id"] != rb.json()["id"]


def test_cursor_pagination_walks_every_row_once_newest_first(
    client: TestClient, session: Session
) -> None:
    brand = make_brand(session)
    _, secret = make_api_key(session, brand=brand)
    for _ in range(7):
        make_member(session, brand=brand, password=None)
    seen: list[str] = []
    cursor = None
    while True:
        params = {"limit": 3, **({"cursor": cursor} if cursor else {})}
        page = client.get("/api/v1/members", params=params, headers=bearer(secret)).json()
        seen += [item["id"] for item in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    total = session.scalar(select(func.count()).where(Member.brand_id == brand.id))
    assert len(seen) == len(set(seen)) == total == 7
    created = [
        session.get(Member, __import__("uuid").UUID(i)).created_at  # type: ignore[union-attr]
        for i in seen
    ]
    assert created == sorted(created, reverse=True)
    bad = client.get("/api/v1/members", params={"cursor": "garbage!"}, headers=bearer(secret))
    assert bad.status_code == 422 and bad.json()["field"] == "cursor"
    too_many = client.get("/api/v1/members", params={"limit": 5000}, headers=bearer(secret))
    assert too_many.status_code == 422 and too_many.json()["field"] == "limit"


def test_malformed_json_is_a_422_naming_the_body(client: TestClient, session: Session) -> None:
    brand = make_brand(session)
    _, secret = make_api_key(session, brand=brand)
    response = client.post(
        "/api/v1/api-keys",
        content=b'{"name": ',
        headers=bearer(secret, **{"content-type": "application/json"}),
    )
    assert response.status_code == 422
    assert response.json() == {
        "error": "InvalidInput",
        "detail": "The request body is not valid JSON.",
        "field": "body",
        "errors": [{"field": "body", "detail": "The request body is not valid JSON."}],
    }


def test_oversize_body_is_a_413_and_nothing_is_written(
    client: TestClient, session: Session
) -> None:
    before = session.scalar(select(func.count()).select_from(Person))
    big = {"email": "big@example.com", "display_name": "x" * 2_000_000}
    response = client.post("/api/v1/people", json=big)
    assert response.status_code == 413
    assert response.json()["error"] == "PayloadTooLarge"
    assert session.scalar(select(func.count()).select_from(Person)) == before


def test_a_form_without_csrf_token_is_refused_and_writes_nothing(
    client: TestClient, session: Session
) -> None:
    response = client.post(
        "/signup", data={"email": "csrf@example.com"}, headers={"accept": "text/html"}
    )
    assert response.status_code == 403
    assert "did not come from Accord" in response.text
    assert session.scalar(select(func.count()).where(Person.email == "csrf@example.com")) == 0


def test_unknown_route_and_method_get_json_errors(client: TestClient) -> None:
    missing = client.get("/api/v1/nothing-here")
    assert missing.status_code == 404 and missing.json()["error"] == "NotFound"
    wrong = client.delete("/api/v1/brand")
    assert wrong.status_code == 405 and wrong.json()["error"] == "MethodNotAllowed"
