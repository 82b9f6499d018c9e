"""The gate's facts for a batch of people, loaded with one set-based query, and the batch check
over them: the per-message form of the gate (`gate_rules.decide`) for every person of a list,
at the cost of one query for the list (the worker's check before handing a chunk to a channel,
and any caller asking the gate about a few people)."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import timedelta
from functools import cache
from typing import Any

from sqlalchemy import Select, String, Uuid, and_, bindparam, case, func, select
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement

from accord.campaigns.gate_legal import LegalRules, LimitKey, legal_rules
from accord.campaigns.gate_rules import CAP_WINDOW, Decision, Facts, Sending, decide
from accord.core.db import UTCDateTime, among, unindexed
from accord.outbox.models import OutboxMessage
from accord.people.models import ContactPoint, Person
from accord.relationships.models import (
    DEFAULT_BRAND_CAP,
    DEFAULT_GLOBAL_CAP,
    ChannelChoice,
    GlobalPreferences,
    PurposeGrant,
    Relationship,
    TopicChoice,
)
from accord.relationships.vocabulary import GrantStatus, Purpose, State
from accord.terms import service as terms


def check(
    session: Session, sending: Sending, people: Sequence[uuid.UUID]
) -> dict[uuid.UUID, Decision]:
    """The gate's decision for each of `people` (a person not found may be sent nothing)."""
    return {
        pid: decide(facts, sending) for pid, facts in load_facts(session, sending, people).items()
    }


def load_facts(
    session: Session, sending: Sending, people: Sequence[uuid.UUID]
) -> dict[uuid.UUID, Facts]:
    ids = list(people)
    legal = legal_rules(session, sending)
    counts = _legal_counts(session, sending, ids, legal.limits) if legal.limits else {}
    rows = session.execute(
        _statement(session.get_bind().dialect.name),
        {
            "people": ids,
            "brand_id": sending.brand_id,
            "purpose": sending.purpose,
            "topic_id": sending.topic_id,
            "channel": sending.channel,
            "since": sending.at - CAP_WINDOW,
        },
    ).all()
    found = {row.id: row for row in rows}
    none = (0,) * len(legal.limits)
    # Personal terms through their one door: the Python form of the rule, for the whole list.
    effects = terms.effects_for_many(session, list(found), sending.brand_id)
    return {
        pid: _facts(found[pid], legal, counts.get(pid, none), effects[pid].forbids(sending.purpose))
        if pid in found
        else NOBODY
        for pid in ids
    }


def _legal_counts(
    session: Session, sending: Sending, people: list[uuid.UUID], limits: Sequence[LimitKey]
) -> dict[uuid.UUID, tuple[int, ...]]:
    """Per person, the messages counted against each frequency limit: handed over on the
    sending's channel for its purpose by its brand in the limit's last `hours`, on its topic
    (per topic) or any (per brand). One statement for the list."""
    outbox = OutboxMessage
    since = [sending.at - timedelta(hours=hours) for hours, _ in limits]

    def counted(i: int, per: str) -> ColumnElement[int]:
        inside = outbox.sent_at > since[i]
        if per == "topic":
            inside = and_(inside, outbox.topic_id == sending.topic_id)
        return func.sum(case((inside, 1), else_=0))

    rows = session.execute(
        select(
            outbox.person_id,
            *(counted(i, per).label(f"n{i}") for i, (_, per) in enumerate(limits)),
        )
        .where(
            among(session, outbox.person_id, "people", people),
            outbox.purpose == sending.purpose,
            outbox.sent_at > min(since),
            outbox.brand_id == sending.brand_id,
            unindexed(outbox.channel) == sending.channel,
        )
        .group_by(outbox.person_id)
    ).all()
    return {row[0]: tuple(int(n or 0) for n in row[1:]) for row in rows if row[0] is not None}


@cache
def _statement(dialect: str) -> Select[Any]:
    """Every person's facts in one statement: the person joined to their relationship with the
    brand, their global preferences, their contact points and marketing sent on the channel
    (both aggregated), and whether they granted marketing, chose the channel and the topic.
    Built once per dialect with every value a parameter: building it costs more than running it.

    Every table is read through the same list of people, so each is probed by its person
    index (a correlated EXISTS or a plain join lets PostgreSQL hash whole tables instead)."""

    def wanted(column: Any) -> ColumnElement[bool]:
        return among(dialect, column, "people")

    brand_id = bindparam("brand_id", type_=Uuid())
    topic_id = bindparam("topic_id", type_=Uuid())
    purpose = bindparam("purpose", type_=String())
    channel = bindparam("channel", type_=String())
    since = bindparam("since", type_=UTCDateTime())
    verified = ContactPoint.verified_at.is_not(None)
    usable = and_(verified, ContactPoint.suppressed_reason.is_(None))
    contacts = (
        select(
            ContactPoint.person_id,
            func.count().label("total"),
            func.sum(case((verified, 1), else_=0)).label("verified"),
            func.sum(case((usable, 1), else_=0)).label("usable"),
        )
        .where(wanted(ContactPoint.person_id), unindexed(ContactPoint.channel) == channel)
        .group_by(ContactPoint.person_id)
        .subquery("cp")
    )
    sent = (
        select(
            OutboxMessage.person_id,
            func.sum(case((OutboxMessage.brand_id == brand_id, 1), else_=0)).label("brand_n"),
            func.count().label("global_n"),
        )
        .where(
            wanted(OutboxMessage.person_id),
            # Handed over (sent, or since delivered or undelivered): the time it was.
            OutboxMessage.purpose == Purpose.marketing,
            OutboxMessage.sent_at > since,
        )
        .group_by(OutboxMessage.person_id)
        .subquery("sent")
    )
    granted = select(PurposeGrant.person_id).where(
        wanted(PurposeGrant.person_id),
        PurposeGrant.brand_id == brand_id,
        PurposeGrant.purpose == Purpose.marketing,
        PurposeGrant.status == GrantStatus.granted,
    )
    chosen_channel = select(ChannelChoice.person_id).where(
        wanted(ChannelChoice.person_id),
        ChannelChoice.brand_id == brand_id,
        ChannelChoice.purpose == purpose,
        ChannelChoice.channel == channel,
    )
    chosen_topic = select(TopicChoice.person_id).where(
        wanted(TopicChoice.person_id), TopicChoice.topic_id == topic_id
    )
    rel = (
        select(Relationship)
        .where(wanted(Relationship.person_id), Relationship.brand_id == brand_id)
        .subquery("rel")
    )
    g = select(GlobalPreferences).where(wanted(GlobalPreferences.person_id)).subquery("g")
    return (
        select(
            Person.id,
            Person.time_zone,
            Person.place_country,
            Person.place_subdivision,
            rel.c.id.label("rel_id"),
            rel.c.state,
            rel.c.paused_until,
            rel.c.brand_cap,
            g.c.person_id.label("pref_id"),
            g.c.paused_until.label("global_paused_until"),
            g.c.do_not_contact,
            g.c.global_cap,
            g.c.quiet_start,
            g.c.quiet_end,
            Person.id.in_(granted).label("granted"),
            Person.id.in_(chosen_channel).label("chosen_channel"),
            Person.id.in_(chosen_topic).label("chosen_topic"),
            contacts.c.total,
            contacts.c.verified,
            contacts.c.usable,
            sent.c.brand_n,
            sent.c.global_n,
        )
        .outerjoin(rel, rel.c.person_id == Person.id)
        .outerjoin(g, g.c.person_id == Person.id)
        .outerjoin(contacts, contacts.c.person_id == Person.id)
        .outerjoin(sent, sent.c.person_id == Person.id)
        .where(wanted(Person.id))
    )


# The facts of a person who is not (or no longer) there: nothing may be sent.
NOBODY = Facts(
    relationship=None,
    paused_until=None,
    brand_cap=DEFAULT_BRAND_CAP,
    global_paused_until=None,
    do_not_contact=False,
    global_cap=DEFAULT_GLOBAL_CAP,
    quiet_start=None,
    quiet_end=None,
    time_zone="UTC",
    marketing_granted=False,
    channel_chosen=False,
    topic_chosen=False,
    has_contact_point=False,
    has_verified_point=False,
    has_usable_point=False,
    brand_sent=0,
    global_sent=0,
    terms_forbid=False,
)


def _facts(row: Any, legal: LegalRules, counted: tuple[int, ...], terms_forbid: bool) -> Facts:
    rel, pref = row.rel_id is not None, row.pref_id is not None
    fold = legal.fold_at(row.place_country, row.place_subdivision)
    return Facts(
        relationship=State(row.state) if rel else None,
        paused_until=row.paused_until if rel else None,
        brand_cap=row.brand_cap if rel else DEFAULT_BRAND_CAP,
        global_paused_until=row.global_paused_until if pref else None,
        do_not_contact=bool(pref and row.do_not_contact),
        global_cap=row.global_cap if pref else DEFAULT_GLOBAL_CAP,
        quiet_start=row.quiet_start if pref else None,
        quiet_end=row.quiet_end if pref else None,
        time_zone=row.time_zone,
        marketing_granted=bool(row.granted),
        channel_chosen=bool(row.chosen_channel),
        topic_chosen=bool(row.chosen_topic),
        has_contact_point=bool(row.total),
        has_verified_point=bool(row.verified),
        has_usable_point=bool(row.usable),
        brand_sent=int(row.brand_n or 0),
        global_sent=int(row.global_n or 0),
        terms_forbid=terms_forbid,
        legal_window=fold.window,
        legal_limits=tuple(zip(legal.maxima(fold), counted, strict=True)),
    )
