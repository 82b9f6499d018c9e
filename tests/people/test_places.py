"""Where the law sees a person: their verified phone's country and state (from the area code),
else the country in their profile."""

from __future__ import annotations

import re
import uuid

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from accord.people.models import ContactPoint, Person
from accord.people.phone_places import subdivision_of
from tests.builders import make_person
from tests.helpers import csrf_of, last_text_to, sign_in_person


def test_area_codes_give_states_and_provinces() -> None:
    assert subdivision_of("+13055551234") == "FL"
    assert subdivision_of("+14055551234") == "OK"
    assert subdivision_of("+14105551234") == "MD"
    assert subdivision_of("+12125551234") == "NY"  # "New York, NY"
    assert subdivision_of("+12025550123") == "DC"
    assert subdivision_of("+14165551234") == "ON"
    assert subdivision_of("+18005551234") is None  # toll-free: nowhere in particular
    assert subdivision_of("+4915112345678") is None


def place(session: Session, person_id: uuid.UUID) -> tuple[str | None, str | None]:
    session.expire_all()
    person = session.get(Person, person_id)
    assert person is not None
    return person.place_country, person.place_subdivision


def test_the_phone_decides_then_the_profile(client: TestClient, session: Session) -> None:
    person = make_person(session)
    session.commit()
    sign_in_person(client, session, person.email)
    csrf = {"x-csrf-token": csrf_of(client, "/home")}
    assert place(session, person.id) == (None, None)
    profile = client.patch("/api/v1/me", json={"country": "de"}, headers=csrf)
    assert profile.status_code == 200 and profile.json()["country"] == "DE"
    assert place(session, person.id) == ("DE", None)
    added = client.post(
        "/api/v1/me/contacts/phone", json={"number": "(305) 555-0181", "region": "US"}, headers=csrf
    ).json()
    point = session.get(ContactPoint, uuid.UUID(added["id"]))
    assert point is not None and (point.region, point.subdivision) == ("US", "FL")
    assert place(session, person.id) == ("DE", None)  # not verified yet
    code = re.search(r"\b(\d{6})\b", last_text_to(session, "+13055550181").body)
    assert code is not None
    verified = client.post(
        f"/api/v1/me/contacts/{added['id']}/verify", json={"code": code.group(1)}, headers=csrf
    )
    assert verified.status_code == 200
    assert place(session, person.id) == ("US", "FL")
    client.delete(f"/api/v1/me/contacts/{added['id']}", headers=csrf)
    assert place(session, person.id) == ("DE", None)
    cleared = client.patch("/api/v1/me", json={"country": ""}, headers=csrf)
    assert cleared.status_code == 200 and cleared.json()["country"] is None
    assert place(session, person.id) == (None, None)


def test_a_country_that_is_not_one_is_refused(client: TestClient, session: Session) -> None:
    person = make_person(session)
    session.commit()
    sign_in_person(client, session, person.email)
    csrf = {"x-csrf-token": csrf_of(client, "/home")}
    bad = client.patch("/api/v1/me", json={"country": "XX"}, headers=csrf)
    assert bad.status_code == 422 and bad.json()["field"] == "country"
    page = client.post("/profile", data={"country": "Germany", "csrf_token": csrf["x-csrf-token"]})
    assert page.status_code == 422 and 'value="Germany"' in page.text
    assert "Choose your country from the list." in page.text
