"""The gate's rules, each written once in its two forms side by side.

A rule is one small named condition, TRUE when it lets the person through:

- over one person's `Facts` (Python values): the per-message check a worker runs right before
  handing a message to a channel (`decide`; the facts of a batch come from `gate_facts`);
- over `FactColumns` (SQL expressions over an audience joined to the same facts, built by
  `gate_sql`): the set-based gate that resolves a whole audience in one statement.

`RULES` lists them in the order of `Reason`: the first rule that fails gives the reason. A
differential property test (tests/campaigns/test_gate_differential.py) feeds both forms random
worlds and asserts identical answers, and tests/campaigns/test_gate_boundaries.py pins each
edge with literal times and counts.

Fetching the facts is kept apart from the rules: `gate_facts` loads them for a list of people,
`gate_sql` joins them to an audience (how a fact is fetched may differ by backend or statement,
never the rule over it). To add a rule:

1. its reason in `Reason`, at its place in the order; a rule that defers (the message waits
   rather than being refused) comes after every rule that refuses, since a message that may
   never go is refused, not deferred;
2. any fact it reads as a field of both `Facts` and `FactColumns` (same name, same meaning),
   fetched in `gate_facts._statement` (and `NOBODY`) and joined in `gate_sql._facts`;
3. its two forms below and one `Rule(...)` line in `RULES`; in the differential test's
   world, the data that makes it fail.

A Python form must treat a missing fact (None) as the SQL form's NULL does: a condition that is
NULL in SQL fails, so in Python the same case must be False (or be kept out by an earlier rule).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from enum import StrEnum

from sqlalchemy import Integer, and_, bindparam, cast, func, or_, true
from sqlalchemy.sql.elements import ColumnElement

from accord.core.dates import zone_info
from accord.core.db import UTCDateTime
from accord.relationships.vocabulary import Channel, Purpose, State
from accord.terms import service as terms


class Reason(StrEnum):
    """Why the gate says no, in the order the rules are checked."""

    no_relationship = "no_relationship"
    paused = "paused"
    ended = "ended"
    no_marketing_consent = "no_marketing_consent"
    channel_not_chosen = "channel_not_chosen"
    topic_not_chosen = "topic_not_chosen"
    global_opt_out = "global_opt_out"
    no_contact_point = "no_contact_point"
    unverified = "unverified"
    suppressed = "suppressed"
    brand_cap = "brand_cap"
    global_cap = "global_cap"
    legal_frequency = "legal_frequency"
    terms = "terms"
    # Deferring rules last: the message waits until the rule passes.
    legal_window = "legal_window"
    quiet_hours = "quiet_hours"


REASONS = tuple(Reason)
INTERRUPTIVE = frozenset({Channel.sms, Channel.push})
ACCOUNT_CHANNELS = frozenset({Channel.inapp, Channel.webhook})
CAP_WINDOW = timedelta(days=7)

Condition = ColumnElement[bool]


@dataclass(frozen=True)
class Sending:
    """A message about to be sent, as the gate sees it: from which brand, for what purpose (the
    topic's, never the caller's say-so), about which topic, on which channel, at what moment."""

    brand_id: uuid.UUID
    purpose: Purpose
    topic_id: uuid.UUID
    channel: Channel
    at: datetime


@dataclass(frozen=True)
class Facts:
    """Everything the gate looks at for one person, one brand, one channel, at one moment."""

    relationship: State | None  # its state; None: no relationship with the brand
    paused_until: datetime | None  # a paused relationship's end of pause (None: indefinite)
    brand_cap: int  # marketing messages a week the person accepts from this brand
    global_paused_until: datetime | None  # the person paused all marketing until then
    do_not_contact: bool  # the person's global "no marketing"
    global_cap: int  # marketing messages a week the person accepts from all brands
    quiet_start: str | None  # "HH:MM" local
    quiet_end: str | None
    time_zone: str
    marketing_granted: bool
    channel_chosen: bool  # for this purpose, with this brand
    topic_chosen: bool
    has_contact_point: bool  # on this channel
    has_verified_point: bool
    has_usable_point: bool  # verified and not suppressed
    brand_sent: int  # marketing sent by this brand in the cap window
    global_sent: int  # marketing sent by any brand in the cap window
    terms_forbid: bool  # the person's terms in force with the brand forbid this purpose
    # The law where the person is (`accord.compliance`, the strictest rule wins): the local
    # window (start, end minutes) messages of this kind may go in, if any, and per frequency
    # limit of the sending (`LegalRules.limits`, in that order) its maximum there (None: no
    # such limit there) and the messages counted against it.
    legal_window: tuple[int, int] | None = None
    legal_limits: tuple[tuple[int | None, int], ...] = ()


@dataclass(frozen=True)
class FactColumns:
    """The same facts as SQL expressions over an audience joined to them (one row per person),
    built by `gate_sql`. Where SQLite has no time zones, the local minute of the moment of
    sending replaces the time zone. Facts that no rule of the sending reads (the marketing
    ones for a transactional message) are not joined: NULL."""

    relationship: ColumnElement[str]
    paused_until: ColumnElement[datetime]
    brand_cap: ColumnElement[int]
    global_paused_until: ColumnElement[datetime]
    do_not_contact: ColumnElement[bool]
    global_cap: ColumnElement[int]
    quiet_start: ColumnElement[str]
    quiet_end: ColumnElement[str]
    local_minute: ColumnElement[int]
    marketing_granted: Condition
    channel_chosen: Condition
    topic_chosen: Condition
    has_contact_point: Condition
    has_verified_point: Condition
    has_usable_point: Condition
    brand_sent: ColumnElement[int]
    global_sent: ColumnElement[int]
    terms_forbid: Condition
    # None when no legal window applies to the sending anywhere (nothing joined).
    legal_window: tuple[ColumnElement[int], ColumnElement[int]] | None = None
    legal_limits: tuple[tuple[ColumnElement[int], ColumnElement[int]], ...] = ()


@dataclass(frozen=True)
class Decision:
    reason: Reason | None
    defer_until: datetime | None = None

    @property
    def allowed(self) -> bool:
        return self.reason is None


def moment(sending: Sending) -> ColumnElement[datetime]:
    """The moment of sending as a bound parameter (one name, however many rules read it)."""
    return bindparam("gate_at", sending.at, type_=UTCDateTime())


def minutes(hhmm: str) -> int:
    return int(hhmm[:2]) * 60 + int(hhmm[3:5])


def minutes_sql(hhmm: ColumnElement[str]) -> ColumnElement[int]:
    return cast(func.substr(hhmm, 1, 2), Integer) * 60 + cast(func.substr(hhmm, 4, 2), Integer)


def local_minute(at: datetime, time_zone: str) -> int:
    local = at.astimezone(zone_info(time_zone))
    return local.hour * 60 + local.minute


# --- which sendings a rule applies to ---------------------------------------------------------


def every(sending: Sending) -> bool:
    return True


def marketing(sending: Sending) -> bool:
    return sending.purpose == Purpose.marketing


def interruptive(sending: Sending) -> bool:
    return sending.channel in INTERRUPTIVE


def terms_can_forbid(sending: Sending) -> bool:
    """Personal terms can forbid this purpose (transactional messages, never)."""
    return bool(terms.FORBIDDEN_BY.get(sending.purpose))


def addressed(sending: Sending) -> bool:
    """The channel needs an address of the person's (not the in-app inbox, nor the brand's own
    systems through a webhook: those reach the person through their Accord account)."""
    return sending.channel not in ACCOUNT_CHANNELS


# --- the rules, in the order of Reason; each TRUE when it lets the person through -------------


def related(f: Facts, s: Sending) -> bool:
    """A relationship with the brand, not only an invitation."""
    return f.relationship is not None and f.relationship != State.invited


def related_sql(f: FactColumns, s: Sending) -> Condition:
    return and_(f.relationship.is_not(None), f.relationship != State.invited)


def not_paused(f: Facts, s: Sending) -> bool:
    """Neither the relationship nor all of the person's marketing is paused at the moment."""
    relationship_paused = f.relationship == State.paused and (
        f.paused_until is None or f.paused_until > s.at
    )
    all_paused = f.global_paused_until is not None and f.global_paused_until > s.at
    return not (relationship_paused or all_paused)


def not_paused_sql(f: FactColumns, s: Sending) -> Condition:
    at = moment(s)
    return and_(
        or_(
            f.relationship != State.paused,
            and_(f.paused_until.is_not(None), f.paused_until <= at),
        ),
        or_(f.global_paused_until.is_(None), f.global_paused_until <= at),
    )


def not_ended(f: Facts, s: Sending) -> bool:
    return f.relationship != State.ended


def not_ended_sql(f: FactColumns, s: Sending) -> Condition:
    return f.relationship != State.ended


def marketing_granted(f: Facts, s: Sending) -> bool:
    return f.marketing_granted


def marketing_granted_sql(f: FactColumns, s: Sending) -> Condition:
    return f.marketing_granted


def channel_chosen(f: Facts, s: Sending) -> bool:
    return f.channel_chosen


def channel_chosen_sql(f: FactColumns, s: Sending) -> Condition:
    return f.channel_chosen


def topic_chosen(f: Facts, s: Sending) -> bool:
    return f.topic_chosen


def topic_chosen_sql(f: FactColumns, s: Sending) -> Condition:
    return f.topic_chosen


def contact_allowed(f: Facts, s: Sending) -> bool:
    return not f.do_not_contact


def contact_allowed_sql(f: FactColumns, s: Sending) -> Condition:
    return f.do_not_contact.is_not(True)


def has_contact_point(f: Facts, s: Sending) -> bool:
    return f.has_contact_point


def has_contact_point_sql(f: FactColumns, s: Sending) -> Condition:
    return f.has_contact_point


def has_verified_point(f: Facts, s: Sending) -> bool:
    return f.has_verified_point


def has_verified_point_sql(f: FactColumns, s: Sending) -> Condition:
    return f.has_verified_point


def has_usable_point(f: Facts, s: Sending) -> bool:
    return f.has_usable_point


def has_usable_point_sql(f: FactColumns, s: Sending) -> Condition:
    return f.has_usable_point


def under_brand_cap(f: Facts, s: Sending) -> bool:
    return f.brand_sent < f.brand_cap


def under_brand_cap_sql(f: FactColumns, s: Sending) -> Condition:
    return f.brand_sent < f.brand_cap


def under_global_cap(f: Facts, s: Sending) -> bool:
    return f.global_sent < f.global_cap


def under_global_cap_sql(f: FactColumns, s: Sending) -> Condition:
    return f.global_sent < f.global_cap


def terms_allow(f: Facts, s: Sending) -> bool:
    """Nothing the person's agreed terms forbid (the effects come from `terms.service`)."""
    return not f.terms_forbid


def terms_allow_sql(f: FactColumns, s: Sending) -> Condition:
    return f.terms_forbid.is_not(True)


def within_legal_limits(f: Facts, s: Sending) -> bool:
    """Under every frequency limit of the law where the person is (e.g. Florida: at most 3
    marketing texts on the same topic in 24 hours)."""
    return all(most is None or sent < most for most, sent in f.legal_limits)


def within_legal_limits_sql(f: FactColumns, s: Sending) -> Condition:
    return and_(true(), *(or_(most.is_(None), sent < most) for most, sent in f.legal_limits))


def inside_legal_window(f: Facts, s: Sending) -> bool:
    """Inside the hours the law where the person is allows, local time (the TCPA's 08:00-21:00,
    Florida's 08:00-20:00, ...; `accord.compliance`)."""
    if f.legal_window is None:
        return True
    start, end = f.legal_window
    return start <= local_minute(s.at, f.time_zone) < end


def inside_legal_window_sql(f: FactColumns, s: Sending) -> Condition:
    if f.legal_window is None:
        return true()
    start, end = f.legal_window
    minute = f.local_minute
    return or_(start.is_(None), and_(minute >= start, minute < end))


def outside_quiet_hours(f: Facts, s: Sending) -> bool:
    """Not inside the person's quiet hours, local time."""
    minute = local_minute(s.at, f.time_zone)
    if f.quiet_start is None or f.quiet_end is None:
        return True
    start, end = minutes(f.quiet_start), minutes(f.quiet_end)
    quiet = start <= minute < end if start < end else (minute >= start or minute < end)
    return not quiet


def outside_quiet_hours_sql(f: FactColumns, s: Sending) -> Condition:
    minute, start, end = f.local_minute, minutes_sql(f.quiet_start), minutes_sql(f.quiet_end)
    quiet = and_(
        f.quiet_start.is_not(None),
        or_(
            and_(start < end, minute >= start, minute < end),
            and_(start > end, or_(minute >= start, minute < end)),
        ),
    )
    return quiet.is_not(True)


@dataclass(frozen=True)
class Rule:
    """One of the gate's rules: for the sendings it `applies` to, `passes` over one person's
    facts and `passes_sql` over an audience's are TRUE exactly when it lets the person through."""

    reason: Reason
    applies: Callable[[Sending], bool]
    passes: Callable[[Facts, Sending], bool]
    passes_sql: Callable[[FactColumns, Sending], Condition]
    # The next rule passes only if this one does, so the eligible SQL form need not test it.
    implied_by_next: bool = False
    # Failing it defers the message to the first minute it passes rather than refusing it.
    defers: bool = False


RULES = (
    Rule(Reason.no_relationship, every, related, related_sql),
    Rule(Reason.paused, marketing, not_paused, not_paused_sql),
    Rule(Reason.ended, every, not_ended, not_ended_sql),
    Rule(Reason.no_marketing_consent, marketing, marketing_granted, marketing_granted_sql),
    Rule(Reason.channel_not_chosen, every, channel_chosen, channel_chosen_sql),
    Rule(Reason.topic_not_chosen, marketing, topic_chosen, topic_chosen_sql),
    Rule(Reason.global_opt_out, marketing, contact_allowed, contact_allowed_sql),
    Rule(
        Reason.no_contact_point,
        addressed,
        has_contact_point,
        has_contact_point_sql,
        implied_by_next=True,
    ),
    Rule(
        Reason.unverified,
        addressed,
        has_verified_point,
        has_verified_point_sql,
        implied_by_next=True,
    ),
    Rule(Reason.suppressed, addressed, has_usable_point, has_usable_point_sql),
    Rule(Reason.brand_cap, marketing, under_brand_cap, under_brand_cap_sql),
    Rule(Reason.global_cap, marketing, under_global_cap, under_global_cap_sql),
    Rule(Reason.legal_frequency, every, within_legal_limits, within_legal_limits_sql),
    Rule(Reason.terms, terms_can_forbid, terms_allow, terms_allow_sql),
    Rule(Reason.legal_window, every, inside_legal_window, inside_legal_window_sql, defers=True),
    Rule(
        Reason.quiet_hours, interruptive, outside_quiet_hours, outside_quiet_hours_sql, defers=True
    ),
)
# The reasons that defer a message (it waits) rather than keep the person out.
DEFERRING = frozenset(rule.reason for rule in RULES if rule.defers)


def rules_for(sending: Sending) -> list[Rule]:
    """The rules that apply to this sending, in order."""
    return [rule for rule in RULES if rule.applies(sending)]


def decide(facts: Facts, sending: Sending) -> Decision:
    """The first rule that does not let the person through, or none: the message may go."""
    for rule in rules_for(sending):
        if not rule.passes(facts, sending):
            until = passes_again(rule, facts, sending) if rule.defers else None
            return Decision(rule.reason, until)
    return Decision(None)


# Minutes to look ahead for the end of a deferral: quiet periods are shorter than a day, and a
# DST shift is an hour or two.
LOOKAHEAD = 2 * 24 * 60


def passes_again(rule: Rule, facts: Facts, sending: Sending) -> datetime:
    """The first minute after the moment of sending at which a deferring rule passes."""
    start = sending.at.replace(second=0, microsecond=0)
    later = (start + timedelta(minutes=n) for n in range(1, LOOKAHEAD + 1))
    found = (at for at in later if rule.passes(facts, replace(sending, at=at)))
    return next(found, start + timedelta(minutes=LOOKAHEAD))


def check_order(rules: tuple[Rule, ...] = RULES) -> None:
    """The rules follow `Reason`'s order, one per reason, deferring ones last."""
    reasons = [rule.reason for rule in rules]
    if reasons != sorted(reasons, key=list(Reason).index) or len(set(reasons)) != len(reasons):
        raise ValueError(f"the gate's rules are not in the order of Reason: {reasons}")
    if [r.defers for r in rules] != sorted(r.defers for r in rules):
        raise ValueError("a deferring rule comes after every rule that refuses")


check_order()
