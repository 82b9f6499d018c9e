"""The commonest preference change, topics turned on or off (`service.change`), on rows.

A person's PATCH of their relationship is, most of the time, one topic turned on or off: one
decision, one ledger event. Through the ORM it cost nine statements, each with several times
the CPU the database spends on it. Here: the person's ledger head locked, then the
relationship, its brand, the first topic the change names and the person's choices at the
brand (and whether its webhooks listen, and whether the caller's sign-in holds when that is
still to check: `accord.people.deps.person_to_check`) in one statement (`_HELD`, under the
lock; on PostgreSQL the lock's own statement reads it: `consent.hold_reading`), each decision
written as rows with its event (`decisions.topic_decision`, as `set_topic` does; on PostgreSQL
one statement: `consent.Along`), and the answer built from what was read and the decisions made
rather than read again (tests/relationships/test_topic_change.py holds it to what a fresh
read gives).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

from sqlalchemy import String, Uuid, bindparam, cast, func, literal_column, select
from sqlalchemy.orm import Session

from accord.brands.models import Brand
from accord.consent import service as consent
from accord.core.direct import Direct
from accord.core.errors import NotFound
from accord.core.web.sign_in import HOLDS, Unchecked
from accord.relationships import decisions
from accord.relationships.decisions import Actor
from accord.relationships.models import (
    ChannelChoice,
    PurposeGrant,
    Relationship,
    Topic,
    TopicChoice,
)
from accord.relationships.replay import effective_state
from accord.relationships.schemas import RelationshipOut
from accord.webhooks import service as webhooks

_rels: Any = Relationship.__table__
_brands: Any = Brand.__table__
_topics: Any = Topic.__table__


def _held(aggregate: Callable[[Any], Any], *also: Any) -> Any:
    """The relationship, its brand, the topic `:topic` (when the brand has it), the person's
    purposes, channels and topics at the brand, each as one text ("purpose status,…",
    "purpose channel,…", "topic,…"; none: null) that `aggregate` (the dialect's string
    aggregate) folds, whether the brand's webhooks listen (none: no read of them for each
    decision), and `also`: one row."""

    def folded(table: Any, *parts: Any) -> Any:
        text = parts[0] if len(parts) == 1 else parts[0] + literal_column("' '") + parts[1]
        return (
            select(aggregate(text))
            .where(table.c.person_id == _rels.c.person_id, table.c.brand_id == _rels.c.brand_id)
            .scalar_subquery()
        )

    grants: Any = PurposeGrant.__table__
    channels: Any = ChannelChoice.__table__
    chosen: Any = TopicChoice.__table__
    return (
        select(
            _rels.c.person_id,
            _rels.c.brand_id,
            _rels.c.state,
            _rels.c.paused_until,
            _rels.c.brand_cap,
            _brands.c.name.label("brand_name"),
            _brands.c.slug.label("brand_slug"),
            _topics.c.purpose.label("topic_purpose"),
            _topics.c.retired_at.label("topic_retired_at"),
            folded(grants, grants.c.purpose, grants.c.status).label("purposes"),
            folded(channels, channels.c.purpose, channels.c.channel).label("channels"),
            folded(chosen, cast(chosen.c.topic_id, String)).label("topics"),
            webhooks.listening(_rels.c.brand_id).label("listening"),
            *also,
        )
        .select_from(_rels)
        .join(_brands, _brands.c.id == _rels.c.brand_id)
        .outerjoin(
            _topics,
            (_topics.c.id == bindparam("topic", type_=Uuid()))
            & (_topics.c.brand_id == _rels.c.brand_id),
        )
        .where(
            _rels.c.person_id == bindparam("person", type_=Uuid()),
            _rels.c.brand_id == bindparam("brand", type_=Uuid()),
        )
    )


def _held_read(*also: Any) -> consent.HeldRead:
    return consent.HeldRead(
        {
            "postgresql": _held(lambda text: func.string_agg(text, literal_column("','")), *also),
            "sqlite": _held(lambda text: func.group_concat(text, literal_column("','")), *also),
        }
    )


# Under the person's lock: on PostgreSQL read by the statement that takes it (`consent.HeldRead`);
# with whether the caller's sign-in holds, when that is still to check (`sign_in.Unchecked`).
_HELD = _held_read()
_HELD_SIGNED_IN = _held_read(HOLDS)
_TOPIC = Direct(
    select(_topics.c.purpose, _topics.c.retired_at).where(
        _topics.c.id == bindparam("topic", type_=Uuid()),
        _topics.c.brand_id == bindparam("brand", type_=Uuid()),
    )
)


def _pairs(folded: str | None) -> list[tuple[str, str]]:
    return sorted(tuple(item.split(" ", 1)) for item in folded.split(",")) if folded else []  # type: ignore[misc]


def change_topics(
    session: Session,
    person_id: uuid.UUID,
    brand_id: uuid.UUID,
    wanted: dict[uuid.UUID, bool],
    actor: Actor,
    *,
    sign_in: Unchecked | None = None,
) -> RelationshipOut:
    """Turn the person's topics at the brand on or off (one decision each, nothing for those
    already so); the relationship as it now stands. `sign_in`: the caller's, checked by the
    first statement, before anything is written or refused."""
    first = next(iter(wanted), None)
    read, values = (_HELD, {}) if sign_in is None else (_HELD_SIGNED_IN, sign_in.values)
    rel = consent.hold_reading(
        session, person_id, read, person=person_id, brand=brand_id, topic=first, **values
    )
    if sign_in is not None:
        if rel is None:  # no row to carry the check
            sign_in.check(session)
        elif not rel.signed_in:
            raise sign_in.refused()
    if rel is None:
        raise NotFound("No relationship with this brand.")
    topics = {uuid.UUID(t) for t in rel.topics.split(",")} if rel.topics else set()
    for topic_id, on in wanted.items():
        decisions.open_relationship(rel)
        if topic_id == first:
            purpose, retired_at = rel.topic_purpose, rel.topic_retired_at
        else:
            found = _TOPIC.first(session, topic=topic_id, brand=brand_id)
            purpose, retired_at = (None, None) if found is None else found
        if purpose is None:
            raise NotFound("No such topic.", field="topic")
        is_chosen = topic_id in topics
        retired = retired_at is not None
        if decisions.topic_decision(
            session, rel, topic_id, purpose, retired, is_chosen, on, actor, rel.listening
        ):
            (topics.add if on else topics.discard)(topic_id)
    channels: dict[str, list[str]] = {}
    for purpose, channel in _pairs(rel.channels):
        channels.setdefault(purpose, []).append(channel)
    return RelationshipOut(
        brand_id=brand_id,
        brand_name=rel.brand_name,
        brand_slug=rel.brand_slug,
        state=effective_state(rel),
        paused_until=rel.paused_until,
        purposes=dict(_pairs(rel.purposes)),
        channels=channels,
        topics=sorted(topics),
        brand_cap=rel.brand_cap,
    )
