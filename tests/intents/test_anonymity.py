"""Anonymity: every brand-facing API route and console page that intents use, found from the
router (a route added later is covered, or this test fails until it gets a sample), answers
without the person's id, name, e-mail, phone or any contact point before they accept an offer;
afterwards only the brand they chose learns them."""

from __future__ import annotations

import re
import uuid
from datetime import timedelta
from typing import Any

from fastapi import FastAPI
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from accord.brands.deps import BRAND_SCOPED
from accord.core.db import utcnow
from accord.core.permissions import Role
from accord.intents import service as intents
from accord.intents.schemas import RuleIn
from accord.people.models import ContactPoint
from tests.builders import PASSWORD, make_api_key, make_member, make_person
from tests.helpers import csrf_of, sign_in_member
from tests.intents.world import make_intent, offer_body, ready_brand

PARAM = re.compile(r"{(\w+)}")
RULE = {
    "name": "Any e-bike",
    "category": "bicycles",
    "budget_min": "0",
    "budget_max": "100000",
    "currency": "EUR",
    "price": "999.00",
    "description": "Our e-bike.",
}
# What to send to each operation that takes input: (method, path template) -> body.
API_BODIES: dict[tuple[str, str], dict[str, Any]] = {
    ("POST", "/api/v1/intents/{intent_id}/offers"): offer_body(),
    ("PUT", "/api/v1/intent-subscriptions"): {"categories": ["bicycles"]},
    ("POST", "/api/v1/intent-rules"): RULE | {"category": "books"},
    ("POST", "/api/v1/intent-rules/{rule_id}/deactivate"): {},
}
PAGE_FORMS: dict[tuple[str, str], dict[str, Any]] = {
    ("POST", "/console/intents/{intent_id}/offers"): {
        "price": "10",
        "currency": "EUR",
        "description": "Page offer",
        "expires_at": (utcnow() + timedelta(days=2)).strftime("%Y-%m-%dT%H:%M"),
        "link": "",
    },
    ("POST", "/console/intent-settings/subscriptions"): {"categories": ["bicycles"]},
    ("POST", "/console/intent-settings/rules"): {
        k: v for k, v in (RULE | {"category": "books", "valid_days": "3"}).items()
    }
    | {"country": "", "link": ""},
    ("POST", "/console/intent-settings/rules/{rule_id}/deactivate"): {},
}


def api_operations(app: FastAPI) -> list[tuple[str, str]]:
    return sorted(
        (method.upper(), path)
        for path, operations in app.openapi()["paths"].items()
        for method, operation in operations.items()
        if BRAND_SCOPED in operation.get("tags", []) and "intent" in path
    )


def every_route(routes: list[Any], prefix: str = "") -> list[tuple[str, str]]:
    """(method, full path) of every route, through included routers at any depth."""
    found: list[tuple[str, str]] = []
    for route in routes:
        included = getattr(route, "original_router", None)
        if included is not None:
            found += every_route(included.routes, prefix + route.include_context.prefix)
        elif isinstance(route, APIRoute):
            found += [(method, prefix + route.path) for method in route.methods or ()]
    return found


def console_pages(app: FastAPI) -> list[tuple[str, str]]:
    return sorted(
        (method, path)
        for method, path in every_route(app.routes)
        if path.startswith("/console/intent")
    )


def fill(template: str, values: dict[str, Any]) -> str:
    for name in PARAM.findall(template):
        assert name in values, f"{template}: add a value for {name}"
        template = template.replace("{" + name + "}", str(values[name]))
    return template


def secrets_of(session: Session, person_id: uuid.UUID, name: str) -> list[str]:
    points = session.query(ContactPoint.address).filter(ContactPoint.person_id == person_id)
    return [str(person_id), name, *(address for (address,) in points)]


def walk(
    app: FastAPI,
    api: TestClient,
    api_headers: dict[str, str],
    console: TestClient,
    values: dict[str, Any],
    *,
    writes: bool,
) -> list[tuple[str, str, str]]:
    """(method, path, body text) of every intents route of a brand, reads (or writes)."""
    found = []
    for method, template in api_operations(app):
        if (method == "GET") == writes:
            continue
        if writes:
            assert (method, template) in API_BODIES, f"{method} {template}: add a body"
        path = fill(template, values)
        response = api.request(
            method, path, headers=api_headers, json=API_BODIES.get((method, template))
        )
        assert response.status_code < 500, (method, path, response.text)
        found.append((method, path, response.text))
    for method, template in console_pages(app):
        if (method == "GET") == writes:
            continue
        path = fill(template, values)
        if writes:
            assert (method, template) in PAGE_FORMS, f"{method} {template}: add a form"
            data = PAGE_FORMS[(method, template)] | {"csrf_token": csrf_of(console, "/console")}
            response = console.post(path, data=data, follow_redirects=True)
        else:
            response = console.get(path, headers={"accept": "text/html"})
        assert response.status_code < 500, (method, path, response.text)
        found.append((method, path, response.text))
    return found


def leaks(pages: list[tuple[str, str, str]], secrets: list[str]) -> list[tuple[str, str, str]]:
    return [
        (method, path, secret)
        for method, path, text in pages
        for secret in secrets
        if secret and secret.lower() in text.lower()
    ]


def test_no_brand_learns_who_the_person_is_until_chosen(
    app: FastAPI, client: TestClient, session: Session
) -> None:
    person = make_person(session, display_name="Zenobia Quartermaine", email="zq@people.example")
    session.add(
        ContactPoint(
            person_id=person.id,
            channel="sms",
            address="+4915112345678",
            address_normalised="+4915112345678",
            verified_at=utcnow(),
        )
    )
    session.flush()
    brands = [ready_brand(session, name=n) for n in ("Chosen", "Passed")]
    intent = make_intent(session, person=person, channel="sms")
    other = make_intent(session, person=person, description="Second intent, same person")
    assert intent.pseudonym != other.pseudonym
    clients: list[tuple[TestClient, dict[str, str], TestClient, dict[str, Any]]] = []
    for brand in brands:
        _, key = make_api_key(session, brand=brand, role=Role.owner)
        console = TestClient(app)
        member = make_member(session, brand=brand, role=Role.owner)
        sign_in_member(console, member.email, PASSWORD)
        rule, _ = intents.add_rule(session, brand.id, RuleIn.model_validate(RULE | {"price": "1"}))
        values = {"intent_id": intent.id, "rule_id": rule.id}
        clients.append((client, {"Authorization": f"Bearer {key}"}, console, values))
    secrets = secrets_of(session, person.id, person.display_name)
    assert len(secrets) >= 4 and api_operations(app) and console_pages(app)

    seen_before: list[tuple[str, str, str]] = []
    for api, headers, console, values in clients:
        seen_before += walk(app, api, headers, console, values, writes=False)
        seen_before += walk(app, api, headers, console, values, writes=True)
        seen_before += walk(app, api, headers, console, values, writes=False)
    assert len(seen_before) > 20
    assert leaks(seen_before, secrets) == []
    assert any(intent.pseudonym in text for _, _, text in seen_before)

    chosen = next(
        o for o in intents.for_person(session, intent).offers if o.brand_id == brands[0].id
    )
    intents.accept(session, person.id, chosen.id)
    session.flush()
    after = [walk(app, api, h, c, v, writes=False) for api, h, c, v in clients]
    chosen_pages, passed_pages = after
    assert leaks(passed_pages, secrets) == []
    learned = {secret for _, _, secret in leaks(chosen_pages, secrets)}
    # The chosen brand learns who the person is and their address on the intent's channel.
    assert {str(person.id), person.display_name, "+4915112345678"} <= learned
    # ...and nothing about the person's other intent.
    other_page = clients[0][0].get(f"/api/v1/intents/{other.id}", headers=clients[0][1])
    assert leaks([("GET", "other", other_page.text)], secrets) == []
