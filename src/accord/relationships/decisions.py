"""Every decision a person makes (or a brand records with evidence) about a relationship.

Each function changes the state tables and appends one ledger event in the caller's
transaction, so state and ledger cannot disagree. A call that changes nothing writes nothing.
"""

from __future__ import annotations

import hashlib
import uuid
import weakref
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

import rfc8785
from sqlalchemy import Uuid, bindparam, delete, insert, select
from sqlalchemy.orm import Session
from sqlalchemy.orm.util import identity_key

from accord.brands.models import Brand
from accord.consent import service as consent
from accord.consent.service import Scope
from accord.core.db import transaction_info, utcnow
from accord.core.direct import Direct
from accord.core.errors import Conflict, InvalidInput, NotFound
from accord.core.read_memo import remembered
from accord.relationships.models import (
    DEFAULT_BRAND_CAP,
    ChannelChoice,
    ChannelPreference,
    PurposeGrant,
    Relationship,
    Topic,
    TopicChoice,
)
from accord.relationships.vocabulary import GRANTABLE, Channel, Purpose, Source, State
from accord.webhooks import service as webhooks
from accord.webhooks.service import CONSENT_CHANGED, RELATIONSHIP_CHANGED

RELATIONSHIP_ACTIONS = frozenset({"follow", "invite", "accept", "pause", "resume", "end"})


@dataclass(frozen=True)
class Actor:
    """Who made the decision and how: the ledger's source, notice version and hashed evidence."""

    source: Source = Source.portal
    policy: str | None = None
    evidence: dict[str, str] = field(default_factory=dict)


PORTAL = Actor()


class Held(Protocol):
    """What a decision needs of the relationship: a Relationship, or a row read under the
    person's lock (`held_row`)."""

    @property
    def person_id(self) -> uuid.UUID: ...
    @property
    def brand_id(self) -> uuid.UUID: ...
    @property
    def state(self) -> str: ...


def record(
    session: Session,
    rel: Held,
    action: str,
    actor: Actor,
    *,
    scope: Scope | None = None,
    value: dict[str, Any] | None = None,
    listening: bool | None = None,
    along: tuple[consent.Along, dict[str, Any]] | None = None,
) -> consent.Appended:
    """The decision's ledger event (with `along`, the state's write: `consent.Along`) and its
    webhook event."""
    event = consent.append(
        session,
        subject=rel.person_id,
        brand=rel.brand_id,
        action=action,
        source=actor.source.value,
        scope=scope,
        policy=actor.policy,
        evidence=actor.evidence,
        value=value,
        along=along,
    )
    if listening is False:  # read with the relationship: no endpoint to deliver to
        return event
    # The brand's systems hear of it (webhooks), in this transaction: only if it commits.
    kind = RELATIONSHIP_CHANGED if action in RELATIONSHIP_ACTIONS else CONSENT_CHANGED
    webhooks.emit(
        session,
        rel.brand_id,
        kind.name,
        {
            "person_id": str(rel.person_id),
            "action": action,
            "state": rel.state,
            "scope": (scope or Scope()).as_json(),
            "source": actor.source.value,
            "value": dict(value or {}),
            "ledger_seq": event.seq,
            "at": consent.timestamp(event.occurred_at),
        },
        event_id=f"msg_ledger_{event.subject_id.hex}_{event.seq}",
    )
    return event


# Built once (pages read a relationship on every request): the pair is bound at execution.
_FIND = select(Relationship).where(
    Relationship.person_id == bindparam("person", type_=Uuid()),
    Relationship.brand_id == bindparam("brand", type_=Uuid()),
)
_CHANNEL_ORDER = (
    select(ChannelPreference.channel)
    .where(
        ChannelPreference.person_id == bindparam("person", type_=Uuid()),
        ChannelPreference.brand_id == bindparam("brand", type_=Uuid()),
    )
    .order_by(ChannelPreference.rank)
)


def find(session: Session, person_id: uuid.UUID, brand_id: uuid.UUID) -> Relationship | None:
    def read() -> Relationship | None:
        return session.scalars(_FIND, {"person": person_id, "brand": brand_id}).one_or_none()

    return remembered(session, ("relationship", person_id, brand_id), read)


def get(session: Session, person_id: uuid.UUID, brand_id: uuid.UUID) -> Relationship:
    rel = find(session, person_id, brand_id)
    if rel is None:
        raise NotFound("No relationship with this brand.")
    return rel


_FRESH = "fresh_relationships"  # transaction_info: relationships read under their person's lock


def _fresh(session: Session) -> weakref.WeakSet[Relationship]:
    # Weak: holding them would keep them in the session's identity map, where a later read
    # in the same session would find this copy rather than the row.
    fresh: weakref.WeakSet[Relationship] = transaction_info(session).setdefault(
        _FRESH, weakref.WeakSet()
    )
    return fresh


_HELD = (
    select(Relationship, Brand)
    .join(Brand, Brand.id == Relationship.brand_id)
    .where(
        Relationship.person_id == bindparam("person", type_=Uuid()),
        Relationship.brand_id == bindparam("brand", type_=Uuid()),
    )
    .execution_options(populate_existing=True)  # fresher than any copy read before the lock
)


def held(session: Session, person_id: uuid.UUID, brand_id: uuid.UUID) -> tuple[Relationship, Brand]:
    """The relationship and its brand, read under the person's ledger-head lock (one statement
    after the lock's), ready for decisions: they need not read it again."""
    consent.hold(session, person_id)
    found = session.execute(_HELD, {"person": person_id, "brand": brand_id}).one_or_none()
    if found is None:
        raise NotFound("No relationship with this brand.")
    rel, brand = found
    _fresh(session).add(rel)
    return rel, brand


def _hold(session: Session, rel: Relationship) -> None:
    """Take the person's ledger-head lock, then re-read the relationship: a concurrent decision
    for this person has committed by now, or waits for ours. Once per transaction: after that,
    the lock is still ours and the relationship changes only through this session."""
    fresh = _fresh(session)
    if rel in fresh:
        return
    consent.hold(session, rel.person_id)
    session.refresh(rel)
    fresh.add(rel)


def open_relationship(rel: Held) -> None:
    """Refuse a decision on an ended relationship."""
    if rel.state == State.ended:
        raise Conflict("This relationship has ended. Follow the brand again to start anew.")


def _reset(session: Session, rel: Relationship) -> None:
    for model in (PurposeGrant, ChannelChoice, TopicChoice):
        session.execute(
            delete(model).where(model.person_id == rel.person_id, model.brand_id == rel.brand_id)
        )
    rel.paused_until = None
    rel.brand_cap = DEFAULT_BRAND_CAP


def _default_channels(session: Session, rel: Relationship) -> None:
    """Transactional messages go by e-mail unless the person chooses otherwise."""
    session.merge(
        ChannelChoice(
            person_id=rel.person_id,
            brand_id=rel.brand_id,
            purpose=Purpose.transactional.value,
            channel=Channel.email.value,
        )
    )


def start(
    session: Session,
    person_id: uuid.UUID,
    brand_id: uuid.UUID,
    actor: Actor,
    *,
    action: str = "follow",
    state: State = State.active,
) -> Relationship:
    """Follow a brand (or be invited by one). An ended relationship starts afresh."""
    consent.hold(session, person_id)
    rel = find(session, person_id, brand_id)
    if rel is not None and rel.state != State.ended:
        if rel.state == State.invited and state == State.active:
            return accept(session, rel, actor)
        return rel
    if rel is None:
        rel = Relationship(person_id=person_id, brand_id=brand_id, state=state.value)
        rel.origin = action
        session.add(rel)
    else:
        _reset(session, rel)
        rel.state, rel.origin, rel.ended_at = state.value, action, None
    rel.brand_cap = DEFAULT_BRAND_CAP
    rel.shared = {}
    session.flush()
    if state == State.active:
        _default_channels(session, rel)
    record(session, rel, action, actor)
    session.flush()
    return rel


def accept(session: Session, rel: Relationship, actor: Actor) -> Relationship:
    _hold(session, rel)
    if rel.state != State.invited:
        return rel
    rel.state = State.active.value
    _default_channels(session, rel)
    record(session, rel, "accept", actor)
    session.flush()
    return rel


def pause(
    session: Session, rel: Relationship, until: datetime | None, actor: Actor
) -> Relationship:
    _hold(session, rel)
    open_relationship(rel)
    if until is not None and until <= utcnow():
        raise InvalidInput("The pause must end in the future.", field="until")
    if rel.state == State.paused and rel.paused_until == until:
        return rel
    rel.state, rel.paused_until = State.paused.value, until
    record(
        session, rel, "pause", actor, value={"until": consent.timestamp(until) if until else None}
    )
    session.flush()
    return rel


def resume(session: Session, rel: Relationship, actor: Actor) -> Relationship:
    _hold(session, rel)
    open_relationship(rel)
    if rel.state != State.paused:
        return rel
    rel.state, rel.paused_until = State.active.value, None
    record(session, rel, "resume", actor)
    session.flush()
    return rel


def end(session: Session, rel: Relationship, actor: Actor, *, erase: bool = False) -> Relationship:
    """End the relationship: every grant and choice goes with it."""
    _hold(session, rel)
    if rel.state == State.ended:
        return rel
    _reset(session, rel)
    rel.state, rel.ended_at = State.ended.value, utcnow()
    rel.shared = {}
    record(session, rel, "end", actor, value={"erase": erase})
    session.flush()
    return rel


def _grant_row(session: Session, rel: Relationship, purpose: Purpose) -> PurposeGrant | None:
    return session.get(PurposeGrant, (rel.person_id, rel.brand_id, purpose.value))


def _toggle(
    session: Session,
    rel: Relationship,
    existing: Any,
    on: bool,
    make: Callable[[], Any],
    scope: Scope,
    actor: Actor,
) -> bool:
    """Add the choice row (a grant) or delete it (a withdrawal), with its ledger event; True
    when something changed."""
    if on and existing is None:
        session.add(make())
        record(session, rel, "grant", actor, scope=scope)
    elif not on and existing is not None:
        session.delete(existing)
        record(session, rel, "withdraw", actor, scope=scope)
    else:
        return False
    session.flush()
    return True


def _purpose_row(rel: Relationship, purpose: Purpose, status: str) -> PurposeGrant:
    return PurposeGrant(
        person_id=rel.person_id, brand_id=rel.brand_id, purpose=purpose.value, status=status
    )


def set_purpose(
    session: Session, rel: Relationship, purpose: Purpose, on: bool, actor: Actor
) -> bool:
    """Grant or withdraw a purpose; True when something changed."""
    _hold(session, rel)
    if purpose not in GRANTABLE:
        raise InvalidInput(
            f"'{purpose.value}' is not granted; it comes with the relationship.", field="purpose"
        )
    open_relationship(rel)
    row = _grant_row(session, rel, purpose)
    scope = Scope(purpose=purpose.value)
    if on and row is not None and row.status != "granted":
        # Granting a purpose the brand recorded and that waits for confirmation confirms it.
        row.status = "granted"
        record(session, rel, "grant", actor, scope=scope)
        session.flush()
        return True
    return _toggle(
        session, rel, row, on, lambda: _purpose_row(rel, purpose, "granted"), scope, actor
    )


def request_purpose(session: Session, rel: Relationship, purpose: Purpose, actor: Actor) -> bool:
    """A brand recorded this purpose; it waits for the person's confirmation."""
    _hold(session, rel)
    open_relationship(rel)
    row = _grant_row(session, rel, purpose)
    if row is not None:
        return False
    session.add(_purpose_row(rel, purpose, "pending"))
    record(session, rel, "request", actor, scope=Scope(purpose=purpose.value))
    session.flush()
    return True


def confirm_purpose(
    session: Session,
    rel: Relationship,
    purpose: Purpose,
    channels: list[Channel],
    topics: list[uuid.UUID],
    actor: Actor,
) -> None:
    """The person confirmed (double opt-in): the purpose, its channels and topics take effect."""
    _hold(session, rel)
    open_relationship(rel)
    row = _grant_row(session, rel, purpose)
    if row is None:
        session.add(_purpose_row(rel, purpose, "granted"))
    else:
        row.status = "granted"
    for channel in channels:
        session.merge(
            ChannelChoice(
                person_id=rel.person_id,
                brand_id=rel.brand_id,
                purpose=purpose.value,
                channel=channel.value,
            )
        )
    for topic_id in topics:
        session.merge(
            TopicChoice(person_id=rel.person_id, brand_id=rel.brand_id, topic_id=topic_id)
        )
    value = {"channels": sorted(c.value for c in channels), "topics": sorted(map(str, topics))}
    record(session, rel, "confirm", actor, scope=Scope(purpose=purpose.value), value=value)
    session.flush()


def set_channel(
    session: Session, rel: Relationship, purpose: Purpose, channel: Channel, on: bool, actor: Actor
) -> bool:
    _hold(session, rel)
    open_relationship(rel)
    key = (rel.person_id, rel.brand_id, purpose.value, channel.value)
    row = session.get(ChannelChoice, key)
    scope = Scope(purpose=purpose.value, channel=channel.value)

    def make() -> ChannelChoice:
        return ChannelChoice(
            person_id=rel.person_id,
            brand_id=rel.brand_id,
            purpose=purpose.value,
            channel=channel.value,
        )

    return _toggle(session, rel, row, on, make, scope, actor)


def brand_topic(session: Session, brand_id: uuid.UUID, topic_id: uuid.UUID) -> Topic:
    topic = session.scalars(
        select(Topic).where(Topic.id == topic_id, Topic.brand_id == brand_id)
    ).one_or_none()
    if topic is None:
        raise NotFound("No such topic.", field="topic")
    return topic


_topics: Any = Topic.__table__
_topic_choices: Any = TopicChoice.__table__
_PERSON = bindparam("person", type_=Uuid())
_TOPIC = bindparam("topic", type_=Uuid())
# The brand's topic and the person's choice of it, in one statement.
_TOPIC_AND_CHOICE = Direct(
    select(_topics.c.purpose, _topics.c.retired_at, _topic_choices.c.person_id)
    .select_from(_topics)
    .outerjoin(
        _topic_choices,
        (_topic_choices.c.topic_id == _topics.c.id) & (_topic_choices.c.person_id == _PERSON),
    )
    .where(_topics.c.id == _TOPIC, _topics.c.brand_id == bindparam("brand", type_=Uuid()))
)
# Written with the decision's event (`consent.Along`: one statement on PostgreSQL).
_CHOOSE_TOPIC = consent.Along(
    insert(_topic_choices).values(
        person_id=_PERSON, topic_id=_TOPIC, brand_id=bindparam("brand", type_=Uuid())
    )
)
_UNCHOOSE_TOPIC = consent.Along(
    delete(_topic_choices).where(
        _topic_choices.c.person_id == _PERSON, _topic_choices.c.topic_id == _TOPIC
    )
)


def set_topic(
    session: Session, rel: Relationship, topic_id: uuid.UUID, on: bool, actor: Actor
) -> bool:
    _hold(session, rel)
    open_relationship(rel)
    where = {"person": rel.person_id, "topic": topic_id, "brand": rel.brand_id}
    found = _TOPIC_AND_CHOICE.first(session, **where)
    if found is None:
        raise NotFound("No such topic.", field="topic")
    purpose, retired_at, chosen = found
    return topic_decision(
        session, rel, topic_id, purpose, retired_at is not None, chosen is not None, on, actor
    )


def topic_decision(
    session: Session,
    rel: Held,
    topic_id: uuid.UUID,
    purpose: str,
    retired: bool,
    chosen: bool,
    on: bool,
    actor: Actor,
    listening: bool | None = None,
) -> bool:
    """Turn the person's topic on or off at an open relationship held under their lock, given
    the topic and whether it is chosen as read under that lock (and, when read with them,
    whether the brand's webhooks listen: `webhooks.listening`); True when something changed.
    The choice is written as a row (never held by the session as an object)."""
    scope = Scope(purpose=purpose, topic=topic_id)
    if on and not chosen:
        if retired:
            raise Conflict("This topic is retired and can no longer be chosen.", field="topic")
        where = {"person": rel.person_id, "topic": topic_id, "brand": rel.brand_id}
        record(session, rel, "grant", actor, scope=scope, listening=listening,
               along=(_CHOOSE_TOPIC, where))  # fmt: skip
    elif not on and chosen:
        # A copy of the choice the session holds (merged in by `confirm_purpose`) would say
        # it is still there once deleted.
        stale = session.identity_map.get(identity_key(TopicChoice, (rel.person_id, topic_id)))
        if stale is not None:
            session.expunge(stale)
        where = {"person": rel.person_id, "topic": topic_id}
        record(session, rel, "withdraw", actor, scope=scope, listening=listening,
               along=(_UNCHOOSE_TOPIC, where))  # fmt: skip
    else:
        return False
    session.flush()
    return True


def set_brand_cap(session: Session, rel: Relationship, cap: int, actor: Actor) -> bool:
    _hold(session, rel)
    open_relationship(rel)
    if not 0 <= cap <= 100:
        raise InvalidInput("The cap must be between 0 and 100 messages a week.", field="brand_cap")
    if rel.brand_cap == cap:
        return False
    rel.brand_cap = cap
    record(session, rel, "set_cap", actor, value={"cap": cap})
    session.flush()
    return True


def share(session: Session, rel: Relationship, facts: dict[str, Any], actor: Actor) -> bool:
    """Self-profiling. The ledger keeps a digest of what was shared, never the facts."""
    _hold(session, rel)
    open_relationship(rel)
    if rel.shared == facts:
        return False
    rel.shared = dict(facts)
    digest = hashlib.sha256(rfc8785.dumps(facts)).hexdigest()
    record(session, rel, "share", actor, value={"digest": digest, "count": len(facts)})
    session.flush()
    return True


def withdraw(
    session: Session,
    person_id: uuid.UUID,
    brand_id: uuid.UUID,
    scope: Scope,
    source: Source,
    evidence: dict[str, str] | None = None,
) -> bool:
    """The one withdrawal entry point for other domains (one-click unsubscribe, SMS STOP).

    A topic scope turns the topic off; a channel scope turns the channel off for the purpose;
    a purpose scope withdraws the purpose. True when something changed.
    """
    rel = get(session, person_id, brand_id)
    if rel.state == State.ended:
        return False
    actor = Actor(source=source, evidence=evidence or {})
    if scope.topic is not None:
        return set_topic(session, rel, scope.topic, False, actor)
    if scope.purpose is None:
        raise InvalidInput("A withdrawal needs a purpose, a channel or a topic.", field="scope")
    purpose = Purpose(scope.purpose)
    if scope.channel is not None:
        return set_channel(session, rel, purpose, Channel(scope.channel), False, actor)
    return set_purpose(session, rel, purpose, False, actor)


def set_channel_order(
    session: Session, rel: Relationship, channels: list[Channel], actor: Actor
) -> bool:
    """The person's order of preference among the brand's channels (first = preferred). A
    several-channel campaign reaches them on the first it may use. Unchanged: nothing written."""
    _hold(session, rel)
    open_relationship(rel)
    if len(set(channels)) != len(channels):
        raise InvalidInput("Each channel may appear once.", field="channels")
    wanted = [c.value for c in channels]
    if channel_order(session, rel.person_id, rel.brand_id) == wanted:
        return False
    session.execute(
        delete(ChannelPreference).where(
            ChannelPreference.person_id == rel.person_id,
            ChannelPreference.brand_id == rel.brand_id,
        )
    )
    session.add_all(
        ChannelPreference(person_id=rel.person_id, brand_id=rel.brand_id, channel=c, rank=n)
        for n, c in enumerate(wanted, start=1)
    )
    record(session, rel, "channel_order", actor, value={"order": wanted})
    return True


def channel_order(session: Session, person_id: uuid.UUID, brand_id: uuid.UUID) -> list[str]:
    return list(session.scalars(_CHANNEL_ORDER, {"person": person_id, "brand": brand_id}))
