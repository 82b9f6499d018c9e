"""Schemathesis over every operation, as a brand (each role, by API key) and as a person
(session cookie and CSRF header): 0 server errors, 0 undocumented statuses, 0 answers that break
their documented schema. Routes added later are covered without being listed here.

Left out are only the operations that end the caller's own credentials, which would end the
run: deleting one's account and revoking API keys (tested below on their own)."""

from __future__ import annotations

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from accord.core.permissions import Role
from tests.api_fuzz import Caller, fuzz
from tests.builders import make_api_key, make_brand, make_person, make_relationship, make_topic
from tests.helpers import csrf_of, sign_in_person

ENDS_OWN_CREDENTIALS = [
    ("DELETE", "/api/v1/me"),
    ("POST", "/api/v1/api-keys/{api_key_id}/revoke"),
]
# Bounded: the suite runs this on both databases for five callers.
EXAMPLES = {"owner": 4, "person": 4}
FEW = 2


def _brand_world(session: Session) -> tuple[dict[str, str], dict[Role, str]]:
    brand = make_brand(session)
    topic = make_topic(session, brand=brand)
    person = make_person(session)
    make_relationship(session, person=person, brand=brand, marketing=True, channels=("email",))
    keys = {role: make_api_key(session, brand=brand, role=role)[1] for role in Role}
    ids = {"topic_id": str(topic.id), "person_id": str(person.id), "brand_id": str(brand.id)}
    return ids, keys


@pytest.mark.parametrize("role", list(Role))
def test_every_operation_as_each_brand_role(app: FastAPI, session: Session, role: Role) -> None:
    ids, keys = _brand_world(session)
    caller = Caller(role.value, headers={"Authorization": f"Bearer {keys[role]}"}, known_ids=ids)
    examples = EXAMPLES.get(role.value, FEW)
    assert fuzz(app, caller, examples=examples, skip=ENDS_OWN_CREDENTIALS) == []


def test_every_operation_as_a_person(app: FastAPI, client: TestClient, session: Session) -> None:
    brand = make_brand(session)
    topic = make_topic(session, brand=brand)
    person = make_person(session, email="fuzz.person@example.com")
    make_relationship(session, person=person, brand=brand, marketing=True, channels=("email",))
    sign_in_person(client, session, "fuzz.person@example.com")
    caller = Caller(
        "person",
        headers={"X-CSRF-Token": csrf_of(client, "/home")},
        cookies={"accord_session": client.cookies["accord_session"]},
        known_ids={"brand_id": str(brand.id), "topic_id": str(topic.id)},
    )
    assert fuzz(app, caller, examples=EXAMPLES["person"], skip=ENDS_OWN_CREDENTIALS) == []


def test_the_left_out_operations_end_the_callers_credentials(
    client: TestClient, session: Session
) -> None:
    brand = make_brand(session)
    key, secret = make_api_key(session, brand=brand)
    bearer = {"Authorization": f"Bearer {secret}"}
    revoked = client.post(f"/api/v1/api-keys/{key.id}/revoke", headers=bearer)
    assert revoked.status_code == 200, revoked.text
    assert client.get("/api/v1/brand", headers=bearer).status_code == 401

    make_person(session, email="leaving@example.com")
    sign_in_person(client, session, "leaving@example.com")
    csrf = {"X-CSRF-Token": csrf_of(client, "/home")}
    assert client.delete("/api/v1/me", headers=csrf).status_code == 204
    assert client.get("/api/v1/me").status_code == 401
