"""A person's relationships as the portal's lists show them: the home page's section, the
relationships page and the brand directory.

Read as the columns shown, built once and run on the session's cursor (`core.direct`): the
lists read every relationship and its brand as ORM objects, and the topics' names with a list
of ids SQLAlchemy expands (so through the ORM's execution on every view), which was most of
each list's time. The person's choices at every brand come in one statement, folded as
`service.choices` folds one brand's.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import String, Uuid, bindparam, cast, literal_column, null, or_, select, union_all
from sqlalchemy.orm import Session

from accord.brands.models import Brand
from accord.core.direct import Direct
from accord.core.errors import NotFound
from accord.people import service as people
from accord.relationships.models import (
    ChannelChoice,
    PurposeGrant,
    Relationship,
    Topic,
    TopicChoice,
)
from accord.relationships.replay import effective_state
from accord.relationships.vocabulary import Purpose, State

OPEN = (State.active.value, State.paused.value)


@dataclass
class Choices:
    purposes: dict[str, str]
    channels: dict[str, list[str]]
    topics: list[uuid.UUID]


_PERSON = bindparam("person", type_=Uuid())


def _person_choices_statement() -> Any:
    """The person's purposes, channels and topics at every brand, each row with its brand."""
    grants: Any = PurposeGrant.__table__
    channels: Any = ChannelChoice.__table__
    topics: Any = TopicChoice.__table__
    return union_all(
        select(literal_column("'p'"), grants.c.brand_id, grants.c.purpose, grants.c.status).where(
            grants.c.person_id == _PERSON
        ),
        select(
            literal_column("'c'"), channels.c.brand_id, channels.c.purpose, channels.c.channel
        ).where(channels.c.person_id == _PERSON),
        select(
            literal_column("'t'"), topics.c.brand_id, cast(topics.c.topic_id, String), null()
        ).where(topics.c.person_id == _PERSON),
    )


# The relationships lists and the directory: one statement for all the person's choices.
_PERSON_CHOICES = Direct(_person_choices_statement())


def person_choices(
    session: Session, person_id: uuid.UUID, brand_ids: Iterable[uuid.UUID]
) -> dict[uuid.UUID, Choices]:
    """The person's choices at each of these brands (sorted as `service.choices` sorts one
    brand's: purposes by name, channels by purpose and name, topics by id)."""
    found = {brand_id: Choices({}, {}, []) for brand_id in brand_ids}
    for kind, brand_id, a, b in sorted(
        _PERSON_CHOICES.all(session, person=person_id),
        key=lambda r: (r[0], str(r[1]), r[2], r[3] or ""),
    ):
        chosen = found.get(brand_id)
        if chosen is None:
            continue
        if kind == "p":
            chosen.purposes[a] = b
        elif kind == "c":
            chosen.channels.setdefault(a, []).append(b)
        else:
            chosen.topics.append(uuid.UUID(a))
    for chosen in found.values():
        chosen.topics.sort()
    return found


# Each relationship's state, pause and cap with its brand's `id` and `name`, by brand name.
_RELATED = Direct(
    select(
        Relationship.state,
        Relationship.paused_until,
        Relationship.brand_cap,
        Brand.id,
        Brand.name,
    )
    .join(Brand, Brand.id == Relationship.brand_id)
    .where(Relationship.person_id == _PERSON)
    .order_by(Brand.name)
)


def related(session: Session, person_id: uuid.UUID) -> list[tuple[Any, Choices]]:
    """Every relationship of the person (state, paused_until, brand_cap, and its brand's `id`
    and `name`), by brand name, with the person's choices there: two statements."""
    rows = _RELATED.all(session, person=person_id)
    if not rows:
        return []
    chosen = person_choices(session, person_id, [row.id for row in rows])
    return [(row, chosen[row.id]) for row in rows]


def open_brands(session: Session, person_id: uuid.UUID) -> list[tuple[uuid.UUID, str]]:
    """(id, name) of the brands whose relationship with the person is active or paused now,
    by name: one statement."""
    return [
        (row.id, row.name)
        for row in _RELATED.all(session, person=person_id)
        if effective_state(row) in OPEN
    ]


# The names of the topics the person chose that are about marketing.
_MARKETING_CHOSEN = Direct(
    select(Topic.id, Topic.name)
    .join(TopicChoice, TopicChoice.topic_id == Topic.id)
    .where(TopicChoice.person_id == _PERSON, Topic.purpose == Purpose.marketing.value)
)
# The topics of every brand the person relates to, and of every topic they chose, by name.
_LISTED_TOPICS = Direct(
    select(Topic.id, Topic.brand_id, Topic.name, Topic.purpose)
    .where(
        or_(
            Topic.brand_id.in_(
                select(Relationship.brand_id).where(Relationship.person_id == _PERSON)
            ),
            Topic.id.in_(select(TopicChoice.topic_id).where(TopicChoice.person_id == _PERSON)),
        )
    )
    .order_by(Topic.name)
)


def zone_and_locale(session: Session, person_id: uuid.UUID) -> tuple[str, str]:
    """The person's time zone and language, which the lists' times show in."""
    row = people.shown(session, person_id)
    if row is None:
        raise NotFound("No such person.")
    return row.time_zone, row.locale


def marketing_names(session: Session, person_id: uuid.UUID) -> dict[uuid.UUID, str]:
    """The names of the marketing topics the person chose, by id."""
    return {row.id: row.name for row in _MARKETING_CHOSEN.all(session, person=person_id)}


def topic_names(
    session: Session,
    person_id: uuid.UUID,
    brand_ids: Iterable[uuid.UUID],
    chosen: Iterable[uuid.UUID],
) -> tuple[dict[uuid.UUID, dict[uuid.UUID, str]], dict[uuid.UUID, str]]:
    """For the person's relationships, in one statement: each of these brands' topic names by
    id, and the names of the `chosen` topics that are about marketing."""
    by_brand: dict[uuid.UUID, dict[uuid.UUID, str]] = {b: {} for b in brand_ids}
    marketing: dict[uuid.UUID, str] = {}
    wanted = set(chosen)
    for topic_id, brand_id, name, purpose in _LISTED_TOPICS.all(session, person=person_id):
        if brand_id in by_brand:
            by_brand[brand_id][topic_id] = name
        if topic_id in wanted and purpose == Purpose.marketing.value:
            marketing[topic_id] = name
    return by_brand, marketing
