"""Schedules: at a time, and at a local time in each person's zone; expiry."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from accord.campaigns import service
from accord.campaigns.schemas import CampaignCreate, Schedule
from accord.core.db import utcnow
from accord.outbox.models import OutboxMessage
from tests.builders import make_brand, make_person, make_relationship, make_topic


def test_local_schedule_sends_at_the_same_local_time_in_every_zone(session: Session) -> None:
    brand = make_brand(session)
    topic = make_topic(session, brand=brand)
    zones = ["Europe/Berlin", "America/New_York", "Asia/Tokyo"]
    people = {}
    for zone in zones:
        person = make_person(session, time_zone=zone)
        make_relationship(
            session,
            person=person,
            brand=brand,
            marketing=True,
            channels=("email",),
            topics_on=(topic,),
        )
        people[person.id] = zone
    day = (utcnow() + timedelta(days=3)).date().isoformat()
    data = CampaignCreate(
        name="Local",
        topic_id=topic.id,
        subject="s",
        text="t",
        schedule=Schedule(kind="local", local_date=day, local_time="09:00"),
    )
    campaign = service.create(session, brand.id, data, member_id=None)
    service.send(session, campaign)
    assert campaign.state == "scheduled"
    tokyo_nine = datetime.fromisoformat(f"{day}T00:00:00+00:00")  # 09:00 in Tokyo is 00:00 UTC
    assert campaign.send_at == tokyo_nine
    assert service.due(session, tokyo_nine - timedelta(minutes=1)) == []
    assert service.due(session, tokyo_nine) == [campaign.id]
    # One person per batch (three ranges of person ids): every batch is written, none twice.
    written = service.resolve(session, campaign, tokyo_nine, batch=1)
    rows = session.scalars(
        select(OutboxMessage).where(OutboxMessage.campaign_id == campaign.id)
    ).all()
    for row in rows:
        assert row.person_id is not None
        local = row.not_before.astimezone(__import__("zoneinfo").ZoneInfo(people[row.person_id]))
        assert (local.hour, local.minute, local.date().isoformat()) == (9, 0, day)
    assert len(rows) == 3
    assert written == 3  # the count resolve reports is the rows it wrote
    assert service.resolve(session, campaign, tokyo_nine, batch=1) == 0  # re-run: none again


def test_at_schedule_and_expiry(session: Session) -> None:
    brand = make_brand(session)
    topic = make_topic(session, brand=brand)
    person = make_person(session)
    make_relationship(
        session, person=person, brand=brand, marketing=True, channels=("email",), topics_on=(topic,)
    )
    at = (utcnow() + timedelta(hours=2)).replace(microsecond=0)
    data = CampaignCreate(
        name="At",
        topic_id=topic.id,
        subject="s",
        text="t",
        schedule=Schedule(kind="at", at=at),
        expires_at=at + timedelta(hours=1),
    )
    campaign = service.create(session, brand.id, data, member_id=None)
    service.send(session, campaign)
    assert campaign.send_at == at.astimezone(UTC)
    assert service.due(session, utcnow()) == []
    assert service.resolve(session, campaign, at) == 1
    row = session.scalars(
        select(OutboxMessage).where(OutboxMessage.campaign_id == campaign.id)
    ).one()
    assert row.not_before == at and row.expires_at == at + timedelta(hours=1)
