"""Contact points: phone numbers in E.164 with codes by SMS (dev mailbox), attempts limited."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from accord.people.models import ContactPoint
from tests.builders import make_person
from tests.helpers import csrf_of, last_mail_to, last_text_to, sign_in_person


def setup(client: TestClient, session: Session) -> dict[str, str]:
    person = make_person(session)
    sign_in_person(client, session, person.email)
    return {"x-csrf-token": csrf_of(client, "/home")}


def test_phone_is_verified_by_the_code_it_receives(client: TestClient, session: Session) -> None:
    csrf = setup(client, session)
    added = client.post(
        "/api/v1/me/contacts/phone", json={"number": "030 1234567", "region": "de"}, headers=csrf
    )
    assert added.status_code == 201
    point = added.json()
    assert point["address"] == "+49301234567" and point["verified_at"] is None
    sms = last_text_to(session, "+49301234567")
    code = re.search(r"\b(\d{6})\b", sms.body).group(1)  # type: ignore[union-attr]
    wrong = "000000" if code != "000000" else "111111"
    bad = client.post(
        f"/api/v1/me/contacts/{point['id']}/verify", json={"code": wrong}, headers=csrf
    )
    assert (
        bad.status_code == 422
        and bad.json()["field"] == "code"
        and "4 attempt(s) left" in bad.json()["detail"]
    )
    good = client.post(
        f"/api/v1/me/contacts/{point['id']}/verify", json={"code": code}, headers=csrf
    )
    assert good.status_code == 200 and good.json()["verified_at"] is not None


def test_wrong_codes_are_limited(client: TestClient, session: Session) -> None:
    csrf = setup(client, session)
    point = client.post(
        "/api/v1/me/contacts/phone",
        json={"number": "+44 20 7946 0018", "region": "GB"},
        headers=csrf,
    ).json()
    code = re.search(r"\b(\d{6})\b", last_text_to(session, point["address"]).body).group(1)  # type: ignore[union-attr]
    wrong = "000000" if code != "000000" else "111111"
    statuses = [
        client.post(
            f"/api/v1/me/contacts/{point['id']}/verify", json={"code": wrong}, headers=csrf
        ).status_code
        for _ in range(6)
    ]
    assert statuses == [422] * 5 + [429]
    # Even the right code no longer works: a new one must be asked for.
    assert (
        client.post(
            f"/api/v1/me/contacts/{point['id']}/verify", json={"code": code}, headers=csrf
        ).status_code
        == 429
    )
    stored = session.get(ContactPoint, __import__("uuid").UUID(point["id"]))
    assert stored is not None and stored.verified_at is None


def test_invalid_numbers_name_the_field_and_write_nothing(
    client: TestClient, session: Session
) -> None:
    csrf = setup(client, session)
    before = session.scalar(select(func.count()).select_from(ContactPoint))
    for body, field in (
        ({"number": "12345", "region": "DE"}, "number"),
        ({"number": "030 1234567", "region": "US"}, "number"),
        ({"number": "030 1234567", "region": "Germany"}, "region"),
        ({"number": "not a number", "region": "DE"}, "number"),
    ):
        response = client.post("/api/v1/me/contacts/phone", json=body, headers=csrf)
        assert response.status_code == 422 and response.json()["field"] == field, body
    assert session.scalar(select(func.count()).select_from(ContactPoint)) == before


# A browser's P-256 public key (uncompressed point, base64url): the curve's generator.
P256DH = "BGsX0fLhLEJH-Lzm5WOkQPJ3A32BLeszoPShOUXYmMKWT-NC4v4af5uO5-tKfA-eFivOM1drMV7Oy7ZAaDe_UfU"


def test_email_push_and_postal_contact_points(client: TestClient, session: Session) -> None:
    csrf = setup(client, session)
    email = client.post(
        "/api/v1/me/contacts/email", json={"address": "Second@Example.com"}, headers=csrf
    ).json()
    assert email["verified_at"] is None
    assert "/contacts/verify?token=" in last_mail_to(session, "second@example.com").text_body
    push = client.post(
        "/api/v1/me/contacts/push",
        json={"endpoint": "https://push.example/abc", "p256dh": P256DH, "auth": "a" * 22},
        headers=csrf,
    ).json()
    assert push["verified_at"] is not None
    postal = client.post(
        "/api/v1/me/contacts/postal", json={"address": "1 Main St, Springfield"}, headers=csrf
    )
    assert postal.status_code == 201
    dup = client.post(
        "/api/v1/me/contacts/email", json={"address": "second@example.com"}, headers=csrf
    )
    assert dup.status_code == 409
    primary = next(c for c in client.get("/api/v1/me/contacts").json() if c["is_primary"])
    assert client.delete(f"/api/v1/me/contacts/{primary['id']}", headers=csrf).status_code == 409
    assert client.delete(f"/api/v1/me/contacts/{push['id']}", headers=csrf).status_code == 204


def test_any_valid_number_is_accepted_whatever_region_phonenumbers_files_it_under() -> None:
    from accord.core.errors import InvalidInput
    from accord.people.contacts import parse_phone

    # phonenumbers files +44 7911 123456 under Guernsey; typed with GB it must still work.
    assert parse_phone("+44 7911 123456", "GB") == "+447911123456"
    assert parse_phone("07911 123456", "GB") == "+447911123456"
    try:
        parse_phone("+44 12", "GB")
    except InvalidInput as exc:
        assert exc.field == "number" and "not a valid phone number" in exc.detail
    else:
        raise AssertionError("a short number was accepted")
