"""The one form helper on real pages: plain sentences by their fields, typed values kept,
input limits shown up front, nothing written on an error."""

from __future__ import annotations

import html
import re

from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from accord.people.models import Person
from accord.relationships.models import Topic
from tests.builders import PASSWORD, make_brand, make_member
from tests.helpers import csrf_of, sign_in_member

HTML = {"accept": "text/html"}


def error_of(field: str, text: str) -> str:
    match = re.search(rf'id="f-{field}-error" role="alert">([^<]*)<', text)
    assert match is not None, f"no error beside {field}"
    return html.unescape(match.group(1))


def test_sign_up_says_what_is_wrong_in_plain_words_and_keeps_the_rest(
    client: TestClient, session: Session
) -> None:
    form = client.get("/signup", headers=HTML).text
    assert re.search(r'id="f-email"[^>]*required', form)
    assert re.search(r'id="f-display_name"[^>]*maxlength="120"', form)
    response = client.post(
        "/signup",
        data={
            "email": "name-at-example.com",
            "display_name": "L" * 121,
            "time_zone": "Europe/Berlin",
            "locale": "en",
            "csrf_token": csrf_of(client, "/signup"),
        },
        headers=HTML,
    )
    assert response.status_code == 422
    assert error_of("email", response.text) == "Enter an e-mail address like name@example.com."
    assert error_of("display_name", response.text) == "Use 120 characters or fewer."
    assert 'value="name-at-example.com"' in response.text
    assert 'value="Europe/Berlin"' in response.text
    assert session.scalar(select(func.count()).select_from(Person)) == 0


def test_a_service_error_rolls_back_and_lands_beside_its_field(
    client: TestClient, session: Session
) -> None:
    brand = make_brand(session)
    member = make_member(session, brand=brand)
    sign_in_member(client, member.email, PASSWORD)
    page = "/console/topics"
    csrf = csrf_of(client, page)
    form = {"slug": "news", "name": "News", "description": "What is new.", "purpose": "marketing"}
    created = client.post(page, data=form | {"csrf_token": csrf}, follow_redirects=False)
    assert created.status_code == 303
    again = client.post(page, data=form | {"name": "News again", "csrf_token": csrf}, headers=HTML)
    assert again.status_code == 422
    assert "taken" in error_of("slug", again.text) or "exists" in error_of("slug", again.text)
    assert 'value="News again"' in again.text
    empty = client.post(page, data=form | {"name": "", "csrf_token": csrf}, headers=HTML)
    assert error_of("name", empty.text) == "Fill this in."
    long = client.post(page, data=form | {"name": "N" * 200, "csrf_token": csrf}, headers=HTML)
    assert error_of("name", long.text) == "Use 120 characters or fewer."
    names = session.scalars(select(Topic.name).where(Topic.brand_id == brand.id)).all()
    assert names == ["News"]
