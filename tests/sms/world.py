"""A small SMS world: a brand with a number, a person with a verified phone who chose SMS
marketing, built through Accord's own services."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from accord.brands.models import Brand
from accord.core.db import utcnow
from accord.people.models import ContactPoint, Person
from accord.relationships.models import ChannelChoice
from accord.sms import numbers
from tests.builders import make_brand, make_person, make_relationship, make_topic

BRAND_NUMBER = "+12025550100"
PHONE = "+13055550181"  # a Florida number


@dataclass
class World:
    brand: Brand
    person: Person
    phone: ContactPoint
    number: str


def add_phone(
    session: Session, person: Person, number: str, *, verified: bool = True
) -> ContactPoint:
    point = ContactPoint(
        person_id=person.id,
        channel="sms",
        address=number,
        address_normalised=number,
        region="US",
        verified_at=utcnow() if verified else None,
    )
    session.add(point)
    session.flush()
    return point


def sms_world(
    session: Session, *, number: str = BRAND_NUMBER, phone: str = PHONE, brand: Brand | None = None
) -> World:
    brand = brand or make_brand(session, name="Groove Records")
    numbers.register(session, brand.id, number)
    person = make_person(session)
    point = add_phone(session, person, phone)
    topic = make_topic(session, brand=brand)
    make_relationship(
        session, person=person, brand=brand, marketing=True, channels=("sms",), topics_on=(topic,)
    )
    return World(brand, person, point, number)


def chose_sms(session: Session, person_id: uuid.UUID, brand_id: uuid.UUID) -> bool:
    session.expire_all()
    return (
        session.scalar(
            select(ChannelChoice.person_id).where(
                ChannelChoice.person_id == person_id,
                ChannelChoice.brand_id == brand_id,
                ChannelChoice.purpose == "marketing",
                ChannelChoice.channel == "sms",
            )
        )
        is not None
    )
