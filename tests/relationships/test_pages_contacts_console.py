"""The contact points page and the brand console's topics page."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from accord.core.permissions import Role
from accord.people.models import ContactPoint
from accord.relationships.models import Topic
from tests.builders import PASSWORD, make_brand, make_member, make_topic
from tests.helpers import last_mail_to, last_text_to, sign_in_member
from tests.relationships.page_helpers import HTML, post, signed_in


def test_contact_points_phone_code_attempts_count(client: TestClient, session: Session) -> None:
    me = signed_in(client, session)
    added = post(client, "/contacts/phone", {"number": "030 1234567", "region": "de"}, "/contacts")
    assert added.status_code == 303, added.text
    phone = session.scalars(
        select(ContactPoint).where(ContactPoint.person_id == me.id, ContactPoint.channel == "sms")
    ).one()
    assert phone.address == "+49301234567" and phone.verified_at is None
    listing = client.get("/contacts", headers=HTML).text
    assert "+49301234567" in listing and "not verified" in listing
    code = re.search(r"\b(\d{6})\b", last_text_to(session, "+49301234567").body)
    assert code is not None
    wrong = "000000" if code.group(1) != "000000" else "111111"
    refused = post(client, f"/contacts/{phone.id}/verify", {"code": wrong}, "/contacts")
    assert refused.status_code == 422
    assert f'id="f-code-{phone.id}-error"' in refused.text and "4 attempt(s) left" in refused.text
    session.refresh(phone)
    assert phone.code_attempts == 1 and phone.verified_at is None
    ok = post(client, f"/contacts/{phone.id}/verify", {"code": code.group(1)}, "/contacts")
    assert ok.status_code == 303
    session.refresh(phone)
    assert phone.verified_at is not None


def test_contact_points_email_postal_remove_and_bad_input(
    client: TestClient, session: Session
) -> None:
    me = signed_in(client, session)
    bad = post(client, "/contacts/phone", {"number": "12", "region": "Germany"}, "/contacts")
    assert bad.status_code == 422 and 'id="f-region-error"' in bad.text
    assert "Choose the country from the list." in bad.text and 'value="12"' in bad.text
    taken = post(client, "/contacts/email", {"email": me.email}, "/contacts")
    assert taken.status_code == 422 and "already in use" in taken.text
    assert (
        post(client, "/contacts/email", {"email": "second@example.com"}, "/contacts").status_code
        == 303
    )
    link = re.search(
        r"/contacts/verify\?token=(\S+)", last_mail_to(session, "second@example.com").text_body
    )
    assert link is not None
    shown = client.get(f"/contacts/verify?token={link.group(1)}", headers=HTML)
    assert "Confirm my address" in shown.text
    verified = post(client, "/contacts/verify", {"token": link.group(1)}, "/contacts")
    assert verified.status_code == 200 and "second@example.com" in verified.text
    assert (
        post(client, "/contacts/postal", {"postal": "1 Rua Nova, Porto"}, "/contacts").status_code
        == 303
    )
    points = {
        p.address: p
        for p in session.scalars(select(ContactPoint).where(ContactPoint.person_id == me.id))
    }
    assert points["second@example.com"].verified_at is not None
    assert points["1 Rua Nova, Porto"].verified_at is not None
    primary = points[me.email]
    refused = post(client, f"/contacts/{primary.id}/remove", {}, "/contacts")
    assert refused.status_code == 422 and "cannot be removed" in refused.text
    removed = post(client, f"/contacts/{points['second@example.com'].id}/remove", {}, "/contacts")
    assert removed.status_code == 303
    count = select(func.count()).select_from(ContactPoint).where(ContactPoint.person_id == me.id)
    assert session.scalar(count) == 2


def test_console_topics_create_edit_retire(client: TestClient, session: Session) -> None:
    brand = make_brand(session)
    owner = make_member(session, brand=brand, role=Role.marketer)
    sign_in_member(client, owner.email, PASSWORD)
    page = "/console/topics"
    bad = post(
        client,
        page,
        {"slug": "Not A Slug", "name": "", "description": "x", "purpose": "marketing"},
        page,
    )
    assert bad.status_code == 422
    assert 'id="f-slug-error"' in bad.text and 'id="f-name-error"' in bad.text
    assert 'value="Not A Slug"' in bad.text
    form = {
        "slug": "new-arrivals",
        "name": "New arrivals",
        "description": "Fresh stock.",
        "purpose": "marketing",
    }
    assert post(client, page, form, page).status_code == 303
    dup = post(client, page, form, page)
    assert dup.status_code == 422 and 'id="f-slug-error"' in dup.text
    topic = session.scalars(select(Topic).where(Topic.brand_id == brand.id)).one()
    edited = post(
        client, f"{page}/{topic.id}", {"name": "Arrivals", "description": "New bikes."}, page
    )
    assert edited.status_code == 303
    assert post(client, f"{page}/{topic.id}/retire", {}, page).status_code == 303
    session.refresh(topic)
    assert topic.name == "Arrivals" and topic.retired_at is not None
    listing = client.get(page, headers=HTML).text
    assert "Arrivals" in listing and "retired" in listing

    other = make_topic(session, brand=make_brand(session))
    assert post(client, f"{page}/{other.id}/retire", {}, page).status_code == 404


def test_console_topics_read_only_for_analysts(client: TestClient, session: Session) -> None:
    brand = make_brand(session)
    make_topic(session, brand=brand, name="Visible topic")
    analyst = make_member(session, brand=brand, role=Role.analyst)
    sign_in_member(client, analyst.email, PASSWORD)
    listing = client.get("/console/topics", headers=HTML)
    assert listing.status_code == 200 and "Visible topic" in listing.text
    assert "Create a topic" not in listing.text
    form = {"slug": "x", "name": "X", "description": "X.", "purpose": "marketing"}
    assert post(client, "/console/topics", form, "/console/topics").status_code == 403
