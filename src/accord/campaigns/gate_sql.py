"""The gate as one set-based SQL statement: every audience member with their reason (or none).

Same rules, same order as `gate_rules.decide`; no Python loop per person. The only per-value
work in Python is one local minute per distinct time zone (SQLite has no time zone data).
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import (
    Integer,
    Select,
    String,
    and_,
    bindparam,
    case,
    cast,
    column,
    exists,
    func,
    literal,
    or_,
    select,
    values,
)
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement

from accord.campaigns.gate_rules import CAP_WINDOW, INTERRUPTIVE, SMS_END, SMS_START, local_minute
from accord.core.db import UTCDateTime
from accord.outbox.models import OutboxMessage
from accord.people.models import ContactPoint, Person
from accord.relationships.models import (
    DEFAULT_GLOBAL_CAP,
    ChannelChoice,
    GlobalPreferences,
    PurposeGrant,
    Relationship,
    TopicChoice,
)


def _minutes(hhmm: Any) -> ColumnElement[int]:
    hours = cast(func.substr(hhmm, 1, 2), Integer)
    mins = cast(func.substr(hhmm, 4, 2), Integer)
    return hours * 60 + mins


def zone_minutes(session: Session, at: datetime) -> list[tuple[str, int]]:
    zones = session.scalars(select(Person.time_zone).distinct()).all()
    return [(zone, local_minute(at, zone)) for zone in zones]


def gate_select(
    session: Session,
    *,
    brand_id: uuid.UUID,
    purpose: str,
    topic_id: uuid.UUID,
    channel: str,
    at: datetime,
    audience: Select[tuple[uuid.UUID]],
) -> Select[tuple[uuid.UUID, str | None]]:
    """SELECT person_id, reason FROM the audience; reason is NULL for an allowed message."""
    marketing = purpose == "marketing"
    now = bindparam("gate_at", at, type_=UTCDateTime())
    since = bindparam("gate_since", at - CAP_WINDOW, type_=UTCDateTime())
    aud = audience.subquery("aud")
    person = aud.c[0]
    rel = select(Relationship).where(Relationship.brand_id == brand_id).subquery("rel")
    contacts = (
        select(
            ContactPoint.person_id.label("pid"),
            func.count().label("total"),
            func.sum(case((ContactPoint.verified_at.is_not(None), 1), else_=0)).label("verified"),
            func.sum(
                case(
                    (
                        and_(
                            ContactPoint.verified_at.is_not(None),
                            ContactPoint.suppressed_reason.is_(None),
                        ),
                        1,
                    ),
                    else_=0,
                )
            ).label("usable"),
        )
        .where(ContactPoint.channel == channel)
        .group_by(ContactPoint.person_id)
        .subquery("cp")
    )
    sent = (
        select(
            OutboxMessage.person_id.label("pid"),
            func.sum(case((OutboxMessage.brand_id == brand_id, 1), else_=0)).label("brand_n"),
            func.count().label("global_n"),
        )
        .where(
            OutboxMessage.state == "sent",
            OutboxMessage.purpose == "marketing",
            OutboxMessage.sent_at > since,
        )
        .group_by(OutboxMessage.person_id)
        .subquery("sent")
    )
    g = GlobalPreferences
    chosen_channel = exists().where(
        ChannelChoice.person_id == person,
        ChannelChoice.brand_id == brand_id,
        ChannelChoice.purpose == purpose,
        ChannelChoice.channel == channel,
    )
    granted = exists().where(
        PurposeGrant.person_id == person,
        PurposeGrant.brand_id == brand_id,
        PurposeGrant.purpose == "marketing",
        PurposeGrant.status == "granted",
    )
    chosen_topic = exists().where(TopicChoice.person_id == person, TopicChoice.topic_id == topic_id)
    rules: list[tuple[ColumnElement[bool], str]] = [
        (or_(rel.c.id.is_(None), rel.c.state == "invited"), "no_relationship")
    ]
    if marketing:
        paused = or_(
            and_(
                rel.c.state == "paused",
                or_(rel.c.paused_until.is_(None), rel.c.paused_until > now),
            ),
            and_(g.paused_until.is_not(None), g.paused_until > now),
        )
        rules.append((paused, "paused"))
    rules.append((rel.c.state == "ended", "ended"))
    if marketing:
        rules.append((~granted, "no_marketing_consent"))
    rules.append((~chosen_channel, "channel_not_chosen"))
    if marketing:
        rules.append((~chosen_topic, "topic_not_chosen"))
        rules.append((func.coalesce(g.do_not_contact, False).is_(True), "global_opt_out"))
    rules += [
        (contacts.c.total.is_(None), "no_contact_point"),
        (contacts.c.verified == 0, "unverified"),
        (contacts.c.usable == 0, "suppressed"),
    ]
    if marketing:
        rules.append((func.coalesce(sent.c.brand_n, 0) >= rel.c.brand_cap, "brand_cap"))
        cap = func.coalesce(g.global_cap, DEFAULT_GLOBAL_CAP)
        rules.append((func.coalesce(sent.c.global_n, 0) >= cap, "global_cap"))
    query = (
        select(person.label("person_id"))
        .select_from(aud)
        .join(Person, Person.id == person)
        .outerjoin(rel, rel.c.person_id == person)
        .outerjoin(g, g.person_id == person)
        .outerjoin(contacts, contacts.c.pid == person)
        .outerjoin(sent, sent.c.pid == person)
    )
    if channel in INTERRUPTIVE:
        zones = zone_minutes(session, at)
        # A CTE, not a VALUES join: SQLite cannot alias the columns of a VALUES in FROM.
        table = (
            values(column("zone", String()), column("minute", Integer()), name="zones")
            .data(zones or [("UTC", local_minute(at, "UTC"))])
            .cte("zones")
        )
        query = query.outerjoin(table, table.c.zone == Person.time_zone)
        minute = table.c.minute
        qs, qe = _minutes(g.quiet_start), _minutes(g.quiet_end)
        quiet = and_(
            g.quiet_start.is_not(None),
            or_(
                and_(qs < qe, minute >= qs, minute < qe),
                and_(qs > qe, or_(minute >= qs, minute < qe)),
            ),
        )
        if channel == "sms":
            quiet = or_(minute < SMS_START, minute >= SMS_END, quiet)
        rules.append((quiet, "quiet_hours"))
    reason = case(*rules, else_=literal(None, String()))
    return query.add_columns(reason.label("reason"))


def reason_counts(session: Session, gate: Select[tuple[uuid.UUID, str | None]]) -> dict[str, int]:
    """How many audience members each reason keeps out; 'eligible' for those let through."""
    sub = gate.subquery()
    rows = session.execute(select(sub.c.reason, func.count()).group_by(sub.c.reason)).all()
    return {(reason or "eligible"): count for reason, count in rows}
