"""Brand B's key can neither read nor change brand A's objects, on every brand-scoped route.

The test walks the app's routes, so a route added later is covered without editing this file;
a route with a path parameter this file cannot fill fails the test until a builder is added.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable

from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from accord.brands.deps import BRAND_SCOPED
from accord.brands.models import Brand
from accord.consent import ledger
from accord.core.permissions import Role
from tests.builders import (
    make_api_key,
    make_brand,
    make_member,
    make_person,
    make_relationship,
    make_topic,
)


# Path parameter name -> builder of an object of that kind owned by the given brand.
def _related_person(session: Session, brand: Brand) -> uuid.UUID:
    return make_relationship(session, person=make_person(session), brand=brand).person_id


def _consent_event(session: Session, brand: Brand) -> int:
    rel = make_relationship(session, person=make_person(session), brand=brand, marketing=True)
    return ledger.events_for(session, rel.person_id)[-1].id


def _campaign(session: Session, brand: Brand) -> uuid.UUID:
    from accord.campaigns import service as campaigns
    from accord.campaigns.schemas import CampaignCreate

    topic = make_topic(session, brand=brand)
    data = CampaignCreate(name="victim", topic_id=topic.id, subject="s", text="t")
    return campaigns.create(session, brand.id, data, member_id=None).id


def _fit(session: Session, brand: Brand) -> uuid.UUID:
    from accord.analytics.models import ModelFit
    from accord.core.db import utcnow

    now = utcnow()
    row = ModelFit(
        brand_id=brand.id,
        model="bgnbd",
        params={"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426},
        log_likelihood=-1.0,
        customers=10,
        calibration_start=now,
        cutoff=now,
        options={},
    )
    session.add(row)
    session.flush()
    return row.id


def _agreement(session: Session, brand: Brand) -> uuid.UUID:
    from accord.terms import service as terms

    person = make_person(session)
    make_relationship(session, person=person, brand=brand)
    terms.proffer(session, person.id, "no-stalking", None, brand.id)
    [row] = terms.my_terms(session, person.id).proffers[0].agreements
    return row.id


def _intent(session: Session, brand: Brand) -> uuid.UUID:
    """An intent only `brand` sees (it subscribes to the category; the other brand does not)."""
    from accord.intents import service as intents
    from tests.intents.world import make_intent

    intents.subscribe(session, brand.id, ["bicycles"])
    return make_intent(session, person=make_person(session), terms=[]).id


def _rule(session: Session, brand: Brand) -> uuid.UUID:
    from accord.intents import service as intents
    from accord.intents.schemas import RuleIn

    data = RuleIn(
        name="victim", category="books", budget_min=0, budget_max=10, currency="EUR",
        price=5, description="d",
    )  # fmt: skip
    return intents.add_rule(session, brand.id, data)[0].id


def _thread(session: Session, brand: Brand) -> uuid.UUID:
    from accord.conversations import service as conversations
    from accord.core.settings import Settings

    person = make_person(session)
    make_relationship(session, person=person, brand=brand)
    settings = Settings(secret_key="isolation")  # type: ignore[arg-type]
    thread, _ = conversations.start_person_thread(
        session, settings, person.id, brand.id, subject="victim", body="private"
    )
    return thread.id


def _attachment(session: Session, brand: Brand) -> uuid.UUID:
    from accord.conversations import service as conversations
    from accord.conversations.files import Upload
    from accord.core.settings import Settings

    person = make_person(session)
    make_relationship(session, person=person, brand=brand)
    settings = Settings(secret_key="isolation")  # type: ignore[arg-type]
    _, message = conversations.start_person_thread(
        session,
        settings,
        person.id,
        brand.id,
        subject="victim",
        body="",
        uploads=[Upload("a.txt", b"secret")],
    )
    return conversations.attachments_of(session, [message.id])[message.id][0].id


def _saved_reply(session: Session, brand: Brand) -> uuid.UUID:
    from accord.conversations import service as conversations

    return conversations.create_saved_reply(session, brand.id, "victim", "private text").id


def _board(session: Session, brand: Brand) -> uuid.UUID:
    from accord.ideas import service as ideas

    return ideas.create_board(session, brand.id, title="victim").id


def _idea(session: Session, brand: Brand) -> uuid.UUID:
    from accord.ideas import service as ideas

    person = make_person(session)
    make_relationship(session, person=person, brand=brand)
    board = ideas.create_board(session, brand.id, title="victim")
    return ideas.propose(session, person.id, board, title="private").id


def _number(session: Session, brand: Brand) -> uuid.UUID:
    from accord.sms import numbers

    # A UK mobile number (+447911 000000 to 299999 are all valid) no other brand holds.
    return numbers.register(session, brand.id, f"+447911{uuid.uuid4().int % 300_000:06d}").id


def _segment(session: Session, brand: Brand) -> uuid.UUID:
    from accord.campaigns import saved_segments

    audience = {"kind": "segment", "segment": "champions"}
    return saved_segments.save(session, brand.id, "victim", audience).id


OWNED: dict[str, Callable[[Session, Brand], object]] = {
    "campaign_id": _campaign,
    "member_id": lambda s, b: make_member(s, brand=b, password=None).id,
    "api_key_id": lambda s, b: make_api_key(s, brand=b, name="victim")[0].id,
    "topic_id": lambda s, b: make_topic(s, brand=b).id,
    "person_id": _related_person,
    "event_id": _consent_event,
    "fit_id": _fit,
    "agreement_id": _agreement,
    "intent_id": _intent,
    "rule_id": _rule,
    "thread_id": _thread,
    "attachment_id": _attachment,
    "saved_reply_id": _saved_reply,
    "board_id": _board,
    "idea_id": _idea,
    "number_id": _number,
    "segment_id": _segment,
}
PARAM = re.compile(r"{(\w+)}")
# A valid body for operations whose body has required fields (the others get {}), so that the
# answer is about the object, never about the body.
BODIES: dict[tuple[str, str], dict[str, object]] = {
    ("POST", "/api/v1/terms/agreements/{agreement_id}/answer"): {"answer": "decline"},
    ("POST", "/api/v1/intents/{intent_id}/offers"): {
        "price": "1.00",
        "currency": "EUR",
        "description": "An offer",
        "expires_at": "2999-01-01T00:00:00Z",
    },
}


def brand_scoped_operations(app: FastAPI) -> list[tuple[str, str]]:
    """(method, path) of every operation tagged brand-scoped, read from the OpenAPI schema."""
    return [
        (method.upper(), path)
        for path, operations in app.openapi()["paths"].items()
        for method, operation in operations.items()
        if BRAND_SCOPED in operation.get("tags", [])
    ]


def test_every_brand_scoped_route_hides_other_brands_objects(
    app: FastAPI, client: TestClient, session: Session
) -> None:
    brand_a, brand_b = make_brand(session), make_brand(session)
    _, key_b = make_api_key(session, brand=brand_b, role=Role.owner)
    operations = brand_scoped_operations(app)
    assert len(operations) >= 8, "expected the brand API to be tagged brand-scoped"
    with_params = [(m, p) for m, p in operations if PARAM.search(p)]
    assert with_params, "no brand-scoped route takes an object id"
    for method, template in with_params:
        names = PARAM.findall(template)
        missing = [n for n in names if n not in OWNED]
        assert not missing, f"{template}: add a builder for {missing} to OWNED"
        path = template
        for name in names:
            path = path.replace("{" + name + "}", str(OWNED[name](session, brand_a)))
        body = BODIES.get((method, template), {})
        response = client.request(
            method, path, headers={"Authorization": f"Bearer {key_b}"}, json=body
        )
        assert response.status_code == 404, (method, template, response.text)
        assert response.json()["error"] == "NotFound"


def test_list_routes_return_only_the_callers_rows(client: TestClient, session: Session) -> None:
    brand_a, brand_b = make_brand(session), make_brand(session)
    member_a = make_member(session, brand=brand_a)
    key_a, _ = make_api_key(session, brand=brand_a, name="a-key")
    _, key_b = make_api_key(session, brand=brand_b, role=Role.owner)
    headers = {"Authorization": f"Bearer {key_b}"}
    members = client.get("/api/v1/members", headers=headers).json()["items"]
    keys = client.get("/api/v1/api-keys", headers=headers).json()["items"]
    assert str(member_a.id) not in {m["id"] for m in members}
    assert str(key_a.id) not in {k["id"] for k in keys}
    assert client.get("/api/v1/brand", headers=headers).json()["id"] == str(brand_b.id)


def test_console_pages_refuse_another_brands_objects(client: TestClient, session: Session) -> None:
    from tests.builders import PASSWORD
    from tests.helpers import csrf_of, sign_in_member

    brand_a, brand_b = make_brand(session), make_brand(session)
    key_a, _ = make_api_key(session, brand=brand_a)
    owner_b = make_member(session, brand=brand_b, role=Role.owner)
    sign_in_member(client, owner_b.email, PASSWORD)
    response = client.post(
        f"/console/api-keys/{key_a.id}/revoke",
        data={"csrf_token": csrf_of(client, "/console/api-keys")},
        headers={"accept": "text/html"},
    )
    assert response.status_code == 404
    session.refresh(key_a)
    assert key_a.revoked_at is None
