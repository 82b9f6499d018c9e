"""The portal's My terms and the console's Terms pages, through real forms."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from accord.core.permissions import Role
from accord.terms.models import Agreement
from tests.builders import PASSWORD, make_brand, make_member, make_person, make_relationship
from tests.helpers import csrf_of, sign_in_member, sign_in_person

HTML = {"accept": "text/html"}


def test_a_person_proffers_and_a_member_answers(client: TestClient, session: Session) -> None:
    brand, person = make_brand(session), make_person(session)
    make_relationship(session, person=person, brand=brand)
    sign_in_person(client, session, person.email)
    page = client.get("/terms", headers=HTML)
    assert page.status_code == 200 and "No stalking" in page.text and brand.name in page.text
    csrf = csrf_of(client, "/terms")
    done = client.post(
        "/terms/proffers",
        data={"terms": "no-stalking:1", "brand": brand.slug, "csrf_token": csrf},
        follow_redirects=False,
    )
    assert done.status_code == 303, done.text
    assert "waiting for an answer" in client.get("/terms", headers=HTML).text
    bad = client.post(
        "/terms/proffers",
        data={"terms": "no-stalking:1", "brand": brand.slug, "csrf_token": csrf},
    )
    assert bad.status_code == 422
    assert re.search(r'id="f-terms-error"[^>]*>[^<]*already', bad.text), bad.text

    member = TestClient(client.app)
    owner = make_member(session, brand=brand, role=Role.owner)
    sign_in_member(member, owner.email, PASSWORD)
    console = member.get("/console/terms", headers=HTML)
    assert console.status_code == 200 and str(person.id) in console.text
    row = session.scalars(select(Agreement).where(Agreement.brand_id == brand.id)).one()
    token = csrf_of(member, "/console/terms")
    missing = member.post(
        f"/console/terms/agreements/{row.id}/answer",
        data={"answer": "alternative", "alternative": "", "csrf_token": token},
    )
    assert missing.status_code == 422 and "Choose the agreement you offer" in missing.text
    answered = member.post(
        f"/console/terms/agreements/{row.id}/answer",
        data={"answer": "alternative", "alternative": "no-sharing:1", "csrf_token": token},
        follow_redirects=False,
    )
    assert answered.status_code == 303
    mine = client.get("/terms", headers=HTML).text
    assert "the brand offers an alternative" in mine and "Take no-sharing" in mine
    took = client.post(
        f"/terms/agreements/{row.id}/accept-alternative",
        data={"csrf_token": csrf},
        follow_redirects=False,
    )
    assert took.status_code == 303
    record = client.get(f"/terms/agreements/{row.id}/record")
    assert record.headers["content-disposition"].startswith("attachment")
    assert record.json()["terms"]["id"] == "no-sharing"
    assert member.get(f"/console/terms/agreements/{row.id}/record").json() == record.json()
    relationship_page = client.get(f"/relationships/{brand.id}", headers=HTML).text
    assert "Your terms with this brand" in relationship_page and "no_sharing" in relationship_page


def test_a_member_publishes_what_the_brand_accepts(client: TestClient, session: Session) -> None:
    brand = make_brand(session)
    owner = make_member(session, brand=brand, role=Role.owner)
    sign_in_member(client, owner.email, PASSWORD)
    token = csrf_of(client, "/console/terms")
    done = client.post(
        "/console/terms/accepted",
        data={"accepts": ["no-sharing:1", "no-stalking:1"], "csrf_token": token},
        follow_redirects=False,
    )
    assert done.status_code == 303
    doc = client.get(f"/.well-known/accord-terms/{brand.slug}.json").json()
    assert {e["id"] for e in doc["accepts"]} == {"no-sharing", "no-stalking"}
    analyst = TestClient(client.app)
    member = make_member(session, brand=brand, role=Role.analyst)
    sign_in_member(analyst, member.email, PASSWORD)
    refused = analyst.post(
        "/console/terms/accepted",
        data={"accepts": [], "csrf_token": csrf_of(analyst, "/console/terms")},
    )
    assert refused.status_code == 403
