"""Loads the gate's facts for a batch of people with a few set-based queries, so the worker's
per-message check costs no query per message."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import and_, case, func, select
from sqlalchemy.orm import Session

from accord.campaigns.gate_rules import CAP_WINDOW, Facts
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


def load_facts(
    session: Session,
    *,
    brand_id: uuid.UUID,
    purpose: str,
    topic_id: uuid.UUID,
    channel: str,
    at: datetime,
    people: Sequence[uuid.UUID],
) -> dict[uuid.UUID, Facts]:
    ids = list(people)
    zones = {
        pid: zone
        for pid, zone in session.execute(
            select(Person.id, Person.time_zone).where(Person.id.in_(ids))
        )
    }
    rels = {
        r.person_id: r
        for r in session.execute(
            select(
                Relationship.person_id,
                Relationship.state,
                Relationship.paused_until,
                Relationship.brand_cap,
            ).where(Relationship.brand_id == brand_id, Relationship.person_id.in_(ids))
        )
    }
    prefs = {
        p.person_id: p
        for p in session.execute(
            select(GlobalPreferences).where(GlobalPreferences.person_id.in_(ids))
        ).scalars()
    }
    granted = set(
        session.scalars(
            select(PurposeGrant.person_id).where(
                PurposeGrant.person_id.in_(ids),
                PurposeGrant.brand_id == brand_id,
                PurposeGrant.purpose == "marketing",
                PurposeGrant.status == "granted",
            )
        )
    )
    channels = set(
        session.scalars(
            select(ChannelChoice.person_id).where(
                ChannelChoice.person_id.in_(ids),
                ChannelChoice.brand_id == brand_id,
                ChannelChoice.purpose == purpose,
                ChannelChoice.channel == channel,
            )
        )
    )
    topics = set(
        session.scalars(
            select(TopicChoice.person_id).where(
                TopicChoice.person_id.in_(ids), TopicChoice.topic_id == topic_id
            )
        )
    )
    verified = ContactPoint.verified_at.is_not(None)
    usable = and_(verified, ContactPoint.suppressed_reason.is_(None))
    contacts = {
        row.person_id: row
        for row in session.execute(
            select(
                ContactPoint.person_id,
                func.count().label("total"),
                func.sum(case((verified, 1), else_=0)).label("verified"),
                func.sum(case((usable, 1), else_=0)).label("usable"),
            )
            .where(ContactPoint.person_id.in_(ids), ContactPoint.channel == channel)
            .group_by(ContactPoint.person_id)
        )
    }
    sent = {
        row.person_id: row
        for row in session.execute(
            select(
                OutboxMessage.person_id,
                func.sum(case((OutboxMessage.brand_id == brand_id, 1), else_=0)).label("brand_n"),
                func.count().label("global_n"),
            )
            .where(
                OutboxMessage.person_id.in_(ids),
                OutboxMessage.state == "sent",
                OutboxMessage.purpose == "marketing",
                OutboxMessage.sent_at > at - CAP_WINDOW,
            )
            .group_by(OutboxMessage.person_id)
        )
    }
    facts = {}
    for pid in ids:
        rel, pref, cp, s = rels.get(pid), prefs.get(pid), contacts.get(pid), sent.get(pid)
        facts[pid] = Facts(
            rel_state=rel.state if rel else None,
            rel_paused_until=rel.paused_until if rel else None,
            brand_cap=rel.brand_cap if rel else DEFAULT_BRAND_CAP,
            global_paused_until=pref.paused_until if pref else None,
            do_not_contact=bool(pref and pref.do_not_contact),
            global_cap=pref.global_cap if pref else DEFAULT_GLOBAL_CAP,
            quiet_start=pref.quiet_start if pref else None,
            quiet_end=pref.quiet_end if pref else None,
            time_zone=zones.get(pid, "UTC"),
            marketing_granted=pid in granted,
            channel_chosen=pid in channels,
            topic_chosen=pid in topics,
            contacts_total=cp.total if cp else 0,
            contacts_verified=int(cp.verified or 0) if cp else 0,
            contacts_usable=int(cp.usable or 0) if cp else 0,
            brand_sent=int(s.brand_n or 0) if s else 0,
            global_sent=s.global_n if s else 0,
        )
    return facts
