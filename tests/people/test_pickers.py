"""Pickers on the people pages (real forms, SQLite and PostgreSQL): friendly names in the lists,
a value not in a list (sent by hand) refused beside its field in plain words with the other
values kept and nothing written; phone numbers shown formatted."""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from accord.core import pickers
from accord.core.web.templates import phone_shown
from accord.people.models import ContactPoint, Person
from tests.helpers import csrf_of
from tests.relationships.page_helpers import HTML, post, signed_in


def error_of(field: str, text: str) -> str:
    match = re.search(rf'id="f-{field}-error" role="alert">([^<]*)<', text)
    assert match is not None, f"no error beside {field}"
    return match.group(1)


def test_the_lists_have_friendly_names() -> None:
    zones = dict(pickers.time_zone_options("2030-01-15"))
    assert zones["Europe/Berlin"] == "Berlin (Europe) · UTC+01:00"
    assert zones["America/Argentina/Buenos_Aires"].startswith("Argentina, Buenos Aires (America)")
    assert dict(pickers.language_options())["de"] == "German (de)"
    assert dict(pickers.language_options())["pt-BR"] == "Portuguese (Brazil) (pt-BR)"
    assert dict(pickers.country_options())["GB"] == "United Kingdom (GB)"
    assert dict(pickers.country_options(calling_codes=True))["DE"] == "Germany +49"


def test_the_sign_up_form_offers_selects(client: TestClient) -> None:
    form = client.get("/signup", headers=HTML).text
    assert 'data-picker="Time zone" data-browser="time_zone"' in form
    assert '<option value="Europe/Lisbon">Lisbon (Europe)' in form
    assert '<option value="de">German (de)</option>' in form


@pytest.mark.parametrize(
    ("field", "sent", "said"),
    [
        ("time_zone", "Mars/Olympus_Mons", "Choose your time zone from the list."),
        ("time_zone", "", "Choose your time zone from the list."),
        ("locale", "xx-Klingon", "Choose your language from the list."),
        ("locale", "k" * 40, "Choose your language from the list."),
    ],
)
def test_sign_up_refuses_a_value_not_in_the_list(
    client: TestClient, session: Session, field: str, sent: str, said: str
) -> None:
    people = session.scalar(select(func.count()).select_from(Person))
    data = {
        "email": "picker@example.com",
        "display_name": "Pat",
        "time_zone": "Europe/Berlin",
        "locale": "de",
        "csrf_token": csrf_of(client, "/signup"),
    } | {field: sent}
    page = client.post("/signup", data=data, headers=HTML)
    assert page.status_code == 422
    assert error_of(field, page.text) == said
    assert 'value="picker@example.com"' in page.text and 'value="Pat"' in page.text
    assert session.scalar(select(func.count()).select_from(Person)) == people


@pytest.mark.parametrize(
    ("field", "sent", "said"),
    [
        ("time_zone", "Europe/Atlantis", "Choose your time zone from the list."),
        ("locale", "zz", "Choose your language from the list."),
        ("country", "ZZ", "Choose your country from the list."),
        ("country", "Germany", "Choose your country from the list."),
    ],
)
def test_the_profile_refuses_a_value_not_in_the_list(
    client: TestClient, session: Session, field: str, sent: str, said: str
) -> None:
    me = signed_in(client, session, time_zone="Europe/Lisbon")
    data = {"display_name": "New Name", "time_zone": "Europe/Paris", "locale": "fr"}
    page = post(client, "/profile", data | {"country": "FR", field: sent}, "/profile")
    assert page.status_code == 422
    assert error_of(field, page.text) == said
    assert 'value="New Name"' in page.text
    session.refresh(me)
    assert me.time_zone == "Europe/Lisbon" and me.display_name != "New Name"


def test_the_profile_saves_picked_values(client: TestClient, session: Session) -> None:
    me = signed_in(client, session)
    data = {"display_name": "Ana", "time_zone": "America/Sao_Paulo", "locale": "pt-BR"}
    saved = post(client, "/profile", data | {"country": "BR"}, "/profile")
    assert saved.status_code == 303
    session.refresh(me)
    assert (me.time_zone, me.locale, me.country) == ("America/Sao_Paulo", "pt-BR", "BR")
    form = client.get("/profile", headers=HTML).text
    assert '<option value="BR" selected>Brazil (BR)</option>' in form


def test_a_phone_country_not_in_the_list_is_refused_and_numbers_show_formatted(
    client: TestClient, session: Session
) -> None:
    me = signed_in(client, session)
    bad = post(client, "/contacts/phone", {"number": "7911 123456", "region": "QQ"}, "/contacts")
    assert bad.status_code == 422
    assert error_of("region", bad.text) == "Choose the country from the list."
    assert 'value="7911 123456"' in bad.text
    phones = select(func.count()).where(ContactPoint.person_id == me.id)
    assert session.scalar(phones.where(ContactPoint.channel == "sms")) == 0

    added = post(client, "/contacts/phone", {"number": "07911 123456", "region": "GB"}, "/contacts")
    assert added.status_code == 303
    listing = client.get("/contacts", headers=HTML).text
    assert "<td>+44 7911 123456" in listing
    assert phone_shown("+447911123456") == "+44 7911 123456"
    assert phone_shown("not a number") == "not a number"
