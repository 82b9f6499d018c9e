"""Reading relationships for people and brands, and applying a person's changes."""

from __future__ import annotations

import json
import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import (
    Select,
    String,
    Uuid,
    bindparam,
    cast,
    literal,
    literal_column,
    null,
    select,
    union_all,
)
from sqlalchemy.orm import Session

from accord.brands.models import Brand
from accord.consent import service as consent
from accord.core.db import insert_or_ignore, utcnow
from accord.core.direct import Direct
from accord.core.errors import NotFound
from accord.core.read_memo import remembered
from accord.core.web.sign_in import Unchecked
from accord.relationships import decisions, global_prefs, listing, topic_change, topics
from accord.relationships.decisions import PORTAL as PORTAL
from accord.relationships.decisions import Actor as Actor
from accord.relationships.decisions import brand_topic as brand_topic
from accord.relationships.decisions import channel_order as channel_order
from accord.relationships.decisions import end as end
from accord.relationships.decisions import find as find
from accord.relationships.decisions import get as get
from accord.relationships.decisions import held as held
from accord.relationships.decisions import pause as pause
from accord.relationships.decisions import resume as resume
from accord.relationships.decisions import set_brand_cap as set_brand_cap
from accord.relationships.decisions import set_channel as set_channel
from accord.relationships.decisions import set_channel_order as set_channel_order
from accord.relationships.decisions import set_purpose as set_purpose
from accord.relationships.decisions import set_topic as set_topic
from accord.relationships.decisions import start as start
from accord.relationships.decisions import withdraw as withdraw
from accord.relationships.global_prefs import set_global_cap as set_global_cap
from accord.relationships.global_prefs import set_quiet_hours as set_quiet_hours
from accord.relationships.listing import Choices as Choices
from accord.relationships.listing import open_brands as open_brands
from accord.relationships.models import (
    ChannelChoice,
    GlobalPreferences,
    PurposeGrant,
    Relationship,
    Topic,
    TopicChoice,
)
from accord.relationships.preference_matrix import summary
from accord.relationships.receipts_view import receipt_for as receipt_for
from accord.relationships.replay import effective_state
from accord.relationships.schemas import (
    BrandPreferences,
    GlobalPreferencesIn,
    PreferenceChange,
    RelationshipOut,
)
from accord.relationships.vocabulary import Channel, Purpose, Source, State

# Other domains import only this module (tests/test_architecture.py): the `name as name`
# imports above are what it offers them from the domain's other modules, and these
# under a name that says what they do.
create_topic = topics.create
update_topic = topics.update
retire_topic = topics.retire
list_topics = topics.listing
global_preferences = global_prefs.get


def choices(session: Session, person_id: uuid.UUID, brand_id: uuid.UUID) -> Choices:
    found = remembered(
        session, ("choices", person_id, brand_id), lambda: _choices(session, person_id, brand_id)
    )
    # A copy: callers may change what they are given.
    return Choices(
        dict(found.purposes), {p: list(cs) for p, cs in found.channels.items()}, list(found.topics)
    )


def _choices_statement() -> Any:
    def mine(table: Any) -> Any:
        return (table.c.person_id == bindparam("person", type_=Uuid())) & (
            table.c.brand_id == bindparam("brand", type_=Uuid())
        )

    grants: Any = PurposeGrant.__table__
    channels: Any = ChannelChoice.__table__
    topics: Any = TopicChoice.__table__
    return union_all(
        select(literal_column("'p'"), grants.c.purpose, grants.c.status).where(mine(grants)),
        select(literal_column("'c'"), channels.c.purpose, channels.c.channel).where(mine(channels)),
        select(literal_column("'t'"), cast(topics.c.topic_id, String), null()).where(mine(topics)),
    )


# Built once (a statement that runs on every preference answer): on the tables, compiled once,
# run on the DBAPI cursor.
_CHOICES = Direct(_choices_statement())


def _choices(session: Session, person_id: uuid.UUID, brand_id: uuid.UUID) -> Choices:
    """The person's purposes, channels and topics at the brand, in one statement."""
    rows = _CHOICES.all(session, person=person_id, brand=brand_id)
    purposes: dict[str, str] = {}
    channels: dict[str, list[str]] = {}
    topics: list[uuid.UUID] = []
    for kind, a, b in sorted(rows):
        if kind == "p":
            purposes[a] = b
        elif kind == "c":
            channels.setdefault(a, []).append(b)
        else:
            topics.append(uuid.UUID(a))
    return Choices(purposes, channels, sorted(topics))


def for_person(session: Session, person_id: uuid.UUID) -> list[tuple[Relationship, Brand, Choices]]:
    """Every relationship of the person with its brand and choices, by brand name: four
    statements whatever the number of brands (the same choices `choices` reads for one)."""
    rows = session.execute(
        select(Relationship, Brand)
        .join(Brand, Brand.id == Relationship.brand_id)
        .where(Relationship.person_id == person_id)
        .order_by(Brand.name)
    ).all()
    if not rows:
        return []
    found = listing.person_choices(session, person_id, [brand.id for _, brand in rows])
    return [(rel, brand, found[brand.id]) for rel, brand in rows]


def relationship_out(rel: Relationship, brand: Brand, chosen: Choices) -> RelationshipOut:
    return RelationshipOut(
        brand_id=brand.id,
        brand_name=brand.name,
        brand_slug=brand.slug,
        state=effective_state(rel),
        paused_until=rel.paused_until,
        purposes=chosen.purposes,
        channels=chosen.channels,
        topics=chosen.topics,
        brand_cap=rel.brand_cap,
    )


def for_brand(session: Session, brand_id: uuid.UUID, person_id: uuid.UUID) -> BrandPreferences:
    """A related person's effective preferences; anyone else is a 404 (no existence leak)."""
    rel = decisions.find(session, person_id, brand_id)
    if rel is None:
        raise NotFound("No such person.")
    chosen = choices(session, person_id, brand_id)
    return BrandPreferences(
        person_id=person_id,
        state=effective_state(rel),
        paused_until=rel.paused_until,
        purposes=chosen.purposes,
        channels=chosen.channels,
        topics=chosen.topics,
        brand_cap=rel.brand_cap,
        shared=rel.shared,
    )


def change(
    session: Session,
    person_id: uuid.UUID,
    brand_id: uuid.UUID,
    data: PreferenceChange,
    actor: Actor,
    *,
    sign_in: Unchecked | None = None,
) -> RelationshipOut:
    """Apply a person's change to their relationship with the brand (`apply_change`); the
    relationship as it now stands. `sign_in`: the caller's sign-in, still to check, before
    anything else (`accord.people.deps.person_to_check`)."""
    if data.purposes or data.channels or data.brand_cap is not None or data.shared is not None:
        if sign_in is not None:
            sign_in.check(session)
        rel, brand = decisions.held(session, person_id, brand_id)
        apply_change(session, rel, data, actor)
        return relationship_out(rel, brand, choices(session, person_id, brand_id))
    return topic_change.change_topics(
        session, person_id, brand_id, data.topics, actor, sign_in=sign_in
    )


def apply_change(
    session: Session, rel: Relationship, change: PreferenceChange, actor: Actor
) -> int:
    """Apply a person's change; returns how many decisions it made (one ledger event each)."""
    made = 0
    for purpose, on in change.purposes.items():
        made += decisions.set_purpose(session, rel, purpose, on, actor)
    for purpose, by_channel in change.channels.items():
        for channel, on in by_channel.items():
            made += decisions.set_channel(session, rel, purpose, channel, on, actor)
    for topic_id, on in change.topics.items():
        made += decisions.set_topic(session, rel, topic_id, on, actor)
    if change.brand_cap is not None:
        made += decisions.set_brand_cap(session, rel, change.brand_cap, actor)
    if change.shared is not None:
        made += decisions.share(session, rel, change.shared, actor)
    return made


def apply_global(
    session: Session, person_id: uuid.UUID, change: GlobalPreferencesIn, actor: Actor
) -> int:
    made = 0
    given = change.model_fields_set
    if "quiet_start" in given or "quiet_end" in given:
        made += global_prefs.set_quiet_hours(
            session, person_id, change.quiet_start, change.quiet_end, actor
        )
    if change.global_cap is not None:
        made += global_prefs.set_global_cap(session, person_id, change.global_cap, actor)
    if change.do_not_contact is not None:
        made += global_prefs.set_do_not_contact(session, person_id, change.do_not_contact, actor)
    if "paused_until" in given:
        if change.paused_until is None:
            made += global_prefs.resume_all(session, person_id, actor)
        else:
            made += global_prefs.pause_all(session, person_id, change.paused_until, actor)
    return made


def directory(session: Session) -> list[Brand]:
    return list(session.scalars(select(Brand).order_by(Brand.name)))


# Built once: a brand's topics are read on every relationship page.
_BRAND_TOPICS = (
    select(Topic).where(Topic.brand_id == bindparam("brand", type_=Uuid())).order_by(Topic.name)
)


def brand_topics(session: Session, brand_id: uuid.UUID) -> list[Topic]:
    def read() -> list[Topic]:
        return list(session.scalars(_BRAND_TOPICS, {"brand": brand_id}))

    return list(remembered(session, ("brand_topics", brand_id), read))


# Built once and run on the cursor (`core.direct`): the console's home asks on every view.
_HAS_TOPICS = Direct(
    select(Topic.id)
    .where(Topic.brand_id == bindparam("brand", type_=Uuid()), Topic.retired_at.is_(None))
    .limit(1)
)


def has_topics(session: Session, brand_id: uuid.UUID) -> bool:
    """A new brand's checklist step: at least one topic people can choose."""
    return _HAS_TOPICS.first(session, brand=brand_id) is not None


def history(session: Session, person_id: uuid.UUID) -> list[dict[str, object]]:
    """The person's decisions, newest first, each with its hash (for the receipt link)."""
    return [
        {"seq": e.seq, "hash": e.hash, "body": json.loads(e.body), "at": e.occurred_at}
        for e in consent.events_newest_first(session, person_id)
    ]


def home_panel(
    session: Session, person_id: uuid.UUID, brand_id: uuid.UUID | None
) -> dict[str, object]:
    """The person's home page summary of their relationships (a panel on the people page):
    each relationship's row is its brand's too (`listing.related`: `id`, `name`)."""
    rows = listing.related(session, person_id)
    names = listing.marketing_names(session, person_id) if rows else {}
    return {
        "relationships": [
            {
                "brand": rel,
                "state": effective_state(rel),
                "summary": summary(
                    rel.name,
                    effective_state(rel),
                    chosen.purposes,
                    chosen.channels,
                    [names[t] for t in chosen.topics if t in names],
                    rel.brand_cap,
                ),
            }
            for rel, chosen in rows
        ]
    }


def related(
    *, person_id: uuid.UUID | None = None, brand_id: uuid.UUID | None = None
) -> Select[uuid.UUID, uuid.UUID]:
    """(person_id, brand_id) of every relationship the person has entered and not ended
    (active or paused), optionally for one person or one brand: a statement other domains join
    to, so that they need not know this domain's tables."""
    # The states as constants, not a list SQLAlchemy expands at each run: a statement built on
    # it once can run on the cursor (`core.direct`).
    query = select(Relationship.person_id, Relationship.brand_id).where(
        Relationship.state.in_([literal(State.active.value), literal(State.paused.value)])
    )
    if person_id is not None:
        query = query.where(Relationship.person_id == person_id)
    if brand_id is not None:
        query = query.where(Relationship.brand_id == brand_id)
    return query


# Built once and run on the cursor (`core.direct`), once a request (the read memo): the
# relationship page's conversations and texts sections ask, where the relationship's ORM object
# cost several times the read.
_STATE = Direct(
    select(Relationship.state, Relationship.paused_until).where(
        Relationship.person_id == bindparam("person", type_=Uuid()),
        Relationship.brand_id == bindparam("brand", type_=Uuid()),
    )
)


def state_of(session: Session, person_id: uuid.UUID, brand_id: uuid.UUID) -> str | None:
    """The relationship's state ("invited", "active", "paused", "ended"), or None."""
    row = remembered(
        session,
        ("relationship_state", person_id, brand_id),
        lambda: _STATE.first(session, person=person_id, brand=brand_id),
    )
    return None if row is None else effective_state(row)


def start_from_intent(
    session: Session, person_id: uuid.UUID, brand_id: uuid.UUID, channel: str
) -> str:
    """The person accepted the brand's offer on one of their intents: the relationship starts
    (or starts again after it ended; an invitation is accepted), and the brand may reach them
    on the intent's channel for what they bought (transactional). Every change is a ledger
    event with source `intent_accept`. Returns the relationship's state."""
    actor = decisions.Actor(source=Source.intent_accept)
    rel = decisions.start(session, person_id, brand_id, actor, action="intent_accept")
    if channel != Channel.email.value:
        decisions.set_channel(session, rel, Purpose.transactional, Channel(channel), True, actor)
    return effective_state(rel)


def since(
    session: Session, person_id: uuid.UUID, brand_id: uuid.UUID
) -> tuple[str | None, datetime | None]:
    """(state, when the relationship began) or (None, None): a person's history with a brand."""
    rel = decisions.find(session, person_id, brand_id)
    return (None, None) if rel is None else (effective_state(rel), rel.created_at)


# --- For other domains (conversations, ideas): contact preferences, system topics. ---


def asked_no_contact(session: Session, person_id: uuid.UUID) -> bool:
    """The person's "do not contact me" flag, across all brands."""
    prefs = session.get(GlobalPreferences, person_id)
    return bool(prefs is not None and prefs.do_not_contact)


def transactional_channels(
    session: Session, person_id: uuid.UUID, brand_id: uuid.UUID
) -> list[str]:
    """The channels the person chose for this brand's transactional messages."""
    return list(
        session.scalars(
            select(ChannelChoice.channel).where(
                ChannelChoice.person_id == person_id,
                ChannelChoice.brand_id == brand_id,
                ChannelChoice.purpose == "transactional",
            )
        )
    )


def system_topic(
    session: Session, brand_id: uuid.UUID, *, slug: str, name: str, description: str
) -> uuid.UUID:
    """A transactional topic Accord keeps for the brand (replies in conversations, news of the
    ideas people voted for), made the first time it is needed; its id."""
    found = session.scalar(select(Topic.id).where(Topic.brand_id == brand_id, Topic.slug == slug))
    if found is not None:
        return found
    insert_or_ignore(
        session,
        Topic,
        {
            "id": uuid.uuid4(),
            "brand_id": brand_id,
            "slug": slug,
            "name": name,
            "description": description,
            "purpose": "transactional",
            "created_at": utcnow(),
        },
    )
    return session.scalars(
        select(Topic.id).where(Topic.brand_id == brand_id, Topic.slug == slug)
    ).one()


def transactional_choices(brand_id: uuid.UUID) -> Select[uuid.UUID, str]:
    """(person_id, channel) of every channel people chose for the brand's transactional
    messages: a statement other domains join to (set-based notifications)."""
    return select(ChannelChoice.person_id, ChannelChoice.channel).where(
        ChannelChoice.brand_id == brand_id, ChannelChoice.purpose == "transactional"
    )


def granted(brand_id: uuid.UUID, purpose: str) -> Select[uuid.UUID]:
    """The people who granted `purpose` (confirmed, not pending) to the brand."""
    return select(PurposeGrant.person_id).where(
        PurposeGrant.brand_id == brand_id,
        PurposeGrant.purpose == purpose,
        PurposeGrant.status == "granted",
    )
