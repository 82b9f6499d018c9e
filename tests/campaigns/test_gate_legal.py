"""The legal rules in the gate (`accord.compliance`, the shipped rules file), pinned with literal
local times at both edges of each window, across DST changes, and literal counts at each
frequency limit; both forms of the gate must give the literal reason.

Times are UTC literals; the comment beside each gives the person's local time. In 2026 the US
goes to daylight time on 8 March and back on 1 November."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import pytest
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from accord.campaigns.gate_facts import load_facts
from accord.campaigns.gate_rules import Decision, Sending, decide
from accord.campaigns.gate_sql import eligible_select, gate_select
from accord.outbox.models import OutboxMessage
from accord.people.models import Person
from accord.relationships.vocabulary import Channel, Purpose
from tests.builders import make_brand, make_topic
from tests.campaigns.test_gate_boundaries import Recipient, add_recipient


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def both(
    session: Session,
    *,
    zone: str,
    place: tuple[str | None, str | None],
    at: str,
    channel: str = "sms",
    purpose: str = "marketing",
    texts: tuple[tuple[str, str], ...] = (),
) -> tuple[str | None, Decision]:
    """The reason from both gates for one person at `place` (country, state) in `zone`.
    `texts`: messages already handed over to them, as (UTC time, "here" | "other topic" |
    "other brand" | "email")."""
    brand, other = make_brand(session), make_brand(session)
    topic = make_topic(session, brand=brand, purpose=purpose)
    second = make_topic(session, brand=brand, purpose=purpose)
    other_topic = make_topic(session, brand=other)
    pid = add_recipient(
        session,
        brand=brand,
        topic=topic,
        other=other,
        other_topic=other_topic,
        who=Recipient(zone=zone, brand_cap=50, global_cap=50),
    )
    session.execute(
        update(Person)
        .where(Person.id == pid)
        .values(place_country=place[0], place_subdivision=place[1])
    )
    for when, kind in texts:
        sender, about = (other, other_topic) if kind == "other brand" else (brand, topic)
        if kind == "other topic":
            about = second
        session.add(
            OutboxMessage(
                brand_id=sender.id,
                person_id=pid,
                topic_id=about.id,
                channel="email" if kind == "email" else "sms",
                purpose=purpose,
                idempotency_key=f"legal-{uuid.uuid4().hex}",
                state="delivered",  # a receipt came: still counts as handed over
                sent_at=utc(when),
            )
        )
    session.flush()
    session.expire_all()
    sending = Sending(brand.id, Purpose(purpose), topic.id, Channel(channel), utc(at))
    audience = select(Person.id).where(Person.id == pid)
    [row] = session.execute(gate_select(session, sending, audience)).all()
    eligible = set(session.scalars(eligible_select(session, sending, audience)))
    assert eligible == ({pid} if row.reason is None else set()), "eligible form disagrees"
    deferred = set(session.scalars(eligible_select(session, sending, audience, deferred=True)))
    assert deferred == ({pid} if row.reason in (None, "legal_window") else set())
    return row.reason, decide(load_facts(session, sending, [pid])[pid], sending)


NY, CHICAGO = "America/New_York", "America/Chicago"
FL, OK, MD, TX = ("US", "FL"), ("US", "OK"), ("US", "MD"), ("US", "TX")

WINDOWS = [
    # (place, zone, UTC moment, purpose, expected)   local time
    # Florida, § 501.616(6)(a): marketing texts 08:00-20:00.
    (FL, NY, "2026-03-07T12:59", "marketing", "legal_window"),  # Sat 07:59 EST
    (FL, NY, "2026-03-07T13:00", "marketing", None),  # Sat 08:00 EST
    (FL, NY, "2026-03-08T00:59", "marketing", None),  # Sat 19:59 EST
    (FL, NY, "2026-03-08T01:00", "marketing", "legal_window"),  # Sat 20:00 EST
    (FL, NY, "2026-03-08T11:59", "marketing", "legal_window"),  # Sun 07:59 EDT
    (FL, NY, "2026-03-08T12:00", "marketing", None),  # Sun 08:00 EDT
    (FL, NY, "2026-03-08T23:59", "marketing", None),  # Sun 19:59 EDT
    (FL, NY, "2026-03-09T00:00", "marketing", "legal_window"),  # Sun 20:00 EDT
    (FL, NY, "2026-11-01T12:59", "marketing", "legal_window"),  # Sun 07:59 EST
    (FL, NY, "2026-11-01T13:00", "marketing", None),  # Sun 08:00 EST
    (FL, NY, "2026-11-02T00:59", "marketing", None),  # Sun 19:59 EST
    (FL, NY, "2026-11-02T01:00", "marketing", "legal_window"),  # Sun 20:00 EST
    # A transactional text in Florida: only everywhere's 08:00-21:00.
    (FL, NY, "2026-03-09T00:30", "transactional", None),  # Sun 20:30 EDT
    (FL, NY, "2026-03-09T01:00", "transactional", "legal_window"),  # Sun 21:00 EDT
    # Oklahoma (Telephone Solicitation Act 2022): 08:00-20:00, in Central time.
    (OK, CHICAGO, "2026-03-08T12:59", "marketing", "legal_window"),  # Sun 07:59 CDT
    (OK, CHICAGO, "2026-03-08T13:00", "marketing", None),  # Sun 08:00 CDT
    (OK, CHICAGO, "2026-03-09T00:59", "marketing", None),  # Sun 19:59 CDT
    (OK, CHICAGO, "2026-03-09T01:00", "marketing", "legal_window"),  # Sun 20:00 CDT
    (OK, CHICAGO, "2026-11-01T13:59", "marketing", "legal_window"),  # Sun 07:59 CST
    (OK, CHICAGO, "2026-11-01T14:00", "marketing", None),  # Sun 08:00 CST
    (OK, CHICAGO, "2026-11-02T01:59", "marketing", None),  # Sun 19:59 CST
    (OK, CHICAGO, "2026-11-02T02:00", "marketing", "legal_window"),  # Sun 20:00 CST
    # Maryland (Com. Law § 14-4502): 08:00-20:00.
    (MD, NY, "2026-03-08T11:59", "marketing", "legal_window"),  # Sun 07:59 EDT
    (MD, NY, "2026-03-08T12:00", "marketing", None),  # Sun 08:00 EDT
    (MD, NY, "2026-03-08T23:59", "marketing", None),  # Sun 19:59 EDT
    (MD, NY, "2026-03-09T00:00", "marketing", "legal_window"),  # Sun 20:00 EDT
    # Texas: the federal hours alone (TCPA, 47 CFR 64.1200(c)(1)): 08:00-21:00.
    (TX, CHICAGO, "2026-03-08T12:59", "marketing", "legal_window"),  # Sun 07:59 CDT
    (TX, CHICAGO, "2026-03-08T13:00", "marketing", None),  # Sun 08:00 CDT
    (TX, CHICAGO, "2026-03-09T01:59", "marketing", None),  # Sun 20:59 CDT
    (TX, CHICAGO, "2026-03-09T02:00", "marketing", "legal_window"),  # Sun 21:00 CDT
    # A US number whose state the area code does not tell: the federal hours.
    (("US", None), NY, "2026-03-09T00:30", "marketing", None),  # Sun 20:30 EDT
    (("US", None), NY, "2026-03-09T01:00", "marketing", "legal_window"),  # Sun 21:00 EDT
    # Germany, and nowhere known: Accord's own 08:00-21:00 for every text.
    (("DE", None), "Europe/Berlin", "2026-03-29T05:59", "marketing", "legal_window"),  # 07:59
    (("DE", None), "Europe/Berlin", "2026-03-29T06:00", "marketing", None),  # 08:00 CEST
    (("DE", None), "Europe/Berlin", "2026-03-29T18:59", "transactional", None),  # 20:59
    (("DE", None), "Europe/Berlin", "2026-03-29T19:00", "transactional", "legal_window"),
    ((None, None), "UTC", "2026-06-10T20:59", "marketing", None),
    ((None, None), "UTC", "2026-06-10T21:00", "marketing", "legal_window"),
]


@pytest.mark.parametrize(("place", "zone", "at", "purpose", "reason"), WINDOWS)
def test_legal_windows(
    session: Session,
    place: tuple[str | None, str | None],
    zone: str,
    at: str,
    purpose: str,
    reason: str | None,
) -> None:
    from_sql, decision = both(session, zone=zone, place=place, at=at, purpose=purpose)
    assert (from_sql, decision.reason) == (reason, reason)


@pytest.mark.parametrize("channel", ["email", "push"])
def test_no_window_holds_email_or_push(session: Session, channel: str) -> None:
    at = "2026-03-09T03:00"  # Sun 23:00 EDT
    assert both(session, zone=NY, place=FL, at=at, channel=channel)[0] is None


@pytest.mark.parametrize(
    ("place", "zone", "at", "until"),
    [
        (FL, NY, "2026-03-08T01:30", "2026-03-08T12:00"),  # Sat 20:30 EST -> Sun 08:00 EDT
        (FL, NY, "2026-11-01T00:30", "2026-11-01T13:00"),  # Sat 20:30 EDT -> Sun 08:00 EST
        (OK, CHICAGO, "2026-11-01T02:00", "2026-11-01T14:00"),  # Sat 21:00 CDT -> 08:00 CST
        (TX, CHICAGO, "2026-03-08T03:30", "2026-03-08T13:00"),  # Sat 21:30 CST -> 08:00 CDT
    ],
)
def test_outside_the_window_a_text_waits_for_it_to_open(
    session: Session, place: tuple[str, str], zone: str, at: str, until: str
) -> None:
    from_sql, decision = both(session, zone=zone, place=place, at=at)
    assert (from_sql, decision.reason) == ("legal_window", "legal_window")
    assert decision.defer_until == utc(until)


AT = "2026-06-10T16:00"  # 12:00 in New York (EDT), 11:00 in Chicago (CDT)
DAY_AGO = "2026-06-09T16:00"  # exactly 24 hours before: outside the span
INSIDE = "2026-06-09T16:00:01"
HOUR_AGO = "2026-06-10T15:00"

FREQUENCY = [
    # (place, zone, texts already handed over, purpose, expected)
    (FL, NY, (HOUR_AGO,) * 2, "marketing", None),  # 2 of 3
    (FL, NY, (HOUR_AGO,) * 3, "marketing", "legal_frequency"),  # 3 of 3
    (FL, NY, (HOUR_AGO, HOUR_AGO, INSIDE), "marketing", "legal_frequency"),  # 24 h less 1 s
    (FL, NY, (HOUR_AGO, HOUR_AGO, DAY_AGO), "marketing", None),  # exactly 24 h: out
    (OK, CHICAGO, (HOUR_AGO,) * 3, "marketing", "legal_frequency"),
    (OK, CHICAGO, (HOUR_AGO,) * 2, "marketing", None),
    (MD, NY, (HOUR_AGO,) * 3, "marketing", "legal_frequency"),
    (MD, NY, (HOUR_AGO,) * 2, "marketing", None),
    (TX, CHICAGO, (HOUR_AGO,) * 5, "marketing", None),  # no state limit in Texas
    (FL, NY, (HOUR_AGO,) * 5, "transactional", None),  # the limit is for marketing
]


@pytest.mark.parametrize(("place", "zone", "sent", "purpose", "reason"), FREQUENCY)
def test_legal_frequency(
    session: Session,
    place: tuple[str, str],
    zone: str,
    sent: tuple[str, ...],
    purpose: str,
    reason: str | None,
) -> None:
    texts = tuple((when, "here") for when in sent)
    from_sql, decision = both(session, zone=zone, place=place, at=AT, purpose=purpose, texts=texts)
    assert (from_sql, decision.reason) == (reason, reason)


@pytest.mark.parametrize(
    ("kind", "reason"),
    [("here", "legal_frequency"), ("other topic", None), ("other brand", None), ("email", None)],
)
def test_the_florida_limit_counts_this_brands_texts_on_this_topic(
    session: Session, kind: str, reason: str | None
) -> None:
    """ "On the same subject": the third text on the topic is refused; texts on another topic,
    from another brand, or e-mails do not count against it."""
    texts = ((HOUR_AGO, "here"), (HOUR_AGO, "here"), (HOUR_AGO, kind))
    from_sql, decision = both(session, zone=NY, place=FL, at=AT, texts=texts)
    assert (from_sql, decision.reason) == (reason, reason)
