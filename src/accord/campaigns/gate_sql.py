"""The gate as set-based SQL over a whole audience: no Python loop per person.

The rules are stated once (`_gate`), in the order of `gate_rules.decide`, each as the condition
under which it lets a person through, over the audience joined to the facts the rules read. Two
statements come from them:

- `gate_select`, every audience member with their reason (NULL when allowed): a CASE giving the
  first rule that does not pass. Previews and reports count it (`reason_counts`).
- `eligible_select`, only the people the gate lets through (optionally also those it defers to
  the end of their quiet hours): the conjunction of the rules in WHERE, which the planners turn
  into joins and semi-joins on the facts' keys. Resolving an audience for sending uses it.

A rule is written so that it is TRUE exactly when it passes; FALSE and NULL both keep the person
out, in both statements. The choice tables (grant, channel, topic) are joined on their full
primary key, so each adds at most one row per person. Where the best plan differs by backend or
by statement, only how a fact is fetched differs (contact points and sent counts: EXISTS and
correlated counts, or aggregated once and joined), never the rule over it; the differential
test runs both statements on both backends. The only per-value work in Python is one local
minute per distinct time zone (SQLite has no time zone data).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
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
    true,
    values,
)
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement

from accord.campaigns.gate_rules import (
    CAP_WINDOW,
    INTERRUPTIVE,
    SMS_END,
    SMS_START,
    Sending,
    local_minute,
)
from accord.core.db import UTCDateTime, unindexed
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


@dataclass(frozen=True)
class Rule:
    """One of the gate's rules: `passes` is TRUE when it lets the person through."""

    reason: str
    passes: ColumnElement[bool]
    # The next rule passes only if this one does, so the eligible form need not test it.
    implied_by_next: bool = False
    # Failing it defers the message (quiet hours) rather than keeping the person out.
    defers: bool = False


@dataclass(frozen=True)
class Related:
    """An audience of the brand's relationships: those whose row meets the conditions `where`
    gives on a relationships table's columns. The gate then reads each relationship once, as
    the audience and as the fact its rules look at (not a second time, joined by key)."""

    where: Callable[[Any], list[ColumnElement[bool]]]


Audience = Select[tuple[uuid.UUID]] | Related


def _minutes(hhmm: Any) -> ColumnElement[int]:
    hours = cast(func.substr(hhmm, 1, 2), Integer)
    mins = cast(func.substr(hhmm, 4, 2), Integer)
    return hours * 60 + mins


def zone_minutes(session: Session, at: datetime) -> list[tuple[str, int]]:
    zones = session.scalars(select(Person.time_zone).distinct()).all()
    return [(zone, local_minute(at, zone)) for zone in zones]


def _gate(
    session: Session,
    sending: Sending,
    audience: Audience,
    *,
    people: tuple[uuid.UUID | None, uuid.UUID | None] = (None, None),
    reasons: bool = True,
) -> tuple[Select[tuple[uuid.UUID]], list[Rule]]:
    """The audience joined to every fact the rules read (one row per audience member), and the
    rules in `decide`'s order. `reasons`: for every member's reason (a CASE over the rules),
    not only the eligible (the rules in WHERE). `people` (after, up to) narrows the audience to
    a range of person ids, stated on every table read so each is read by that range of its
    person index (a batch reads its own slice of each table, not all of it)."""
    brand_id, purpose, topic_id = sending.brand_id, sending.purpose, sending.topic_id
    channel, at = sending.channel, sending.at
    marketing = purpose == "marketing"
    sqlite = session.get_bind().dialect.name == "sqlite"
    now = bindparam("gate_at", at, type_=UTCDateTime())
    since = bindparam("gate_since", at - CAP_WINDOW, type_=UTCDateTime())
    after, upto = people

    def span(column: Any) -> list[ColumnElement[bool]]:
        return [
            *([] if after is None else [column > after]),
            *([] if upto is None else [column <= upto]),
        ]

    # Core tables, not ORM entities: the statement runs (and its rows come back) without the
    # ORM's per-row work.
    people_t = Person.__table__
    rel_t, g_t = Relationship.__table__.alias("rel"), GlobalPreferences.__table__.alias("g")
    cc_t, pg_t = ChannelChoice.__table__.alias("cc"), PurposeGrant.__table__.alias("pg")
    tc_t = TopicChoice.__table__.alias("tc")
    ob, cp = OutboxMessage.__table__.c, ContactPoint.__table__.c
    rel, g, cc, pg, tc = rel_t.c, g_t.c, cc_t.c, pg_t.c, tc_t.c
    if isinstance(audience, Related):
        person = rel.person_id
        query = (
            select(person.label("person_id"))
            .select_from(rel_t)
            .where(*audience.where(rel), rel.brand_id == brand_id, *span(person))
        )
    else:
        aud = audience.subquery("aud")
        person = aud.c[0]
        query = select(person.label("person_id")).select_from(aud).where(*span(person))
    if reasons or channel in INTERRUPTIVE:
        # (Without it, a person missing from people has no relationship either: foreign key.)
        query = query.join(people_t, and_(people_t.c.id == person, *span(people_t.c.id)))
    if not isinstance(audience, Related):
        query = query.outerjoin(
            rel_t,
            and_(rel.person_id == person, rel.brand_id == brand_id, *span(rel.person_id)),
        )
    query = query.outerjoin(g_t, and_(g.person_id == person, *span(g.person_id)))
    # The choice tables, each on its whole primary key: at most one row per person.
    query = query.outerjoin(
        cc_t,
        and_(
            cc.person_id == person,
            cc.brand_id == brand_id,
            cc.purpose == purpose,
            cc.channel == channel,
            *span(cc.person_id),
        ),
    )
    rules = [
        Rule("no_relationship", and_(rel.id.is_not(None), rel.state != "invited")),
    ]
    if marketing:
        query = query.outerjoin(
            pg_t,
            and_(
                pg.person_id == person,
                pg.brand_id == brand_id,
                pg.purpose == "marketing",
                pg.status == "granted",
                *span(pg.person_id),
            ),
        ).outerjoin(
            tc_t,
            and_(tc.person_id == person, tc.topic_id == topic_id, *span(tc.person_id)),
        )
        # Marketing sent in the cap window.
        window = (ob.state == "sent", ob.purpose == "marketing", ob.sent_at > since)
        brand_n: ColumnElement[int]
        global_n: ColumnElement[int]
        if sqlite:
            window = (unindexed(ob.state) == "sent", *window[1:])

            # Each person's counts through the (person, purpose, sent_at) index, and only for
            # those the earlier rules let through: SQLite indexes no aggregate joined to a range.
            # Not by the (state, not_before) index: SQLite (no statistics) would walk every
            # sent message through it, not the person index.
            def count(*conditions: ColumnElement[bool]) -> ColumnElement[int]:
                where = (ob.person_id == tc.person_id, *window, *conditions)  # see `chosen`
                return select(func.count()).where(*where).scalar_subquery()

            brand_n, global_n = count(ob.brand_id == brand_id), count()
        else:
            # Counted once per person (of the range), hashed and joined.
            sent = (
                select(
                    ob.person_id.label("pid"),
                    func.sum(case((ob.brand_id == brand_id, 1), else_=0)).label("brand_n"),
                    func.count().label("global_n"),
                )
                .where(*span(ob.person_id), *window)
                .group_by(ob.person_id)
                .subquery("sent")
            )
            query = query.outerjoin(sent, sent.c.pid == person)
            brand_n = func.coalesce(sent.c.brand_n, 0)
            global_n = func.coalesce(sent.c.global_n, 0)
        not_paused = and_(
            or_(
                rel.state != "paused",
                and_(rel.paused_until.is_not(None), rel.paused_until <= now),
            ),
            or_(g.paused_until.is_(None), g.paused_until <= now),
        )
        rules.append(Rule("paused", not_paused))
    rules.append(Rule("ended", rel.state != "ended"))
    if marketing:
        rules.append(Rule("no_marketing_consent", pg.person_id.is_not(None)))
    rules.append(Rule("channel_not_chosen", cc.person_id.is_not(None)))
    if marketing:
        rules.append(Rule("topic_not_chosen", tc.person_id.is_not(None)))
        rules.append(Rule("global_opt_out", g.do_not_contact.is_not(True)))

    # The person, as the last choice table joined has them: a sub-query correlated to it runs
    # only once the choices are known to pass (SQLite tests a condition as soon as the tables
    # it names are joined, so correlated to the audience it would probe for everyone first).
    # Where the choice is missing, an earlier rule already fails, so the answer is the same.
    chosen = tc.person_id if marketing else cc.person_id

    def contact(*conditions: ColumnElement[bool]) -> ColumnElement[bool]:
        return exists().where(
            cp.person_id == chosen,
            *span(cp.person_id),
            cp.channel == channel,
            *conditions,
        )

    verified = cp.verified_at.is_not(None)
    usable = and_(verified, cp.suppressed_reason.is_(None))
    if reasons and not sqlite:
        # Every member's reason on PostgreSQL: contact points counted once per person and
        # hash-joined. As EXISTS each is a sub-plan, which PostgreSQL costs so high that it
        # compiles the statement (JIT) for longer than the statement then runs.
        contacts = (
            select(
                cp.person_id.label("pid"),
                func.count().label("total"),
                func.count(case((verified, 1))).label("verified"),
                func.count(case((usable, 1))).label("usable"),
            )
            .where(cp.channel == channel, *span(cp.person_id))
            .group_by(cp.person_id)
            .subquery("cp")
        )
        query = query.outerjoin(contacts, contacts.c.pid == person)
        any_point: ColumnElement[bool] = contacts.c.total.is_not(None)
        verified_point, usable_point = contacts.c.verified > 0, contacts.c.usable > 0
    else:
        any_point, verified_point, usable_point = contact(), contact(verified), contact(usable)
    rules += [
        Rule("no_contact_point", any_point, implied_by_next=True),
        Rule("unverified", verified_point, implied_by_next=True),
        Rule("suppressed", usable_point),
    ]
    if marketing:
        rules.append(Rule("brand_cap", brand_n < rel.brand_cap))
        cap = func.coalesce(g.global_cap, DEFAULT_GLOBAL_CAP)
        rules.append(Rule("global_cap", global_n < cap))
    if channel in INTERRUPTIVE:
        zones = zone_minutes(session, at)
        # A CTE, not a VALUES join: SQLite cannot alias the columns of a VALUES in FROM.
        table = (
            values(column("zone", String()), column("minute", Integer()), name="zones")
            .data(zones or [("UTC", local_minute(at, "UTC"))])
            .cte("zones")
        )
        query = query.outerjoin(table, table.c.zone == people_t.c.time_zone)
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
        rules.append(Rule("quiet_hours", quiet.is_not(True), defers=True))
    assert rules == sorted(rules, key=lambda r: r.defers), "a deferring rule comes last"
    return query, rules


def gate_select(
    session: Session, sending: Sending, audience: Audience
) -> Select[tuple[uuid.UUID, str | None]]:
    """SELECT person_id, reason FROM the audience; reason is NULL for an allowed message."""
    query, rules = _gate(session, sending, audience)
    # IS NOT TRUE: a rule whose condition is NULL keeps the person out, as in WHERE.
    reason = case(
        *((r.passes.is_not(true()), r.reason) for r in rules), else_=literal(None, String())
    )
    return query.add_columns(reason.label("reason"))


def eligible_select(
    session: Session,
    sending: Sending,
    audience: Audience,
    *,
    deferred: bool = False,
    people: tuple[uuid.UUID | None, uuid.UUID | None] = (None, None),
) -> Select[tuple[uuid.UUID]]:
    """SELECT person_id FROM the audience for the people the gate lets through: the rows of
    `gate_select` whose reason is NULL (or, with `deferred`, NULL or quiet_hours). `people`
    (after, up to): only the audience members whose id is in that range (a batch)."""
    query, rules = _gate(session, sending, audience, people=people, reasons=False)
    tested = [r for r in rules if not (deferred and r.defers)]
    conditions = [
        r.passes
        for r, after in zip(tested, [*tested[1:], None], strict=True)
        if not (r.implied_by_next and after is not None)
    ]
    return query.where(*conditions)


def reason_counts(session: Session, gate: Select[tuple[uuid.UUID, str | None]]) -> dict[str, int]:
    """How many audience members each reason keeps out; 'eligible' for those let through."""
    sub = gate.subquery()
    rows = session.execute(select(sub.c.reason, func.count()).group_by(sub.c.reason)).all()
    return {(reason or "eligible"): count for reason, count in rows}
