"""Portal pages for mailed links and personal data: invitations, consent confirmation,
export and account deletion."""

from __future__ import annotations

import json
import re
from datetime import timedelta

from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from accord.core.db import utcnow
from accord.people.models import Person
from accord.relationships.models import PurposeGrant, Relationship
from tests.builders import make_api_key, make_brand, make_relationship
from tests.helpers import last_mail_to
from tests.relationships.page_helpers import HTML, events, found, post, signed_in


def test_export_downloads_everything_about_the_person(client: TestClient, session: Session) -> None:
    me = signed_in(client, session, email="exported@example.com")
    brand = make_brand(session)
    make_relationship(session, person=me, brand=brand, marketing=True)
    response = client.get("/export")
    assert response.status_code == 200
    assert response.headers["content-disposition"].startswith("attachment;")
    document = json.loads(response.text)
    assert document["tables"]["people"][0]["email"] == "exported@example.com"
    assert document["tables"]["relationships"][0]["brand_id"] == str(brand.id)
    assert len(document["receipts"]) == len(document["ledger_events"]) == 2


def test_deleting_the_account_needs_the_box_then_removes_the_person(
    client: TestClient, session: Session
) -> None:
    me = signed_in(client, session)
    make_relationship(session, person=me, brand=make_brand(session))
    page = client.get("/account/delete", headers=HTML).text
    assert "without any personal data" in page and "keyed hash" in page
    refused = post(client, "/account/delete", {}, "/account/delete")
    assert refused.status_code == 422 and 'id="f-confirm-error"' in refused.text
    assert session.get(Person, me.id) is not None
    done = post(client, "/account/delete", {"confirm": "on"}, "/account/delete")
    assert done.status_code == 303 and done.headers["location"] == "/"
    me_id = me.id
    session.expire_all()
    assert session.get(Person, me_id) is None
    assert events(session, me_id)[-1]["action"] == "erase"  # the ledger survives
    assert client.get("/relationships", headers=HTML, follow_redirects=False).status_code == 303


def test_accepting_an_invitation_signs_in_and_opens_the_relationship(
    client: TestClient, session: Session
) -> None:
    brand = make_brand(session, name="Invite Co")
    _, key = make_api_key(session, brand=brand)
    sent = client.post(
        "/api/v1/invitations",
        json={"email": "invited@example.com"},
        headers={"Authorization": f"Bearer {key}"},
    )
    assert sent.status_code == 201
    url = re.search(r"/invitations/(\S+)", last_mail_to(session, "invited@example.com").text_body)
    assert url is not None
    token = url.group(1)
    page = client.get(f"/invitations/{token}", headers=HTML)
    assert page.status_code == 200 and "Invite Co invites you" in page.text
    person_id = sent.json()["person_id"]
    rel = session.scalars(select(Relationship).where(Relationship.brand_id == brand.id)).one()
    assert rel.state == "invited"  # looking at the page changed nothing
    accepted = post(client, f"/invitations/{token}", {"answer": "accept"}, f"/invitations/{token}")
    assert accepted.status_code == 303
    assert accepted.headers["location"] == f"/relationships/{brand.id}"
    session.refresh(rel)
    assert rel.state == "active" and str(rel.person_id) == person_id
    shown = client.get(f"/relationships/{brand.id}", headers=HTML).text
    assert "What Invite Co may send you" in shown
    used = post(client, f"/invitations/{token}", {"answer": "accept"}, "/home")
    assert used.status_code == 400 and "cannot be used" in used.text


def test_declining_an_invitation_ends_it(client: TestClient, session: Session) -> None:
    brand = make_brand(session)
    _, key = make_api_key(session, brand=brand)
    client.post(
        "/api/v1/invitations",
        json={"email": "no@example.com"},
        headers={"Authorization": f"Bearer {key}"},
    )
    token = found(r"/invitations/(\S+)", last_mail_to(session, "no@example.com").text_body)
    declined = post(client, f"/invitations/{token}", {"answer": "decline"}, f"/invitations/{token}")
    assert declined.status_code == 200 and "You declined" in declined.text
    rel = session.scalars(select(Relationship).where(Relationship.brand_id == brand.id)).one()
    session.refresh(rel)
    assert rel.state == "ended"


def test_confirming_recorded_consent_by_the_mailed_link(
    client: TestClient, session: Session
) -> None:
    brand = make_brand(session, name="Opt In Shop")
    _, key = make_api_key(session, brand=brand)
    recorded = client.post(
        "/api/v1/consent/records",
        json={
            "email": "doi@example.com",
            "purpose": "marketing",
            "channels": ["email"],
            "evidence": {
                "collected_at": (utcnow() - timedelta(minutes=3)).isoformat(),
                "method": "newsletter form",
                "notice_version": "v7",
                "form_url": "https://shop.example/newsletter",
                "ip": "198.51.100.4",
            },
        },
        headers={"Authorization": f"Bearer {key}"},
    )
    assert recorded.status_code == 201 and recorded.json()["status"] == "pending"
    found = re.search(
        r"/consent/confirm\?token=(\S+)", last_mail_to(session, "doi@example.com").text_body
    )
    assert found is not None
    token = found.group(1)
    page = client.get(f"/consent/confirm?token={token}", headers=HTML)
    assert page.status_code == 200 and 'value="' + token + '"' in page.text
    grant = session.scalars(select(PurposeGrant).where(PurposeGrant.brand_id == brand.id)).one()
    assert grant.status == "pending"  # a GET (a mail scanner) confirms nothing
    done = post(client, "/consent/confirm", {"token": token}, "/signin")
    assert done.status_code == 200 and "Opt In Shop may now send you" in done.text
    session.refresh(grant)
    assert grant.status == "granted"
    again = post(client, "/consent/confirm", {"token": token}, "/signin")
    assert again.status_code == 400
