"""API keys: shown once, stored hashed, scoped, revocable, last use recorded; roles enforced."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from accord.brands.models import ApiKey
from accord.core.permissions import PERMISSIONS, Permission, Role
from tests.builders import PASSWORD, make_api_key, make_brand, make_member
from tests.helpers import csrf_of, sign_in_member


def bearer(secret: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {secret}"}


def test_owner_creates_a_key_shown_once_and_stored_hashed(
    client: TestClient, session: Session
) -> None:
    brand = make_brand(session)
    _, owner_secret = make_api_key(session, brand=brand, role=Role.owner)
    created = client.post(
        "/api/v1/api-keys", json={"name": "shop", "role": "analyst"}, headers=bearer(owner_secret)
    )
    assert created.status_code == 201
    secret = created.json()["secret"]
    assert secret.startswith(created.json()["prefix"])
    stored = session.scalars(select(ApiKey).where(ApiKey.name == "shop")).one()
    assert secret not in (stored.key_hash, stored.prefix)
    listed = client.get("/api/v1/api-keys", headers=bearer(owner_secret)).json()["items"]
    assert all("secret" not in item for item in listed)
    fetched = client.get(f"/api/v1/api-keys/{stored.id}", headers=bearer(owner_secret)).json()
    assert "secret" not in fetched

    me = client.get("/api/v1/brand", headers=bearer(secret))
    assert me.status_code == 200 and me.json()["slug"] == brand.slug
    session.refresh(stored)
    assert stored.last_used_at is not None


def test_revoked_wrong_and_malformed_keys_all_get_the_same_401(
    client: TestClient, session: Session
) -> None:
    brand = make_brand(session)
    key, secret = make_api_key(session, brand=brand)
    _, owner = make_api_key(session, brand=brand)
    assert (
        client.post(f"/api/v1/api-keys/{key.id}/revoke", headers=bearer(owner)).status_code == 200
    )
    answers = [
        client.get("/api/v1/brand", headers=bearer(secret)),  # revoked
        client.get("/api/v1/brand", headers=bearer(secret[:-2] + "xx")),  # wrong
        client.get("/api/v1/brand", headers=bearer("nonsense")),  # malformed
        client.get("/api/v1/brand", headers={"Authorization": f"Basic {secret}"}),
        client.get("/api/v1/brand"),  # missing
    ]
    assert {a.status_code for a in answers} == {401}
    assert len({a.text for a in answers}) == 1


def test_roles_follow_the_permission_table(client: TestClient, session: Session) -> None:
    brand = make_brand(session)
    for role in Role:
        _, secret = make_api_key(session, brand=brand, role=role, name=role.value)
        may_manage_keys = Permission.manage_api_keys in PERMISSIONS[role]
        response = client.post(
            "/api/v1/api-keys", json={"name": f"by {role.value}"}, headers=bearer(secret)
        )
        assert response.status_code == (201 if may_manage_keys else 403), role
        if not may_manage_keys:
            assert response.json()["error"] == "PermissionDenied"
        patch = client.patch("/api/v1/brand", json={"kind": "x"}, headers=bearer(secret))
        assert patch.status_code == (200 if Permission.manage_brand in PERMISSIONS[role] else 403)
    assert session.scalar(select(func.count()).where(ApiKey.name == "by marketer")) == 0


def test_member_signs_in_and_creates_a_key_in_the_console(
    client: TestClient, session: Session
) -> None:
    brand = make_brand(session)
    member = make_member(session, brand=brand, role=Role.owner)
    sign_in_member(client, member.email, PASSWORD)
    page = client.post(
        "/console/api-keys",
        data={
            "name": "warehouse",
            "role": "marketer",
            "csrf_token": csrf_of(client, "/console/api-keys"),
        },
    )
    assert page.status_code == 200
    assert "Copy it now" in page.text
    key = session.scalars(select(ApiKey).where(ApiKey.name == "warehouse")).one()
    assert key.created_by_id == member.id
    again = client.get("/console/api-keys", headers={"accept": "text/html"})
    assert key.prefix in again.text and "Copy it now" not in again.text


def test_wrong_password_says_nothing_about_which_part_was_wrong(
    client: TestClient, session: Session
) -> None:
    brand = make_brand(session)
    member = make_member(session, brand=brand)
    csrf = csrf_of(client, "/console/signin")
    wrong_pw = client.post(
        "/console/signin", data={"email": member.email, "password": "nope", "csrf_token": csrf}
    )
    no_user = client.post(
        "/console/signin",
        data={"email": "ghost@example.com", "password": "nope", "csrf_token": csrf},
    )
    assert wrong_pw.status_code == no_user.status_code == 422
    assert "The e-mail address or the password is wrong." in wrong_pw.text
    assert "The e-mail address or the password is wrong." in no_user.text
    assert client.get("/console", follow_redirects=False).status_code == 401
