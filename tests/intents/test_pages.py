"""The portal's and the console's intents pages through real forms."""

from __future__ import annotations

import re
from datetime import timedelta

from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from accord.core.db import utcnow
from accord.core.permissions import Role
from accord.intents.models import Intent, Offer
from tests.builders import PASSWORD, make_member, make_person
from tests.helpers import csrf_of, sign_in_member, sign_in_person
from tests.intents.world import ready_brand

HTML = {"accept": "text/html"}


def test_publish_offer_compare_accept_through_the_pages(
    client: TestClient, session: Session
) -> None:
    person, brand = make_person(session, display_name="Grace"), ready_brand(session, name="Velo")
    sign_in_person(client, session, person.email)
    assert "Publish an intent" in client.get("/intents", headers=HTML).text
    csrf = csrf_of(client, "/intents")
    form = {
        "category": "bicycles",
        "description": "A cargo bike for two children.",
        "budget_min": "2000",
        "budget_max": "1000",
        "currency": "EUR",
        "timeframe_end": (utcnow().date() + timedelta(days=10)).isoformat(),
        "country": "DE",
        "subdivision": "DE-HH",
        "channel": "email",
        "terms": "no-stalking",
        "csrf_token": csrf,
    }
    bad = client.post("/intents", data=form)
    assert bad.status_code == 422
    assert re.search(r'id="f-budget_max-error"[^>]*>[^<]*below', bad.text), bad.text
    assert "A cargo bike for two children." in bad.text  # what was typed is kept
    form["subdivision"] = "XX-99"
    form["budget_max"] = "3000"
    bad = client.post("/intents", data=form)
    assert bad.status_code == 422 and 'id="f-subdivision-error"' in bad.text
    form["subdivision"] = "DE-HH"
    done = client.post("/intents", data=form, follow_redirects=False)
    assert done.status_code == 303, done.text
    intent = session.scalars(select(Intent).where(Intent.person_id == person.id)).one()

    member_client = TestClient(client.app)
    member = make_member(session, brand=brand, role=Role.marketer)
    sign_in_member(member_client, member.email, PASSWORD)
    listing = member_client.get("/console/intents", headers=HTML).text
    assert intent.pseudonym in listing and "Grace" not in listing
    page = f"/console/intents/{intent.id}"
    token = csrf_of(member_client, page)
    offer = {
        "price": "2499",
        "currency": "EUR",
        "description": "Our two-seat cargo bike.",
        "expires_at": (utcnow() + timedelta(days=3)).strftime("%Y-%m-%dT%H:%M"),
        "link": "",
        "csrf_token": token,
    }
    late = member_client.post(f"{page}/offers", data=offer | {"expires_at": "2020-01-01T10:00"})
    assert late.status_code == 422 and 'id="f-expires_at-error"' in late.text
    sent = member_client.post(f"{page}/offers", data=offer, follow_redirects=False)
    assert sent.status_code == 303, sent.text
    made = session.scalars(select(Offer).where(Offer.intent_id == intent.id)).one()

    mine = client.get(f"/intents/{intent.id}", headers=HTML).text
    assert "Velo" in mine and "2499" in mine and "Brands that saw this intent" in mine
    accepted = client.post(
        f"/intents/offers/{made.id}/accept",
        data={"csrf_token": csrf_of(client, f"/intents/{intent.id}")},
        follow_redirects=False,
    )
    assert accepted.status_code == 303
    after = member_client.get(page, headers=HTML).text
    assert "They chose your offer" in after and "Grace" in after and person.email in after


def test_subscriptions_and_rules_in_the_console(client: TestClient, session: Session) -> None:
    brand = ready_brand(session, categories=())
    member = make_member(session, brand=brand, role=Role.owner)
    sign_in_member(client, member.email, PASSWORD)
    token = csrf_of(client, "/console/intent-settings")
    saved = client.post(
        "/console/intent-settings/subscriptions",
        data={"categories": ["bicycles", "books"], "csrf_token": token},
        follow_redirects=False,
    )
    assert saved.status_code == 303
    page = client.get("/console/intent-settings", headers=HTML).text
    assert 'value="bicycles" checked' in page and 'value="books" checked' in page
    rule = {
        "name": "Books under 30",
        "category": "books",
        "budget_min": "40",
        "budget_max": "10",
        "currency": "EUR",
        "country": "",
        "price": "25",
        "description": "Any book, delivered.",
        "link": "",
        "valid_days": "5",
        "csrf_token": token,
    }
    bad = client.post("/console/intent-settings/rules", data=rule)
    assert bad.status_code == 422 and 'id="f-budget_max-error"' in bad.text
    done = client.post(
        "/console/intent-settings/rules", data=rule | {"budget_min": "0"}, follow_redirects=False
    )
    assert done.status_code == 303
    assert "Books under 30" in client.get("/console/intent-settings", headers=HTML).text
