"""What the person's page for one relationship reads, as the columns it shows.

Built once and run on the session's cursor (`core.direct`): the page read the relationship, the
brand, the person, the brand's topics and the person's contact points as ORM objects (a
statement each through the ORM, and an object made of every row), which was two fifths of the
page's time. A form that writes still reads the relationship through the service, as its
decisions need it.
"""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import Uuid, bindparam, select
from sqlalchemy.orm import Session

from accord.brands.models import Brand
from accord.core.direct import Direct
from accord.core.errors import NotFound
from accord.people.models import ContactPoint, Person
from accord.relationships.models import ChannelPreference, Relationship, Topic

_PERSON = bindparam("person", type_=Uuid())
_BRAND = bindparam("brand", type_=Uuid())

# The relationship with its brand's name and the person's zone and language, in one statement.
_HEAD = Direct(
    select(
        Relationship.state,
        Relationship.paused_until,
        Relationship.brand_cap,
        Relationship.shared,
        Brand.id,
        Brand.name,
        Person.time_zone,
        Person.locale,
    )
    .join(Brand, Brand.id == Relationship.brand_id)
    .join(Person, Person.id == Relationship.person_id)
    .where(Relationship.person_id == _PERSON, Relationship.brand_id == _BRAND)
)
# The brand's topics, as `preference_matrix.groups` reads them (by name, as the service's).
_TOPICS = Direct(
    select(Topic.id, Topic.name, Topic.description, Topic.purpose, Topic.retired_at)
    .where(Topic.brand_id == _BRAND)
    .order_by(Topic.name)
)
# The channels the person can be reached on: a verified address that is not suppressed.
_REACHABLE = Direct(
    select(ContactPoint.channel).where(
        ContactPoint.person_id == _PERSON,
        ContactPoint.verified_at.is_not(None),
        ContactPoint.suppressed_reason.is_(None),
    )
)
_ORDER = Direct(
    select(ChannelPreference.channel)
    .where(ChannelPreference.person_id == _PERSON, ChannelPreference.brand_id == _BRAND)
    .order_by(ChannelPreference.rank)
)


def head(session: Session, person_id: uuid.UUID, brand_id: uuid.UUID) -> Any:
    """The relationship's state, pause, cap and shared facts, the brand's `id` and `name`, and
    the person's `time_zone` and `locale`; NotFound without a relationship."""
    row = _HEAD.first(session, person=person_id, brand=brand_id)
    if row is None:
        raise NotFound("No relationship with this brand.")
    return row


def topics(session: Session, brand_id: uuid.UUID) -> list[Any]:
    """The brand's topics (id, name, description, purpose, retired_at), by name."""
    return _TOPICS.all(session, brand=brand_id)


def reachable(session: Session, person_id: uuid.UUID) -> set[str]:
    return {row.channel for row in _REACHABLE.all(session, person=person_id)}


def channel_order(session: Session, person_id: uuid.UUID, brand_id: uuid.UUID) -> list[str]:
    """The person's order of the brand's channels, first choice first."""
    return [row.channel for row in _ORDER.all(session, person=person_id, brand=brand_id)]
