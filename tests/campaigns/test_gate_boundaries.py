"""The gate's edges, pinned with literal times and counts: each case names one person's facts, the
moment and channel of sending, and the reason code both forms of the gate must give (the SQL
gate over a one-person audience and the per-message check), as a literal. Times are UTC
literals; the comment beside each gives the person's local time."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from accord.brands.models import Brand
from accord.campaigns.gate_facts import load_facts
from accord.campaigns.gate_rules import Decision, Sending, decide
from accord.campaigns.gate_sql import eligible_select, gate_select
from accord.outbox.models import OutboxMessage
from accord.people.models import ContactPoint, Person
from accord.relationships.models import (
    ChannelChoice,
    GlobalPreferences,
    PurposeGrant,
    Relationship,
    Topic,
    TopicChoice,
)
from accord.relationships.vocabulary import Channel, Purpose
from tests.builders import make_brand, make_topic


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


@dataclass(frozen=True)
class Recipient:
    """One person who passes every rule for a marketing message on any channel, but for what a
    case changes."""

    zone: str = "UTC"
    state: str = "active"
    paused_until: datetime | None = None
    brand_cap: int = 3
    global_cap: int = 10
    global_paused_until: datetime | None = None
    quiet: tuple[str, str] | None = None
    # (channel, verified, suppressed) per contact point.
    points: tuple[tuple[str, bool, bool], ...] = (
        ("email", True, False),
        ("sms", True, False),
        ("push", True, False),
    )
    sent_here: tuple[datetime, ...] = ()  # marketing sent by this brand
    sent_elsewhere: tuple[datetime, ...] = ()  # marketing sent by another brand


def add_recipient(
    session: Session,
    *,
    brand: Brand,
    topic: Topic,
    other: Brand,
    other_topic: Topic,
    who: Recipient,
) -> uuid.UUID:
    person = Person(email=f"edge-{uuid.uuid4().hex[:12]}@edges.example", time_zone=who.zone)
    session.add(person)
    session.flush()
    pid = person.id
    session.add(
        Relationship(
            person_id=pid,
            brand_id=brand.id,
            state=who.state,
            origin="follow",
            paused_until=who.paused_until,
            brand_cap=who.brand_cap,
            shared={},
        )
    )
    session.add(
        PurposeGrant(person_id=pid, brand_id=brand.id, purpose="marketing", status="granted")
    )
    for channel in Channel:
        for purpose in ("marketing", "transactional"):
            session.add(
                ChannelChoice(person_id=pid, brand_id=brand.id, purpose=purpose, channel=channel)
            )
    session.add(TopicChoice(person_id=pid, brand_id=brand.id, topic_id=topic.id))
    session.add(
        GlobalPreferences(
            person_id=pid,
            quiet_start=who.quiet[0] if who.quiet else None,
            quiet_end=who.quiet[1] if who.quiet else None,
            global_cap=who.global_cap,
            do_not_contact=False,
            paused_until=who.global_paused_until,
        )
    )
    for i, (on, verified, suppressed) in enumerate(who.points):
        address = f"{on}-{i}-{pid.hex}"
        session.add(
            ContactPoint(
                person_id=pid,
                channel=on,
                address=address,
                address_normalised=address,
                verified_at=utc("2026-01-01T00:00") if verified else None,
                suppressed_reason="hard_bounce" if suppressed else None,
            )
        )
    for (sender, about), times in (
        ((brand, topic), who.sent_here),
        ((other, other_topic), who.sent_elsewhere),
    ):
        for sent_at in times:
            session.add(
                OutboxMessage(
                    brand_id=sender.id,
                    person_id=pid,
                    topic_id=about.id,
                    channel="email",
                    purpose="marketing",
                    idempotency_key=f"edge-{uuid.uuid4().hex}",
                    state="sent",
                    sent_at=sent_at,
                )
            )
    session.flush()
    return pid


def both_gates(
    session: Session, who: Recipient, channel: str, at: datetime, purpose: str = "marketing"
) -> tuple[str | None, Decision]:
    """The reason from the SQL gate, and the per-message decision, for one person."""
    brand, other = make_brand(session), make_brand(session)
    topic = make_topic(session, brand=brand, purpose=purpose)
    other_topic = make_topic(session, brand=other)
    pid = add_recipient(
        session, brand=brand, topic=topic, other=other, other_topic=other_topic, who=who
    )
    sending = Sending(brand.id, Purpose(purpose), topic.id, Channel(channel), at)
    audience = select(Person.id).where(Person.id == pid)
    [row] = session.execute(gate_select(session, sending, audience)).all()
    eligible = set(session.scalars(eligible_select(session, sending, audience)))
    assert eligible == ({pid} if row.reason is None else set()), "eligible form disagrees"
    decision = decide(load_facts(session, sending, [pid])[pid], sending)
    return row.reason, decision


def expect(session: Session, who: Recipient, channel: str, at: str, reason: str | None) -> None:
    from_sql, decision = both_gates(session, who, channel, utc(at))
    assert (from_sql, decision.reason) == (reason, reason)


# --- the SMS window (compliance rules: everywhere, US federal): 08:00 to 21:00 local -----------

SMS_WINDOW = [
    # (zone, UTC moment, expected reason)   local time
    ("UTC", "2026-06-10T07:59", "legal_window"),  # 07:59
    ("UTC", "2026-06-10T08:00", None),  # 08:00
    ("UTC", "2026-06-10T20:59", None),  # 20:59
    ("UTC", "2026-06-10T21:00", "legal_window"),  # 21:00
    # New York, the day before clocks go forward (EST, UTC-5) and the day after (EDT, UTC-4).
    ("America/New_York", "2026-03-07T12:59", "legal_window"),  # Sat 07:59 EST
    ("America/New_York", "2026-03-07T13:00", None),  # Sat 08:00 EST
    ("America/New_York", "2026-03-08T01:59", None),  # Sat 20:59 EST
    ("America/New_York", "2026-03-08T02:00", "legal_window"),  # Sat 21:00 EST
    ("America/New_York", "2026-03-08T11:59", "legal_window"),  # Sun 07:59 EDT
    ("America/New_York", "2026-03-08T12:00", None),  # Sun 08:00 EDT
    ("America/New_York", "2026-03-08T12:30", None),  # Sun 08:30 EDT (Sat: 07:30 EST)
    ("America/New_York", "2026-03-09T00:59", None),  # Sun 20:59 EDT
    ("America/New_York", "2026-03-09T01:00", "legal_window"),  # Sun 21:00 EDT
    # New York, clocks go back on Sunday 1 November 2026.
    ("America/New_York", "2026-10-31T11:59", "legal_window"),  # Sat 07:59 EDT
    ("America/New_York", "2026-10-31T12:00", None),  # Sat 08:00 EDT
    ("America/New_York", "2026-11-01T00:59", None),  # Sat 20:59 EDT
    ("America/New_York", "2026-11-01T01:00", "legal_window"),  # Sat 21:00 EDT
    ("America/New_York", "2026-11-01T12:00", "legal_window"),  # Sun 07:00 EST
    ("America/New_York", "2026-11-01T12:59", "legal_window"),  # Sun 07:59 EST
    ("America/New_York", "2026-11-01T13:00", None),  # Sun 08:00 EST
    ("America/New_York", "2026-11-02T01:59", None),  # Sun 20:59 EST
    ("America/New_York", "2026-11-02T02:00", "legal_window"),  # Sun 21:00 EST
    # Berlin, clocks go forward on Sunday 29 March 2026 (CET, UTC+1, to CEST, UTC+2).
    ("Europe/Berlin", "2026-03-28T06:59", "legal_window"),  # Sat 07:59 CET
    ("Europe/Berlin", "2026-03-28T07:00", None),  # Sat 08:00 CET
    ("Europe/Berlin", "2026-03-28T19:59", None),  # Sat 20:59 CET
    ("Europe/Berlin", "2026-03-28T20:00", "legal_window"),  # Sat 21:00 CET
    ("Europe/Berlin", "2026-03-29T05:59", "legal_window"),  # Sun 07:59 CEST
    ("Europe/Berlin", "2026-03-29T06:00", None),  # Sun 08:00 CEST
    ("Europe/Berlin", "2026-03-29T18:59", None),  # Sun 20:59 CEST
    ("Europe/Berlin", "2026-03-29T19:00", "legal_window"),  # Sun 21:00 CEST
    # Berlin, clocks go back on Sunday 25 October 2026.
    ("Europe/Berlin", "2026-10-24T05:59", "legal_window"),  # Sat 07:59 CEST
    ("Europe/Berlin", "2026-10-24T06:00", None),  # Sat 08:00 CEST
    ("Europe/Berlin", "2026-10-24T19:00", "legal_window"),  # Sat 21:00 CEST
    ("Europe/Berlin", "2026-10-25T06:00", "legal_window"),  # Sun 07:00 CET
    ("Europe/Berlin", "2026-10-25T06:59", "legal_window"),  # Sun 07:59 CET
    ("Europe/Berlin", "2026-10-25T07:00", None),  # Sun 08:00 CET
    ("Europe/Berlin", "2026-10-25T19:59", None),  # Sun 20:59 CET
    ("Europe/Berlin", "2026-10-25T20:00", "legal_window"),  # Sun 21:00 CET
]


@pytest.mark.parametrize(("zone", "at", "reason"), SMS_WINDOW)
def test_sms_window(session: Session, zone: str, at: str, reason: str | None) -> None:
    expect(session, Recipient(zone=zone), "sms", at, reason)


@pytest.mark.parametrize(("zone", "at"), [("UTC", "2026-06-10T21:00"), ("UTC", "2026-06-10T07:59")])
def test_the_sms_window_holds_no_other_channel(session: Session, zone: str, at: str) -> None:
    expect(session, Recipient(zone=zone), "push", at, None)
    expect(session, Recipient(zone=zone), "email", at, None)


SMS_DEFERRED = [
    # (zone, UTC moment, deferred until, UTC)   local: sent -> until
    ("UTC", "2026-06-10T21:00", "2026-06-11T08:00"),  # 21:00 -> 08:00 next day
    ("UTC", "2026-06-10T07:59", "2026-06-10T08:00"),  # 07:59 -> 08:00
    ("America/New_York", "2026-03-08T02:30", "2026-03-08T12:00"),  # Sat 21:30 EST -> 08:00 EDT
    ("America/New_York", "2026-11-01T02:00", "2026-11-01T13:00"),  # Sat 22:00 EDT -> 08:00 EST
    ("Europe/Berlin", "2026-03-28T21:00", "2026-03-29T06:00"),  # Sat 22:00 CET -> 08:00 CEST
    ("Europe/Berlin", "2026-10-24T20:00", "2026-10-25T07:00"),  # Sat 22:00 CEST -> 08:00 CET
]


@pytest.mark.parametrize(("zone", "at", "until"), SMS_DEFERRED)
def test_sms_outside_the_window_waits_until_08_00_local(
    session: Session, zone: str, at: str, until: str
) -> None:
    from_sql, decision = both_gates(session, Recipient(zone=zone), "sms", utc(at))
    assert (from_sql, decision.reason, decision.defer_until) == (
        "legal_window",
        "legal_window",
        utc(until),
    )


# --- the person's quiet hours (push: no SMS window in the way) --------------------------------

QUIET_HOURS = [
    # (quiet from, to, zone, UTC moment, expected reason)   local time
    ("22:00", "07:00", "UTC", "2026-06-10T21:59", None),  # 21:59
    ("22:00", "07:00", "UTC", "2026-06-10T22:00", "quiet_hours"),  # 22:00
    ("22:00", "07:00", "UTC", "2026-06-10T23:59", "quiet_hours"),  # 23:59
    ("22:00", "07:00", "UTC", "2026-06-11T00:00", "quiet_hours"),  # 00:00
    ("22:00", "07:00", "UTC", "2026-06-11T06:59", "quiet_hours"),  # 06:59
    ("22:00", "07:00", "UTC", "2026-06-11T07:00", None),  # 07:00
    ("12:00", "13:30", "UTC", "2026-06-10T11:59", None),  # 11:59
    ("12:00", "13:30", "UTC", "2026-06-10T12:00", "quiet_hours"),  # 12:00
    ("12:00", "13:30", "UTC", "2026-06-10T13:29", "quiet_hours"),  # 13:29
    ("12:00", "13:30", "UTC", "2026-06-10T13:30", None),  # 13:30
    # Across midnight and a DST change: Berlin goes to CEST at 02:00 on 29 March 2026.
    ("23:00", "06:30", "Europe/Berlin", "2026-03-28T21:59", None),  # Sat 22:59 CET
    ("23:00", "06:30", "Europe/Berlin", "2026-03-28T22:00", "quiet_hours"),  # Sat 23:00 CET
    ("23:00", "06:30", "Europe/Berlin", "2026-03-29T04:29", "quiet_hours"),  # Sun 06:29 CEST
    ("23:00", "06:30", "Europe/Berlin", "2026-03-29T04:30", None),  # Sun 06:30 CEST
    ("23:00", "06:30", "America/New_York", "2026-03-08T10:29", "quiet_hours"),  # 06:29 EDT
    ("23:00", "06:30", "America/New_York", "2026-03-08T10:30", None),  # 06:30 EDT
]


@pytest.mark.parametrize(("start", "end", "zone", "at", "reason"), QUIET_HOURS)
def test_quiet_hours(
    session: Session, start: str, end: str, zone: str, at: str, reason: str | None
) -> None:
    expect(session, Recipient(zone=zone, quiet=(start, end)), "push", at, reason)


def test_quiet_hours_across_midnight_defer_to_their_end(session: Session) -> None:
    who = Recipient(zone="Europe/Berlin", quiet=("23:00", "06:30"))
    from_sql, decision = both_gates(session, who, "push", utc("2026-03-28T23:15"))  # 00:15 CET
    assert (from_sql, decision.reason) == ("quiet_hours", "quiet_hours")
    assert decision.defer_until == utc("2026-03-29T04:30")  # 06:30 CEST


def test_quiet_hours_hold_no_email(session: Session) -> None:
    expect(session, Recipient(quiet=("22:00", "07:00")), "email", "2026-06-10T23:00", None)


# --- frequency caps: N-1 passes, N stops, inside the trailing 7 days and at its edge ------------

AT = "2026-06-10T12:00"
SENT_WINDOW_EDGE = utc("2026-06-03T12:00")  # exactly 7 days before AT: outside the window
SENT_JUST_INSIDE = utc("2026-06-03T12:00:01")
SENT_YESTERDAY = utc("2026-06-09T12:00")
SENT_LONG_AGO = utc("2026-05-01T12:00")

CAPS = [
    # (brand cap, sent here, global cap, sent elsewhere, expected reason)
    (2, (SENT_YESTERDAY,), 10, (), None),  # N-1 = 1 of 2
    (2, (SENT_YESTERDAY, SENT_YESTERDAY), 10, (), "brand_cap"),  # N = 2 of 2
    (2, (SENT_YESTERDAY, SENT_JUST_INSIDE), 10, (), "brand_cap"),  # 7 days less 1 s: counts
    (2, (SENT_YESTERDAY, SENT_WINDOW_EDGE), 10, (), None),  # exactly 7 days: does not
    (2, (SENT_YESTERDAY, SENT_LONG_AGO), 10, (), None),
    (0, (), 10, (), "brand_cap"),  # a cap of 0: no marketing from this brand
    (3, (), 3, (SENT_YESTERDAY, SENT_YESTERDAY), None),  # N-1 = 2 of 3 across brands
    (3, (), 3, (SENT_YESTERDAY,) * 3, "global_cap"),  # N = 3 of 3
    (3, (SENT_YESTERDAY,), 3, (SENT_YESTERDAY,) * 2, "global_cap"),  # this brand's count too
    (3, (), 3, (SENT_YESTERDAY, SENT_YESTERDAY, SENT_JUST_INSIDE), "global_cap"),
    (3, (), 3, (SENT_YESTERDAY, SENT_YESTERDAY, SENT_WINDOW_EDGE), None),
    (2, (SENT_YESTERDAY,) * 2, 2, (SENT_YESTERDAY,) * 2, "brand_cap"),  # brand cap first
]


@pytest.mark.parametrize(("brand_cap", "here", "global_cap", "elsewhere", "reason"), CAPS)
def test_caps(
    session: Session,
    brand_cap: int,
    here: tuple[datetime, ...],
    global_cap: int,
    elsewhere: tuple[datetime, ...],
    reason: str | None,
) -> None:
    who = Recipient(
        brand_cap=brand_cap, sent_here=here, global_cap=global_cap, sent_elsewhere=elsewhere
    )
    expect(session, who, "email", AT, reason)


def test_caps_hold_no_transactional_message(session: Session) -> None:
    who = Recipient(brand_cap=1, sent_here=(SENT_YESTERDAY,) * 3, global_cap=1)
    from_sql, decision = both_gates(session, who, "email", utc(AT), purpose="transactional")
    assert (from_sql, decision.reason) == (None, None)


# --- pauses: until a moment equal to now means the pause is over ------------------------------

NOW = utc(AT)
PAUSES = [
    # (relationship state, paused until, all marketing paused until, expected reason)
    ("paused", NOW, None, None),  # equal to now: over
    ("paused", NOW + timedelta(seconds=1), None, "paused"),
    ("paused", NOW - timedelta(seconds=1), None, None),
    ("paused", None, None, "paused"),  # indefinitely
    ("active", None, NOW, None),
    ("active", None, NOW + timedelta(seconds=1), "paused"),
    ("active", None, NOW - timedelta(seconds=1), None),
    ("ended", None, None, "ended"),
    ("invited", None, None, "no_relationship"),
]


@pytest.mark.parametrize(("state", "until", "all_until", "reason"), PAUSES)
def test_pauses(
    session: Session,
    state: str,
    until: datetime | None,
    all_until: datetime | None,
    reason: str | None,
) -> None:
    who = Recipient(state=state, paused_until=until, global_paused_until=all_until)
    expect(session, who, "email", AT, reason)


# --- contact points: verified, unverified, suppressed ------------------------------------------

POINTS = [
    # ((channel, verified, suppressed), ...) for an e-mail, expected reason
    ((("email", True, False),), None),
    ((("email", False, False),), "unverified"),
    ((("email", False, False), ("email", True, False)), None),
    ((), "no_contact_point"),
    ((("sms", True, False),), "no_contact_point"),  # verified, but on another channel
    ((("email", True, True),), "suppressed"),
    ((("email", False, False), ("email", True, True)), "suppressed"),
    ((("email", True, True), ("email", True, False)), None),
    ((("email", False, True),), "unverified"),  # unverified comes before suppressed
]


@pytest.mark.parametrize(("points", "reason"), POINTS)
def test_contact_points(
    session: Session, points: tuple[tuple[str, bool, bool], ...], reason: str | None
) -> None:
    expect(session, Recipient(points=points), "email", AT, reason)
