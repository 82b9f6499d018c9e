"""The console's Texts page and the dev phone, through their forms."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from accord.app import create_app
from accord.core.settings import Environment, Settings
from accord.sms.models import InboundSms, SendingNumber
from tests.builders import PASSWORD, make_brand, make_member
from tests.conftest import RolledBackDatabase
from tests.helpers import csrf_of, sign_in_member
from tests.sms.world import PHONE, chose_sms, sms_world


def member_client(client: TestClient, session: Session) -> tuple[str, object]:
    brand = make_brand(session, name="Groove Records")
    member = make_member(session, brand=brand)
    session.commit()
    sign_in_member(client, member.email, PASSWORD)
    return csrf_of(client, "/console/sms"), brand


def test_the_texts_page_manages_numbers_and_the_help_answer(
    client: TestClient, session: Session
) -> None:
    csrf, _ = member_client(client, session)
    page = client.get("/console/sms", headers={"accept": "text/html"})
    assert page.status_code == 200 and "No numbers yet" in page.text
    bad = client.post(
        "/console/sms/numbers", data={"number": "202 555 0100", "label": "Shop", "csrf_token": csrf}
    )
    assert bad.status_code == 422
    assert "E.164" in bad.text and 'value="202 555 0100"' in bad.text and 'value="Shop"' in bad.text
    good = client.post(
        "/console/sms/numbers",
        data={"number": "+12025550100", "label": "Shop", "csrf_token": csrf},
        follow_redirects=False,
    )
    assert good.status_code == 303
    page = client.get("/console/sms", headers={"accept": "text/html"})
    assert "+12025550100" in page.text and "Your texts go from <strong>+12025550100" in page.text
    saved = client.post(
        "/console/sms/help",
        data={"help_text": "Groove: 555-0100. Reply STOP to opt out.", "csrf_token": csrf},
        follow_redirects=False,
    )
    assert saved.status_code == 303
    assert "Groove: 555-0100." in client.get("/console/sms").text
    row = session.scalars(select(SendingNumber)).one()
    removed = client.post(
        f"/console/sms/numbers/{row.id}/remove", data={"csrf_token": csrf}, follow_redirects=False
    )
    assert removed.status_code == 303
    session.expire_all()
    assert session.scalars(select(SendingNumber)).first() is None


def test_the_dev_phone_shows_texts_and_sends_replies_as_the_person(
    client: TestClient, session: Session
) -> None:
    world = sms_world(session)
    session.commit()
    empty = client.get("/dev/phone", headers={"accept": "text/html"})
    assert empty.status_code == 200 and "No texts yet" in empty.text
    thread = client.get(f"/dev/phone/{PHONE}", headers={"accept": "text/html"})
    assert thread.status_code == 200 and f'<option value="{world.number}"' in thread.text
    csrf = csrf_of(client, f"/dev/phone/{PHONE}")
    blank = client.post(
        f"/dev/phone/{PHONE}", data={"to": world.number, "text": " ", "csrf_token": csrf}
    )
    assert blank.status_code == 422 and 'id="f-text-error"' in blank.text
    wrong = client.post(
        f"/dev/phone/{PHONE}", data={"to": "12", "text": "STOP", "csrf_token": csrf}
    )
    assert wrong.status_code == 422 and "E.164" in wrong.text
    sent = client.post(
        f"/dev/phone/{PHONE}",
        data={"to": world.number, "text": "STOP", "csrf_token": csrf},
        follow_redirects=False,
    )
    assert sent.status_code == 303 and sent.headers["location"] == f"/dev/phone/{PHONE}"
    assert not chose_sms(session, world.person.id, world.brand.id)
    thread = client.get(f"/dev/phone/{PHONE}", headers={"accept": "text/html"})
    assert "Accord read it as stop: withdrawn." in thread.text
    bodies = re.findall(r'<p class="sms-body">([^<]*)</p>', thread.text)
    assert bodies == [
        "STOP",
        "Groove Records: you will get no more marketing texts from us. "
        "Reply START to get them again.",
    ]
    assert PHONE in client.get("/dev/phone").text
    assert session.scalars(select(InboundSms.provider)).all() == ["dev"]


def test_the_dev_phone_exists_only_in_dev(settings: Settings, database: RolledBackDatabase) -> None:
    prod = settings.model_copy(update={"environment": Environment.prod})
    with TestClient(create_app(prod, database=database)) as client:
        assert client.get("/dev/phone").status_code == 404
