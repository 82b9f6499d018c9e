"""The gate as set-based SQL over a whole audience: no Python loop per person.

The rules are `gate_rules.RULES`, each a condition over `FactColumns` that is TRUE when it lets
a person through. This module only fetches those facts (`_facts`: the audience joined to every
fact the rules read, one row per member) and makes two statements from the rules:

- `gate_select`, every audience member with their reason (NULL when allowed): a CASE giving the
  first rule that does not pass. Previews and reports count it (`reason_counts`).
- `eligible_select`, only the people the gate lets through (optionally also those it defers to
  the end of their quiet hours): the conjunction of the rules in WHERE, which the planners turn
  into joins and semi-joins on the facts' keys. Resolving an audience for sending uses it.

FALSE and NULL both keep the person out, in both statements. The choice tables (grant,
channel, topic) are joined on their full primary key, so each adds at most one row per person.
Where the best plan differs by backend or by statement, only how a fact is fetched differs
(contact points, sent counts and the legal limits' counts: EXISTS and correlated counts, or
aggregated once and joined; and the order the facts are joined in), never the rule over it;
the differential test runs both statements on both backends. The only per-value work in Python
is one local minute per distinct time zone (SQLite has no time zone data).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from functools import lru_cache, partial
from typing import Any

from sqlalchemy import (
    Integer,
    Select,
    String,
    and_,
    bindparam,
    case,
    column,
    exists,
    func,
    literal,
    null,
    select,
    true,
    values,
)
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement

from accord.campaigns.gate_legal import LegalRules, legal_rules
from accord.campaigns.gate_rules import (
    CAP_WINDOW,
    INTERRUPTIVE,
    Condition,
    FactColumns,
    Rule,
    Sending,
    local_minute,
    rules_for,
)
from accord.compliance import service as compliance
from accord.core.db import UTCDateTime, unindexed
from accord.core.direct import Direct
from accord.core.read_memo import remembered
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
from accord.relationships.vocabulary import GrantStatus, Purpose
from accord.terms import service as terms


@dataclass(frozen=True)
class Related:
    """An audience of the brand's relationships: those whose row meets the conditions `where`
    gives on a relationships table's columns. The gate then reads each relationship once, as
    the audience and as the fact its rules look at (not a second time, joined by key)."""

    where: Callable[[Any], list[ColumnElement[bool]]]


Audience = Select[uuid.UUID] | Related
People = tuple[uuid.UUID | None, uuid.UUID | None]

# Core tables, not ORM entities: the statement runs (and its rows come back) without the ORM's
# per-row work.
PEOPLE = Person.__table__
OUTBOX = OutboxMessage.__table__.c
CONTACT_POINTS = ContactPoint.__table__.c
NOT_JOINED: ColumnElement[Any] = null()  # a fact no rule of this sending reads
# The tables the audience is joined to, aliased once (an alias copies every column; built per
# statement it was most of the time a preview took). A statement uses each of them once.
RELATIONSHIP = Relationship.__table__.alias("relationship")
PREFERENCES = GlobalPreferences.__table__.alias("preferences")
CHANNEL_CHOICE = ChannelChoice.__table__.alias("channel_choice")
MARKETING_GRANT = PurposeGrant.__table__.alias("marketing_grant")
TOPIC_CHOICE = TopicChoice.__table__.alias("topic_choice")


# Built once and run on the cursor: a campaign's page reads it on every view.
_ZONES = Direct(select(Person.time_zone).distinct())


def zones_in_use(session: Session) -> list[str]:
    """The time zones people have (once a request: a campaign's page reads them for its start
    time and for its preview's gate)."""
    return list(
        remembered(
            session,
            ("zones_in_use",),
            lambda: [row.time_zone for row in _ZONES.all(session)],
        )
    )


def clock_zones(session: Session) -> list[str]:
    """The zones a gate that reads the local time joins (UTC alone when nobody has one)."""
    return zones_in_use(session) or ["UTC"]


def _zone_minute(sending: Sending, i: int) -> str:
    return f"zone_minute_{sending.channel.value}_{i}"


def moment_values(sending: Sending, legal: LegalRules, zones: list[str]) -> dict[str, Any]:
    """The bound parameters a gate statement takes from its moment of sending, by name: the
    moment, the starts of the cap and legal windows, each zone's local minute (`zones` as
    `clock_zones` gave them when it was built). A statement built for one moment runs for
    another with these (`gate_prepared`); a name it does not have is not in it."""
    at = sending.at
    found: dict[str, Any] = {"gate_at": at, "gate_since": at - CAP_WINDOW}
    for i, (hours, _) in enumerate(legal.limits):
        found[f"legal_since_{i}"] = at - timedelta(hours=hours)
    for i, zone in enumerate(zones):
        found[_zone_minute(sending, i)] = local_minute(at, zone)
    return found


def _facts(
    session: Session,
    sending: Sending,
    audience: Audience,
    people: People,
    reasons: bool,
    clock: bool = True,
) -> tuple[Select[uuid.UUID], FactColumns]:
    """The audience joined to every fact the rules of `sending` read (one row per member), and
    those facts as columns. `reasons`: for every member's reason (a CASE over the rules), not
    only the eligible (the rules in WHERE). `people` (after, up to) narrows the audience to a
    range of person ids, stated on every table read so each is read by that range of its
    person index (a batch reads its own slice of each table, not all of it). `clock`: the
    person's local time is read (the rules that defer by it are tested); without it no zone
    table is built (no scan of the time zones in use) and nothing is joined for it."""
    sqlite = session.get_bind().dialect.name == "sqlite"
    marketing = sending.purpose == Purpose.marketing
    interruptive = sending.channel in INTERRUPTIVE
    after, upto = people

    def span(column: Any) -> list[ColumnElement[bool]]:
        return [
            *([] if after is None else [column > after]),
            *([] if upto is None else [column <= upto]),
        ]

    relationship_t = RELATIONSHIP
    relationship = relationship_t.c
    if isinstance(audience, Related):
        person = relationship.person_id
        query = (
            select(person.label("person_id"))
            .select_from(relationship_t)
            .where(
                *audience.where(relationship),
                relationship.brand_id == sending.brand_id,
                *span(person),
            )
        )
    else:
        members = audience.subquery("audience")
        person = members.c[0]
        query = select(person.label("person_id")).select_from(members).where(*span(person))
    legal = legal_rules(session, sending)
    if not isinstance(audience, Related):
        query = query.outerjoin(
            relationship_t,
            and_(
                relationship.person_id == person,
                relationship.brand_id == sending.brand_id,
                *span(relationship.person_id),
            ),
        )
    preferences_t = PREFERENCES
    preferences = preferences_t.c
    query = query.outerjoin(
        preferences_t, and_(preferences.person_id == person, *span(preferences.person_id))
    )

    # The choice tables, each on its whole primary key: at most one row per person.
    channel_choice_t = CHANNEL_CHOICE
    channel_choice = channel_choice_t.c
    query = query.outerjoin(
        channel_choice_t,
        and_(
            channel_choice.person_id == person,
            channel_choice.brand_id == sending.brand_id,
            channel_choice.purpose == sending.purpose,
            channel_choice.channel == sending.channel,
            *span(channel_choice.person_id),
        ),
    )
    # The person, as the last choice table joined has them: a sub-query correlated to it runs
    # only once the choices are known to pass (SQLite tests a condition as soon as the tables
    # it names are joined, so correlated to the audience it would probe for everyone first).
    # Where the choice is missing, an earlier rule already fails, so the answer is the same.
    chosen = channel_choice.person_id
    marketing_granted = topic_chosen = NOT_JOINED
    brand_sent = global_sent = NOT_JOINED
    if marketing:
        grant_t = MARKETING_GRANT
        grant = grant_t.c
        topic_choice_t = TOPIC_CHOICE
        topic_choice = topic_choice_t.c
        query = query.outerjoin(
            grant_t,
            and_(
                grant.person_id == person,
                grant.brand_id == sending.brand_id,
                grant.purpose == Purpose.marketing,
                grant.status == GrantStatus.granted,
                *span(grant.person_id),
            ),
        ).outerjoin(
            topic_choice_t,
            and_(
                topic_choice.person_id == person,
                topic_choice.topic_id == sending.topic_id,
                *span(topic_choice.person_id),
            ),
        )
        marketing_granted = grant.person_id.is_not(None)
        topic_chosen = topic_choice.person_id.is_not(None)
        chosen = topic_choice.person_id

    # PostgreSQL orders at most eight joined tables freely (join_collapse_limit; an EXISTS
    # made a semi-join counts as one) and keeps the written order past them. What narrows an
    # audience most must be among them: a text's, the channel chosen and a usable number (few
    # people have both). So an eligible text's audience joins seven tables and its contact
    # points' EXISTS, no more: the law's facts by place are CASEs over the person's row
    # (`_at_place`) and the messages counted against its limits are correlated counts.
    any_point, verified_point, usable_point, query = _contact_points(
        query, sending, person, chosen, span, aggregated=reasons and not sqlite
    )
    if marketing:
        query, brand_sent, global_sent = _sent(query, sending, person, chosen, span, sqlite)
    if reasons or interruptive or legal.applies:
        # (Without it, a person missing from people has no relationship either: foreign key.)
        query = query.join(PEOPLE, and_(PEOPLE.c.id == person, *span(PEOPLE.c.id)))
    query, legal_window, legal_limits = _legal(
        query, sending, legal, person, chosen, span, tallied=reasons and not sqlite
    )
    minute = NOT_JOINED
    if clock and (interruptive or legal.has_window):
        # A CTE, not a VALUES join: SQLite cannot alias the columns of a VALUES in FROM. Named
        # by channel: a several-channel campaign puts one gate per channel in one statement.
        # Each local minute is a named parameter: a statement kept for other moments
        # (`gate_prepared`) is given new ones (`moment_values`).
        name = f"zones_{sending.channel.value}"
        rows = [
            (zone, bindparam(_zone_minute(sending, i), local_minute(sending.at, zone), Integer()))
            for i, zone in enumerate(clock_zones(session))
        ]
        table = (
            values(column("zone", String()), column("minute", Integer()), name=name)
            .data(rows)
            .cte(name)
        )
        query = query.outerjoin(table, table.c.zone == PEOPLE.c.time_zone)
        minute = table.c.minute
    return query, FactColumns(
        relationship=relationship.state,
        paused_until=relationship.paused_until,
        brand_cap=relationship.brand_cap,
        global_paused_until=preferences.paused_until,
        do_not_contact=preferences.do_not_contact,
        global_cap=func.coalesce(preferences.global_cap, DEFAULT_GLOBAL_CAP),
        quiet_start=preferences.quiet_start,
        quiet_end=preferences.quiet_end,
        local_minute=minute,
        marketing_granted=marketing_granted,
        channel_chosen=channel_choice.person_id.is_not(None),
        topic_chosen=topic_chosen,
        has_contact_point=any_point,
        has_verified_point=verified_point,
        has_usable_point=usable_point,
        brand_sent=brand_sent,
        global_sent=global_sent,
        # Correlated to the last choice table, as contact points are: probed only for people
        # the earlier rules let through (where it is NULL an earlier rule fails already).
        terms_forbid=_terms_forbid(sending.purpose, chosen, sending.brand_id),
        legal_window=legal_window,
        legal_limits=legal_limits,
    )


@lru_cache(maxsize=256)
def _terms_forbid(purpose: str, chosen: Any, brand_id: uuid.UUID) -> ColumnElement[bool]:
    """`terms.forbids`, built once per purpose, brand and correlating column (one of the
    module's aliases): a large tree, a sixth of a campaign page's preview to build, and the
    same every time (an expression is immutable, so statements may share it)."""
    return terms.forbids(purpose, chosen, brand_id)


Span = Callable[[Any], list[ColumnElement[bool]]]
Number = ColumnElement[int]


def _sent(
    query: Select[uuid.UUID],
    sending: Sending,
    person: Any,
    chosen: Any,
    span: Span,
    sqlite: bool,
) -> tuple[Select[uuid.UUID], ColumnElement[int], ColumnElement[int]]:
    """Marketing sent to each person in the cap window: by this brand, and by any."""
    since = bindparam("gate_since", sending.at - CAP_WINDOW, type_=UTCDateTime())
    # Handed over in the window (sent, or since delivered or undelivered): its sent_at.
    window = (OUTBOX.purpose == Purpose.marketing, OUTBOX.sent_at > since)
    if sqlite:
        # Each person's counts through the (person, purpose, sent_at) index, and only for those
        # the earlier rules let through (correlated to `chosen`): SQLite indexes no aggregate
        # joined to a range. Not by the (state, not_before) index: SQLite (no statistics) would
        # walk every sent message through it, not the person index.
        def count(*conditions: ColumnElement[bool]) -> ColumnElement[int]:
            where = (OUTBOX.person_id == chosen, *window, *conditions)
            return select(func.count()).where(*where).scalar_subquery()

        return query, count(OUTBOX.brand_id == sending.brand_id), count()
    # Counted once per person (of the range), hashed and joined.
    sent = (
        select(
            OUTBOX.person_id.label("pid"),
            func.sum(case((OUTBOX.brand_id == sending.brand_id, 1), else_=0)).label("brand_n"),
            func.count().label("global_n"),
        )
        .where(*span(OUTBOX.person_id), *window)
        .group_by(OUTBOX.person_id)
        .subquery("sent")
    )
    query = query.outerjoin(sent, sent.c.pid == person)
    return query, func.coalesce(sent.c.brand_n, 0), func.coalesce(sent.c.global_n, 0)


def _legal(
    query: Select[uuid.UUID],
    sending: Sending,
    legal: LegalRules,
    person: Any,
    chosen: Any,
    span: Span,
    tallied: bool,
) -> tuple[
    Select[uuid.UUID],
    tuple[ColumnElement[int], ColumnElement[int]] | None,
    tuple[tuple[ColumnElement[int], ColumnElement[int]], ...],
]:
    """The law where each person is: the strictest window and the maxima of the frequency
    limits at their place (`_at_place`), and the messages counted against each limit:
    `tallied` (every member's reason, on PostgreSQL), counted once per person and joined;
    otherwise counted for each person still in (correlated to `chosen`), few of whom reach the
    rule, through the (person, purpose, sent_at) index, with no join."""
    if not legal.applies:
        return query, None, ()
    window = None
    if legal.has_window:
        window = (
            _at_place(legal, lambda fold: (fold.window or (None, None))[0]),
            _at_place(legal, lambda fold: (fold.window or (None, None))[1]),
        )
    limits = []
    for i, (hours, per) in enumerate(legal.limits):
        since = bindparam(f"legal_since_{i}", sending.at - timedelta(hours=hours), UTCDateTime())
        counted = [
            OUTBOX.brand_id == sending.brand_id,
            unindexed(OUTBOX.channel) == sending.channel,
            OUTBOX.purpose == sending.purpose,
            OUTBOX.sent_at > since,
            *([OUTBOX.topic_id == sending.topic_id] if per == "topic" else []),
        ]
        if not tallied:
            sent: ColumnElement[int] = (
                select(func.count()).where(OUTBOX.person_id == chosen, *counted).scalar_subquery()
            )
        else:
            tally = (
                select(OUTBOX.person_id.label("pid"), func.count().label("n"))
                .where(*span(OUTBOX.person_id), *counted)
                .group_by(OUTBOX.person_id)
                .subquery(f"legal_sent_{i}")
            )
            query = query.outerjoin(tally, tally.c.pid == person)
            sent = func.coalesce(tally.c.n, 0)
        limits.append((_at_place(legal, partial(_maximum, legal, i)), sent))
    return query, window, tuple(limits)


def _at_place(legal: LegalRules, value: Callable[[compliance.Fold], int | None]) -> Number:
    """`value` of the fold at each person's place, picked as `LegalRules.fold_at` picks it: their
    state's, else their country's, else everywhere's (a place's fold already holds its
    country's and everywhere's rules). A CASE over the person's country and state, the places
    of one value in one list; not a table joined on them, as it was: PostgreSQL orders at most
    eight joined tables freely (join_collapse_limit), and a text's audience joins seven besides
    its contact points, which must come early."""
    country, state = PEOPLE.c.place_country, PEOPLE.c.place_subdivision
    states: dict[tuple[int | None, str], list[str]] = {}
    countries: dict[int | None, list[str]] = {}
    for (code, subdivision), fold in sorted(legal.folds.items()):
        if subdivision:
            states.setdefault((value(fold), code), []).append(subdivision)
        else:
            countries.setdefault(value(fold), []).append(code)
    whens = [
        (and_(country == code, state.in_(names)), _number(found))
        for (found, code), names in states.items()
    ]
    whens += [(country.in_(codes), _number(found)) for found, codes in countries.items()]
    world = _number(value(legal.world))
    return case(*whens, else_=world) if whens else world


def _maximum(legal: LegalRules, i: int, fold: compliance.Fold) -> int | None:
    return legal.maxima(fold)[i]


def _number(value: int | None) -> Number:
    return literal(value, Integer())


def _contact_points(
    query: Select[uuid.UUID],
    sending: Sending,
    person: Any,
    chosen: Any,
    span: Span,
    aggregated: bool,
) -> tuple[Condition, Condition, Condition, Select[uuid.UUID]]:
    """Whether the person has a contact point on the channel, a verified one, a usable one."""
    points = CONTACT_POINTS
    verified = points.verified_at.is_not(None)
    usable = and_(verified, points.suppressed_reason.is_(None))
    if aggregated:
        # Every member's reason on PostgreSQL: contact points counted once per person and
        # hash-joined. As EXISTS each is a sub-plan, which PostgreSQL costs so high that it
        # compiles the statement (JIT) for longer than the statement then runs. (The eligible
        # form keeps EXISTS, a semi-join PostgreSQL places freely among at most eight tables:
        # joined as counts, a late nested loop over them took minutes at a million people.)
        counts = (
            select(
                points.person_id.label("pid"),
                func.count().label("total"),
                func.count(case((verified, 1))).label("verified"),
                func.count(case((usable, 1))).label("usable"),
            )
            .where(points.channel == sending.channel, *span(points.person_id))
            .group_by(points.person_id)
            .subquery("contacts")
        )
        query = query.outerjoin(counts, counts.c.pid == person)
        return counts.c.total.is_not(None), counts.c.verified > 0, counts.c.usable > 0, query

    def point(*conditions: ColumnElement[bool]) -> Condition:
        return exists().where(
            points.person_id == chosen,
            *span(points.person_id),
            points.channel == sending.channel,
            *conditions,
        )

    return point(), point(verified), point(usable), query


def _gate(
    session: Session,
    sending: Sending,
    audience: Audience,
    people: People,
    reasons: bool,
    clock: bool = True,
) -> tuple[Select[uuid.UUID], list[tuple[Rule, Condition]]]:
    """The audience joined to the facts, and each rule of the sending with its condition."""
    query, facts = _facts(session, sending, audience, people, reasons, clock)
    return query, [(rule, rule.passes_sql(facts, sending)) for rule in rules_for(sending)]


def gate_select(
    session: Session, sending: Sending, audience: Audience
) -> Select[uuid.UUID, str | None]:
    """SELECT person_id, reason FROM the audience; reason is NULL for an allowed message."""
    query, rules = _gate(session, sending, audience, (None, None), reasons=True)
    # IS NOT TRUE: a rule whose condition is NULL keeps the person out, as in WHERE.
    reason = case(
        *((passes.is_not(true()), rule.reason.value) for rule, passes in rules),
        else_=literal(None, String()),
    )
    return query.add_columns(reason.label("reason"))


def eligible_select(
    session: Session,
    sending: Sending,
    audience: Audience,
    *,
    deferred: bool = False,
    people: People = (None, None),
) -> Select[uuid.UUID]:
    """SELECT person_id FROM the audience for the people the gate lets through: the rows of
    `gate_select` whose reason is NULL (or, with `deferred`, NULL or a deferring reason such as
    quiet_hours). `people` (after, up to): only the audience members whose id is in that range
    (a batch)."""
    # With `deferred`, the rules that defer by local time are not tested: no clock is read.
    query, rules = _gate(session, sending, audience, people, reasons=False, clock=not deferred)
    tested = [(rule, passes) for rule, passes in rules if not (deferred and rule.defers)]
    # A rule the next one implies need not be tested (the last one always is).
    needed = [
        passes
        for (rule, passes), following in zip(tested, [*tested[1:], None], strict=True)
        if not (rule.implied_by_next and following is not None)
    ]
    return query.where(*needed)


def reason_counts(session: Session, gate: Select[uuid.UUID, str | None]) -> dict[str, int]:
    """How many audience members each reason keeps out; 'eligible' for those let through."""
    sub = gate.subquery()
    rows = session.execute(select(sub.c.reason, func.count()).group_by(sub.c.reason)).all()
    return {(reason or "eligible"): count for reason, count in rows}
