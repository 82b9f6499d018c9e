"""Sign-up and magic-link sign-in through the API and the pages, on both databases."""

from __future__ import annotations

from datetime import timedelta

from fastapi.testclient import TestClient
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from accord.core.auth_models import MagicLink
from accord.core.db import utcnow
from accord.mail.models import DevMailMessage
from accord.people.models import ContactPoint, Person
from tests.builders import make_person
from tests.helpers import csrf_of, last_mail_to, link_token, sign_in_person


def count(session: Session, model: type) -> int:
    return session.scalar(select(func.count()).select_from(model)) or 0


def test_sign_up_mails_a_link_that_signs_in_and_verifies_the_address(
    client: TestClient, session: Session
) -> None:
    response = client.post(
        "/api/v1/people",
        json={"email": "New.Person@Example.com", "time_zone": "Europe/Berlin", "locale": "de"},
    )
    assert response.status_code == 202
    person = session.scalars(select(Person).where(Person.email == "new.person@example.com")).one()
    point = session.scalars(select(ContactPoint).where(ContactPoint.person_id == person.id)).one()
    assert point.verified_at is None

    mail = last_mail_to(session, "new.person@example.com")
    token = link_token(mail.text_body)
    # Only the hash is stored: the token itself appears in no row.
    assert session.scalar(select(MagicLink.token_hash)) != token
    assert session.scalar(select(func.count()).where(MagicLink.token_hash == token)) == 0

    assert client.get("/api/v1/me").status_code == 401
    confirm = client.get(f"/auth/link?token={token}", headers={"accept": "text/html"})
    assert "Sign me in" in confirm.text  # a GET does not use the link up
    used = client.post(
        "/auth/link", data={"token": token, "csrf_token": csrf_of(client)}, follow_redirects=False
    )
    assert used.status_code == 303 and used.headers["location"] == "/home"
    me = client.get("/api/v1/me").json()
    assert me["email"] == "new.person@example.com"
    assert me["time_zone"] == "Europe/Berlin"
    session.refresh(point)
    assert point.verified_at is not None
    home = client.get("/home", headers={"accept": "text/html"})
    assert "verified" in home.text


def test_a_link_works_once(client: TestClient, session: Session) -> None:
    person = make_person(session, email="once@example.com")
    client.post("/api/v1/auth/sign-in-links", json={"email": person.email})
    token = link_token(last_mail_to(session, person.email).text_body)
    form = {"token": token, "csrf_token": csrf_of(client)}
    assert client.post("/auth/link", data=form, follow_redirects=False).status_code == 303
    other = TestClient(client.app)
    again = other.post(
        "/auth/link",
        data={"token": token, "csrf_token": csrf_of(other)},
        headers={"accept": "text/html"},
    )
    assert again.status_code == 400
    assert "invalid, expired or already used" in again.text
    assert other.get("/api/v1/me").status_code == 401


def test_an_expired_link_is_refused(client: TestClient, session: Session) -> None:
    person = make_person(session, email="late@example.com")
    client.post("/api/v1/auth/sign-in-links", json={"email": person.email})
    token = link_token(last_mail_to(session, person.email).text_body)
    session.execute(update(MagicLink).values(expires_at=utcnow() - timedelta(seconds=1)))
    session.flush()
    response = client.post(
        "/auth/link",
        data={"token": token, "csrf_token": csrf_of(client)},
        headers={"accept": "text/html"},
    )
    assert response.status_code == 400
    assert "expired" in response.text
    assert client.get("/api/v1/me").status_code == 401


def test_unknown_address_gets_the_same_answer_and_no_mail(
    client: TestClient, session: Session
) -> None:
    make_person(session, email="known@example.com")
    known = client.post("/api/v1/auth/sign-in-links", json={"email": "known@example.com"})
    unknown = client.post("/api/v1/auth/sign-in-links", json={"email": "nobody@example.com"})
    assert known.status_code == unknown.status_code == 202
    assert known.json() == unknown.json()
    recipients = session.scalars(select(DevMailMessage.recipients)).all()
    assert "known@example.com" in recipients and "nobody@example.com" not in recipients


def test_links_are_rate_limited_per_address(client: TestClient, session: Session) -> None:
    make_person(session, email="eager@example.com")
    statuses = [
        client.post("/api/v1/auth/sign-in-links", json={"email": "eager@example.com"}).status_code
        for _ in range(6)
    ]
    assert statuses == [202] * 5 + [429]
    # Another address is not affected, and an unknown one is limited the same way.
    assert (
        client.post("/api/v1/auth/sign-in-links", json={"email": "calm@example.com"}).status_code
        == 202
    )
    mails = session.scalar(
        select(func.count()).where(DevMailMessage.recipients == "eager@example.com")
    )
    assert mails == 5


def test_bad_sign_up_input_names_the_field_and_writes_nothing(
    client: TestClient, session: Session
) -> None:
    before = (count(session, Person), count(session, MagicLink), count(session, DevMailMessage))
    cases = [
        ({"email": "not-an-address"}, "email"),
        ({"email": "tz@example.com", "time_zone": "Mars/Olympus_Mons"}, "time_zone"),
        ({"email": "loc@example.com", "locale": "english please"}, "locale"),
        ({"email": "x@example.com", "surprise": 1}, "surprise"),
    ]
    for body, field in cases:
        response = client.post("/api/v1/people", json=body)
        assert response.status_code == 422, body
        payload = response.json()
        assert payload["error"] == "InvalidInput"
        assert payload["field"] == field
        assert field in payload["detail"]
    after = (count(session, Person), count(session, MagicLink), count(session, DevMailMessage))
    assert after == before


def test_sign_up_form_keeps_what_was_typed_and_shows_the_error_by_the_field(
    client: TestClient, session: Session
) -> None:
    csrf = csrf_of(client, "/signup")
    response = client.post(
        "/signup",
        data={
            "email": "form@example.com",
            "display_name": "Form Person",
            "time_zone": "Atlantis/Capital",
            "locale": "en",
            "csrf_token": csrf,
        },
    )
    assert response.status_code == 422
    assert 'value="Form Person"' in response.text
    assert 'value="Atlantis/Capital"' in response.text
    assert 'id="f-time_zone-error"' in response.text
    assert "Choose your time zone from the list." in response.text
    assert (
        count(session, Person) == 0
        or session.scalar(select(func.count()).where(Person.email == "form@example.com")) == 0
    )


def test_profile_update_through_api_needs_csrf_and_validates(
    client: TestClient, session: Session
) -> None:
    make_person(session, email="prof@example.com")
    sign_in_person(client, session, "prof@example.com")
    no_csrf = client.patch("/api/v1/me", json={"display_name": "P"})
    assert no_csrf.status_code == 403
    csrf = csrf_of(client, "/profile")
    bad = client.patch(
        "/api/v1/me", json={"time_zone": "Nowhere/Land"}, headers={"x-csrf-token": csrf}
    )
    assert bad.status_code == 422 and bad.json()["field"] == "time_zone"
    good = client.patch(
        "/api/v1/me",
        json={"display_name": "Prof", "time_zone": "Asia/Tokyo"},
        headers={"x-csrf-token": csrf},
    )
    assert good.status_code == 200
    assert good.json()["time_zone"] == "Asia/Tokyo"


def test_sign_out_ends_the_session(client: TestClient, session: Session) -> None:
    make_person(session, email="bye@example.com")
    sign_in_person(client, session, "bye@example.com")
    assert client.get("/api/v1/me").status_code == 200
    client.post("/signout", data={"csrf_token": csrf_of(client, "/home")})
    assert client.get("/api/v1/me").status_code == 401
