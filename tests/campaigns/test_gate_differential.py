"""Differential property test: the set-based SQL gate and the per-message check agree on every
person in random worlds, with the same reason; and the gate's eligible form (what resolve
writes, batch by batch) is exactly the people whose reason is NULL (or quiet_hours, deferred)."""

from __future__ import annotations

import itertools
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select
from sqlalchemy.orm import Session

from accord.campaigns.gate_facts import load_facts
from accord.campaigns.gate_rules import Sending, decide
from accord.campaigns.gate_sql import Related, eligible_select, gate_select
from accord.compliance import service as compliance
from accord.core.db import insert_or_ignore
from accord.outbox.models import OutboxMessage
from accord.people.models import ContactPoint, Person
from accord.relationships.models import (
    ChannelChoice,
    GlobalPreferences,
    PurposeGrant,
    Relationship,
    TopicChoice,
)
from accord.relationships.vocabulary import Channel, Purpose
from accord.terms.models import Agreement, BrandAcceptance, PersonTerms, Proffer
from tests.builders import make_brand, make_topic

ZONES = ["UTC", "Europe/Berlin", "America/New_York", "Asia/Kolkata", "Pacific/Auckland"]
CHANNELS = ["email", "sms", "push", "inapp"]
BASE = datetime(2026, 3, 28, 0, 0, tzinfo=UTC)  # near a DST change in Europe
counter = itertools.count()
PLACES = [
    (None, None),
    ("US", None),
    ("US", "FL"),
    ("US", "TX"),
    ("US", "OK"),
    ("DE", None),
    ("CA", "ON"),
]
# Rules of another shape than the shipped ones: a window for every channel, per-brand and
# per-topic limits of several spans, an e-mail window, a push window everywhere.
OTHER_RULES = """
[[jurisdiction]]
code = "WORLD"
name = "Everywhere"
places = ["*"]
[[jurisdiction]]
code = "US"
name = "US"
places = ["US"]
[[jurisdiction]]
code = "US-FL"
name = "Florida"
places = ["US-FL"]
[[jurisdiction]]
code = "CA"
name = "Canada"
places = ["CA"]
[[jurisdiction]]
code = "DE"
name = "Germany"
places = ["DE"]
[[rule]]
id = "us-any"
jurisdiction = "US"
channel = "*"
purpose = "*"
kind = "window"
start = "09:00"
end = "20:30"
source = "test"
[[rule]]
id = "fl-brand"
jurisdiction = "US-FL"
channel = "sms"
purpose = "marketing"
kind = "frequency"
max = 2
hours = 48
per = "brand"
source = "test"
[[rule]]
id = "fl-topic"
jurisdiction = "US-FL"
channel = "*"
purpose = "*"
kind = "frequency"
max = 1
hours = 12
per = "topic"
source = "test"
[[rule]]
id = "ca-email"
jurisdiction = "CA"
channel = "email"
purpose = "marketing"
kind = "window"
start = "10:00"
end = "18:00"
source = "test"
[[rule]]
id = "de-topic"
jurisdiction = "DE"
channel = "*"
purpose = "*"
kind = "frequency"
max = 1
hours = 6
per = "topic"
source = "test"
[[rule]]
id = "world-push"
jurisdiction = "WORLD"
channel = "push"
purpose = "*"
kind = "window"
start = "07:00"
end = "22:00"
source = "test"
"""

offset = st.integers(-72, 72).map(lambda h: BASE + timedelta(hours=h))
hhmm = st.tuples(st.integers(0, 23), st.sampled_from([0, 30])).map(
    lambda t: f"{t[0]:02d}:{t[1]:02d}"
)
contact = st.tuples(st.booleans(), st.booleans())  # verified, suppressed
PURPOSES = ["marketing", "transactional", "sharing", "profiling"]
# Personal terms, by roster id: how the person's agreement with the brand stands.
TERMS = ["intent-only", "no-sharing", "service-only", "no-stalking"]
TERMS_STATES = ["accepted", "pending", "declined", "every-brand", "every-brand-published"]
person_world = st.fixed_dictionaries(
    {
        "zone": st.sampled_from(ZONES),
        "state": st.sampled_from([None, "invited", "active", "paused", "ended"]),
        "paused_until": st.one_of(st.none(), offset),
        "brand_cap": st.integers(0, 3),
        "marketing": st.sampled_from([None, "pending", "granted"]),
        "channels": st.sets(st.tuples(st.sampled_from(PURPOSES), st.sampled_from(CHANNELS))),
        "topic": st.booleans(),
        "prefs": st.one_of(
            st.none(),
            st.fixed_dictionaries(
                {
                    "quiet": st.one_of(
                        st.none(), st.tuples(hhmm, hhmm).filter(lambda q: q[0] != q[1])
                    ),
                    "dnc": st.booleans(),
                    "global_cap": st.integers(0, 4),
                    "paused_until": st.one_of(st.none(), offset),
                }
            ),
        ),
        "contacts": st.dictionaries(st.sampled_from(CHANNELS), st.lists(contact, max_size=2)),
        "sent_here": st.lists(st.integers(0, 10), max_size=3),  # days ago
        "sent_elsewhere": st.lists(st.integers(0, 10), max_size=3),
        "terms": st.dictionaries(st.sampled_from(TERMS), st.sampled_from(TERMS_STATES)),
        "only_my_terms": st.booleans(),
        # Where the law sees the person (country, state), and texts this brand sent them:
        # (hours ago, on the campaign's topic or the brand's other one, purpose).
        "place": st.sampled_from(PLACES),
        "texts": st.lists(
            st.tuples(
                st.integers(0, 60), st.booleans(), st.sampled_from(["marketing", "transactional"])
            ),
            max_size=4,
        ),
    }
)


def build(
    session: Session,
    spec: dict[str, Any],
    brand: Any,
    other: Any,
    topic: Any,
    other_topic: Any,
    second_topic: Any = None,
) -> uuid.UUID:
    second_topic = second_topic or topic
    n = next(counter)
    country, subdivision = spec["place"]
    person = Person(
        email=f"w{n}-{uuid.uuid4().hex[:8]}@world.example",
        time_zone=spec["zone"],
        place_country=country,
        place_subdivision=subdivision,
    )
    session.add(person)
    session.flush()
    pid = person.id
    if spec["state"] is not None:
        session.add(
            Relationship(
                person_id=pid,
                brand_id=brand.id,
                state=spec["state"],
                origin="follow",
                paused_until=spec["paused_until"],
                brand_cap=spec["brand_cap"],
                shared={},
            )
        )
    if spec["marketing"]:
        session.add(
            PurposeGrant(
                person_id=pid, brand_id=brand.id, purpose="marketing", status=spec["marketing"]
            )
        )
    for purpose, channel in spec["channels"]:
        session.add(
            ChannelChoice(person_id=pid, brand_id=brand.id, purpose=purpose, channel=channel)
        )
    if spec["topic"]:
        session.add(TopicChoice(person_id=pid, brand_id=brand.id, topic_id=topic.id))
    prefs = spec["prefs"]
    if prefs is not None:
        quiet = prefs["quiet"] or (None, None)
        session.add(
            GlobalPreferences(
                person_id=pid,
                quiet_start=quiet[0],
                quiet_end=quiet[1],
                do_not_contact=prefs["dnc"],
                global_cap=prefs["global_cap"],
                paused_until=prefs["paused_until"],
            )
        )
    for channel, points in spec["contacts"].items():
        for i, (verified, suppressed) in enumerate(points):
            address = f"{channel}-{i}-{pid.hex}"
            session.add(
                ContactPoint(
                    person_id=pid,
                    channel=channel,
                    address=address,
                    address_normalised=address,
                    verified_at=BASE if verified else None,
                    suppressed_reason="complaint" if suppressed else None,
                )
            )
    for where, days_list in (("here", spec["sent_here"]), ("elsewhere", spec["sent_elsewhere"])):
        for days in days_list:
            b, t = (brand, topic) if where == "here" else (other, other_topic)
            session.add(
                OutboxMessage(
                    brand_id=b.id,
                    person_id=pid,
                    topic_id=t.id,
                    channel="email",
                    purpose="marketing",
                    idempotency_key=f"w-{uuid.uuid4().hex}",
                    state="sent",
                    sent_at=BASE - timedelta(days=days, hours=1),
                )
            )
    add_terms(session, pid, brand, spec.get("terms", {}), spec.get("only_my_terms", False))
    add_texts(session, spec["texts"], pid, brand, topic, second_topic)
    session.flush()
    return pid


def add_terms(
    session: Session, pid: uuid.UUID, brand: Any, terms: dict[str, str], only_mine: bool
) -> None:
    """Rows as the terms domain writes them (its own tests cover how they come about)."""
    for slug, state in terms.items():
        every_brand = state.startswith("every-brand")
        offered = Proffer(
            person_id=pid, brand_id=None if every_brand else brand.id, slug=slug, version=1
        )
        session.add(offered)
        session.flush()
        if state == "every-brand-published":
            insert_or_ignore(
                session, BrandAcceptance, {"brand_id": brand.id, "slug": slug, "version": 1}
            )
        if every_brand:
            continue
        accepted = state == "accepted"
        session.add(
            Agreement(
                subject_id=pid,
                brand_id=brand.id,
                proffer_id=offered.id,
                slug=slug,
                version=1,
                status=state,
                agreed_slug=slug if accepted else None,
                agreed_version=1 if accepted else None,
                proffered_at=BASE,
            )
        )
    if only_mine:
        session.add(PersonTerms(person_id=pid, only_my_terms=True))


def add_texts(
    session: Session,
    texts: list[tuple[int, bool, str]],
    pid: uuid.UUID,
    brand: Any,
    topic: Any,
    second_topic: Any,
) -> None:
    """Texts the brand sent: (hours before BASE, on the topic or the other one, purpose)."""
    for hours, on_topic, purpose in texts:
        session.add(
            OutboxMessage(
                brand_id=brand.id,
                person_id=pid,
                topic_id=(topic if on_topic else second_topic).id,
                channel="sms",
                purpose=purpose,
                idempotency_key=f"w-{uuid.uuid4().hex}",
                state="delivered",
                sent_at=BASE - timedelta(hours=hours, minutes=30),
            )
        )


@settings(
    max_examples=120,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    people=st.lists(person_world, min_size=1, max_size=6),
    purpose=st.sampled_from(PURPOSES),
    channel=st.sampled_from(CHANNELS),
    at=offset,
    other_rules=st.booleans(),
)
def test_sql_gate_and_per_message_check_agree(
    session: Session,
    people: list[dict[str, Any]],
    purpose: str,
    channel: str,
    at: datetime,
    other_rules: bool,
) -> None:
    savepoint = session.begin_nested()
    try:
        if other_rules:
            compliance.load_rules(session, compliance.parse(OTHER_RULES))
        brand, other = make_brand(session), make_brand(session)
        topic = make_topic(session, brand=brand, purpose=purpose)
        second_topic = make_topic(session, brand=brand, purpose=purpose)
        other_topic = make_topic(session, brand=other)
        ids = [
            build(session, spec, brand, other, topic, other_topic, second_topic) for spec in people
        ]
        audience = select(Person.id).where(Person.id.in_(ids))
        sending = Sending(brand.id, Purpose(purpose), topic.id, Channel(channel), at)
        query = gate_select(session, sending, audience)
        from_sql = {row.person_id: row.reason for row in session.execute(query)}
        # The same people as an audience of the brand's relationships (campaigns' usual kind).
        related = {pid for pid, spec in zip(ids, people, strict=True) if spec["state"] is not None}
        as_related = Related(lambda rel: [rel.person_id.in_(ids)])
        from_related = {
            row.person_id: row.reason
            for row in session.execute(gate_select(session, sending, as_related))
        }
        assert from_related == {pid: from_sql[pid] for pid in related}
        middle = sorted(ids)[len(ids) // 2]
        deferring = {None, "quiet_hours", "legal_window"}
        for deferred, let_through in ((False, {None}), (True, deferring)):
            expected = {pid for pid, reason in from_sql.items() if reason in let_through}
            for within in ((None, None), (None, middle), (middle, None)):
                after, upto = within
                wanted = {
                    p
                    for p in expected
                    if (after is None or p > after) and (upto is None or p <= upto)
                }
                for whom, members in ((audience, wanted), (as_related, wanted & related)):
                    eligible = eligible_select(
                        session, sending, whom, deferred=deferred, people=within
                    )
                    assert set(session.scalars(eligible)) == members, (deferred, within, whom)
        facts = load_facts(session, sending, ids)
        from_check = {pid: decide(f, sending).reason for pid, f in facts.items()}
        assert from_sql == from_check
    finally:
        savepoint.rollback()


GOOD: dict[str, Any] = {
    "zone": "UTC",
    "state": "active",
    "paused_until": None,
    "brand_cap": 3,
    "marketing": "granted",
    "channels": {("marketing", "sms"), ("transactional", "sms")},
    "topic": True,
    "prefs": {"quiet": None, "dnc": False, "global_cap": 5, "paused_until": None},
    "contacts": {"sms": [(True, False)]},
    "sent_here": [],
    "sent_elsewhere": [],
    "place": (None, None),
    "texts": [],
}
NOON = datetime(2026, 3, 25, 12, 0, tzinfo=UTC)
CASES: list[tuple[str, dict[str, Any], str]] = [
    ("eligible", {}, "marketing"),
    ("no_relationship", {"state": None}, "marketing"),
    ("no_relationship", {"state": "invited"}, "marketing"),
    ("paused", {"state": "paused"}, "marketing"),
    ("paused", {"prefs": GOOD["prefs"] | {"paused_until": NOON + timedelta(days=1)}}, "marketing"),
    ("eligible", {"state": "paused", "paused_until": NOON - timedelta(hours=1)}, "marketing"),
    ("eligible", {"state": "paused"}, "transactional"),
    ("ended", {"state": "ended"}, "marketing"),
    ("no_marketing_consent", {"marketing": "pending"}, "marketing"),
    ("channel_not_chosen", {"channels": {("marketing", "email")}}, "marketing"),
    ("topic_not_chosen", {"topic": False}, "marketing"),
    ("global_opt_out", {"prefs": GOOD["prefs"] | {"dnc": True}}, "marketing"),
    ("eligible", {"prefs": GOOD["prefs"] | {"dnc": True}}, "transactional"),
    ("no_contact_point", {"contacts": {}}, "marketing"),
    ("unverified", {"contacts": {"sms": [(False, False)]}}, "marketing"),
    ("suppressed", {"contacts": {"sms": [(True, True)]}}, "marketing"),
    ("brand_cap", {"brand_cap": 1, "sent_here": [4]}, "marketing"),
    ("eligible", {"brand_cap": 1, "sent_here": [12]}, "marketing"),
    ("global_cap", {"sent_elsewhere": [4, 5, 6, 7, 8]}, "marketing"),
    ("quiet_hours", {"prefs": GOOD["prefs"] | {"quiet": ("11:30", "13:00")}}, "marketing"),
    ("legal_window", {"zone": "Pacific/Auckland"}, "transactional"),
    # Florida (shipped rules): at most 3 marketing texts a topic in 24 hours, 08:00-20:00.
    (
        "legal_frequency",
        {"place": ("US", "FL"), "brand_cap": 9, "texts": [(61, True, "marketing")] * 3},
        "marketing",
    ),
    ("eligible", {"place": ("US", "FL"), "texts": [(61, True, "marketing")] * 2}, "marketing"),
    (
        "eligible",
        {"place": ("US", "FL"), "brand_cap": 9, "texts": [(61, True, "marketing")] * 3},
        "transactional",
    ),
    ("legal_window", {"place": ("US", "FL"), "zone": "America/Los_Angeles"}, "marketing"),
    ("terms", {"terms": {"intent-only": "accepted"}}, "marketing"),
    ("eligible", {"terms": {"intent-only": "accepted"}}, "transactional"),
    ("eligible", {"terms": {"intent-only": "pending"}}, "marketing"),
    ("terms", {"terms": {"intent-only": "every-brand-published"}}, "marketing"),
    ("eligible", {"terms": {"no-stalking": "accepted"}}, "marketing"),
    ("terms", {"terms": {"no-sharing": "pending"}, "only_my_terms": True}, "marketing"),
    ("eligible", {"terms": {"no-sharing": "accepted"}, "only_my_terms": True}, "marketing"),
    ("terms", {"terms": {"no-sharing": "accepted"}, "channels": {("sharing", "sms")}}, "sharing"),
    (
        "eligible",
        {"terms": {"no-sharing": "declined"}, "channels": {("sharing", "sms")}},
        "sharing",
    ),
    # no_profiling (no-stalking, service-only) keeps back messages of a profiling topic.
    (
        "terms",
        {"terms": {"no-stalking": "accepted"}, "channels": {("profiling", "sms")}},
        "profiling",
    ),
    (
        "terms",
        {"terms": {"service-only": "every-brand-published"}, "channels": {("profiling", "sms")}},
        "profiling",
    ),
    (
        "eligible",
        {"terms": {"no-stalking": "pending"}, "channels": {("profiling", "sms")}},
        "profiling",
    ),
    (
        "eligible",
        {"terms": {"no-sharing": "accepted"}, "channels": {("profiling", "sms")}},
        "profiling",
    ),
]


def test_each_reason_from_both_gates(session: Session) -> None:
    brand, other = make_brand(session), make_brand(session)
    topics = {p: make_topic(session, brand=brand, purpose=p) for p in PURPOSES}
    other_topic = make_topic(session, brand=other)
    for expected, change, purpose in CASES:
        topic = topics[purpose]
        pid = build(session, GOOD | change, brand, other, topic, other_topic)
        sending = Sending(brand.id, Purpose(purpose), topic.id, Channel.sms, NOON)
        query = gate_select(session, sending, select(Person.id).where(Person.id == pid))
        [row] = session.execute(query).all()
        decision = decide(load_facts(session, sending, [pid])[pid], sending)
        assert (row.reason or "eligible", decision.reason or "eligible") == (expected, expected), (
            change
        )
        if expected in ("quiet_hours", "legal_window"):
            assert decision.defer_until is not None and decision.defer_until > NOON
