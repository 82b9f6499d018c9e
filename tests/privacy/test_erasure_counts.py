"""Erasure keeps the numbers true (issue 17, part 7): a person's delivery rows stay with the person
detached (no person id, no address, no content: counts only), their messages not sent yet are
skipped (`erased`), and the campaign report shows "erased after sending: N" and still adds up
to its audience."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from accord.campaigns import report
from accord.campaigns import service as campaigns
from accord.campaigns.models import Campaign
from accord.campaigns.schemas import CampaignCreate
from accord.core.db import utcnow
from accord.core.settings import Settings
from accord.delivery.worker import Worker
from accord.outbox.models import DeliveryEvent, OutboxMessage
from accord.privacy import service as privacy
from tests.builders import (
    PASSWORD,
    make_brand,
    make_member,
    make_person,
    make_relationship,
    make_topic,
)
from tests.conftest import RolledBackDatabase
from tests.helpers import sign_in_member
from tests.waiting import drain


def world(session: Session) -> dict[str, Any]:
    brand = make_brand(session, name="Count Records")
    topic = make_topic(session, brand=brand, name="Counted news")
    people = [make_person(session, display_name=f"Counted {i}") for i in range(4)]
    for person in people:
        make_relationship(
            session,
            person=person,
            brand=brand,
            marketing=True,
            channels=("email",),
            topics_on=(topic,),
        )
    return {"brand": brand, "topic": topic, "people": people}


def campaign(session: Session, w: dict[str, Any], name: str) -> Campaign:
    made = campaigns.create(
        session,
        w["brand"].id,
        CampaignCreate(name=name, topic_id=w["topic"].id, subject="Hi", text="Hello"),
        member_id=None,
    )
    campaigns.send(session, made)
    session.commit()
    return made


def adds_up(built: report.Report) -> bool:
    return sum(built.states.values()) == built.audience["eligible"]


def test_erasure_after_sending_keeps_the_rows_detached_and_the_report_true(
    client: TestClient, session: Session, database: RolledBackDatabase, settings: Settings
) -> None:
    w = world(session)
    first = campaign(session, w, "Before the erasure")
    worker = Worker(database, settings)
    assert drain(worker).sent == 4
    gone = w["people"][0]
    row = session.scalars(select(OutboxMessage).where(OutboxMessage.person_id == gone.id)).one()
    session.add(
        DeliveryEvent(
            brand_id=w["brand"].id,
            campaign_id=first.id,
            message_id=row.id,
            person_id=gone.id,
            kind="replied",
            detail=f"a reply from {gone.email}",
        )
    )
    session.commit()

    privacy.erase_account(session, settings, gone.id)
    session.commit()

    session.expire_all()
    kept = session.get_one(OutboxMessage, row.id)
    assert (kept.state, kept.person_id, kept.to_address, kept.payload) == ("sent", None, None, None)
    assert kept.idempotency_key == f"erased:{row.id}"
    event = session.scalars(select(DeliveryEvent).where(DeliveryEvent.message_id == row.id)).one()
    assert (event.kind, event.person_id, event.detail) == ("replied", None, None)
    built = report.build(session, first)
    assert built.states["sent"] == 4 and built.erased_after_sending == 1
    assert built.events["replied"] == 1 and adds_up(built)

    # One more erased for this brand alone, after the next campaign was resolved, before it went.
    second = campaign(session, w, "During the erasure")
    worker.schedule(utcnow())
    leaving = w["people"][1]
    privacy.erase_for_brand(session, settings, leaving.id, w["brand"].id)
    session.commit()
    drain(worker)
    session.expire_all()
    built = report.build(session, second)
    assert built.states["sent"] == 2 and built.states["skipped"] == 1
    assert built.skipped_by_reason == {"erased": 1} and built.erased_after_sending == 0
    assert adds_up(built)
    assert report.build(session, first).erased_after_sending == 2 and adds_up(built)

    member = make_member(session, brand=w["brand"])
    session.commit()
    sign_in_member(client, member.email, PASSWORD)
    page = client.get(f"/console/campaigns/{first.id}/report", headers={"accept": "text/html"})
    assert "Erased after sending: 2." in page.text
    api = client.get(f"/console/campaigns/{second.id}/report", headers={"accept": "text/html"})
    assert "erased their data before the message went" in api.text
