"""What an intent's console page runs once the brand has seen the intent: reads only (the
brand's sight of it is already recorded, so the page writes nothing), and nothing read twice
(the terms the brand publishes are listed on the page and checked for the offer form: one
read of their ids, not of the roster's texts)."""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from accord.core.permissions import Role
from accord.intents.models import View
from tests.builders import PASSWORD, make_member, make_person
from tests.helpers import assert_each_read_once, sign_in_member, statements_run
from tests.intents.world import make_intent, ready_brand

HTML = {"accept": "text/html"}


def test_a_seen_intent_page_only_reads_and_reads_each_thing_once(
    app: FastAPI, client: TestClient, session: Session
) -> None:
    brand = ready_brand(session, name="Velo")
    intent = make_intent(session, person=make_person(session))
    session.commit()
    member = make_member(session, brand=brand, role=Role.marketer)
    sign_in_member(client, member.email, PASSWORD)
    page = f"/console/intents/{intent.id}"
    first = client.get(page, headers=HTML)
    assert first.status_code == 200 and "(you publish: no-stalking)" in first.text, first.text
    session.expire_all()
    assert session.scalars(select(View).where(View.intent_id == intent.id)).all()
    with statements_run(app.state.db.engine) as statements:
        again = client.get(page, headers=HTML)
    assert again.status_code == 200 and "(you publish: no-stalking)" in again.text
    reads = [s for s in statements if s.lstrip().upper().startswith(("SELECT", "WITH"))]
    writes = [
        s for s in statements if s.lstrip().upper().startswith(("INSERT", "UPDATE", "DELETE"))
    ]
    assert writes == [], writes
    assert_each_read_once(reads)
    assert not [s for s in reads if "terms_roster" in s], "the roster's texts are not read"


def test_the_intents_list_seen_before_only_reads(
    app: FastAPI, client: TestClient, session: Session
) -> None:
    """Each intent listed is remembered as seen once: the list viewed again writes nothing."""
    brand = ready_brand(session, name="Velo")
    intents = [make_intent(session, person=make_person(session)) for _ in range(3)]
    session.commit()
    member = make_member(session, brand=brand, role=Role.marketer)
    sign_in_member(client, member.email, PASSWORD)
    assert client.get("/console/intents", headers=HTML).status_code == 200
    session.expire_all()
    seen = session.scalars(select(View.intent_id).where(View.brand_id == brand.id)).all()
    assert set(seen) == {i.id for i in intents}
    with statements_run(app.state.db.engine) as statements:
        again = client.get("/console/intents", headers=HTML)
    assert again.status_code == 200
    writes = [
        s for s in statements if s.lstrip().upper().startswith(("INSERT", "UPDATE", "DELETE"))
    ]
    assert writes == [], writes
