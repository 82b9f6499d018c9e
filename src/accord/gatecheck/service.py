"""The gate as a service, for brands that keep their own e-mail or SMS provider: ask the gate
about many (person, channel, topic) at once, and read every address the brand must not message.

The answers come from the gate itself: its rules (`campaigns.gate_rules.RULES`) in their SQL
form over the people asked about (`gate_sql.gate_select`, one statement per topic and channel,
what campaign previews count), and the per-message form for when a deferred message may go.
There is no second implementation to drift; the differential tests keep the two forms equal."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import func, or_, select, update
from sqlalchemy.orm import Session

from accord.campaigns.service import RULES, Decision, Reason, Sending, gate_select
from accord.campaigns.service import check_gate as gate_check
from accord.core.db import among_many, insert_or_ignore, utcnow
from accord.core.errors import InvalidInput
from accord.core.security import normalise_email
from accord.gatecheck.models import GateCheckUsage
from accord.gatecheck.schemas import CheckItem
from accord.people.models import ContactPoint, Person
from accord.relationships.models import Relationship, Topic
from accord.relationships.vocabulary import Channel, Purpose

NO_RELATIONSHIP = Decision(Reason.no_relationship)
ALLOWED = Decision(None)


def _uuid(text: str) -> uuid.UUID | None:
    try:
        return uuid.UUID(text)
    except ValueError:
        return None


def _topics(
    session: Session, brand_id: uuid.UUID, items: Sequence[CheckItem]
) -> list[tuple[uuid.UUID, Purpose]]:
    """Each item's topic (id or slug, of this brand) and its purpose, or a 422 naming the item."""
    refs = {item.topic for item in items}
    ids = [i for i in (_uuid(r) for r in refs) if i is not None]
    rows = session.execute(
        select(Topic.id, Topic.slug, Topic.purpose).where(
            Topic.brand_id == brand_id, or_(Topic.slug.in_(refs), Topic.id.in_(ids))
        )
    ).all()
    by_ref: dict[str, tuple[uuid.UUID, Purpose]] = {}
    for topic_id, slug, purpose in rows:
        by_ref[slug] = by_ref[str(topic_id)] = (topic_id, Purpose(purpose))
    canonical = {r: str(_uuid(r) or r) for r in refs}  # each distinct reference parsed once
    found = []
    for n, item in enumerate(items):
        ref = canonical[item.topic]
        if ref not in by_ref:
            raise InvalidInput(f"Your brand has no topic '{item.topic}'.", field=f"items.{n}.topic")
        topic_id, purpose = by_ref[ref]
        if item.purpose is not None and item.purpose != purpose:
            raise InvalidInput(
                f"Topic '{item.topic}' is for {purpose.value}, not {item.purpose.value}: the "
                "purpose comes from the topic.",
                field=f"items.{n}.purpose",
            )
        found.append((topic_id, purpose))
    return found


def _people(session: Session, brand_id: uuid.UUID, items: Sequence[CheckItem]) -> list[uuid.UUID]:
    """Each item's person. An e-mail address is looked up among the brand's related people
    only; an unknown one stands for nobody (the gate answers `no_relationship`, as for anyone
    the brand has no relationship with, so nothing tells whether the person exists elsewhere)."""
    emails = {normalise_email(i.email) for i in items if i.email is not None}
    known: dict[str, uuid.UUID] = {}
    if emails:
        rows = session.execute(
            select(ContactPoint.address_normalised, ContactPoint.person_id)
            .join(Relationship, Relationship.person_id == ContactPoint.person_id)
            .where(
                Relationship.brand_id == brand_id,
                ContactPoint.channel == Channel.email.value,
                ContactPoint.address_normalised.in_(emails),
            )
        ).all()
        known = {address: person for address, person in rows}
    nobody = uuid.UUID(int=0)
    return [
        item.person_id
        if item.person_id is not None
        else known.get(normalise_email(str(item.email)), nobody)
        for item in items
    ]


def check(
    session: Session, brand_id: uuid.UUID, items: Sequence[CheckItem], at: datetime | None = None
) -> list[Decision]:
    """The gate's decision for each item, in order: one query per (topic, channel) asked about,
    whatever the number of people."""
    moment = at or utcnow()
    topics = _topics(session, brand_id, items)
    people = _people(session, brand_id, items)
    groups: dict[tuple[uuid.UUID, Purpose, Channel], list[int]] = {}
    for n, ((topic_id, purpose), item) in enumerate(zip(topics, items, strict=True)):
        groups.setdefault((topic_id, purpose, item.channel), []).append(n)
    answers: list[Decision] = [NO_RELATIONSHIP] * len(items)
    for (topic_id, purpose, channel), positions in groups.items():
        sending = Sending(brand_id, purpose, topic_id, channel, moment)
        decided = _decide(session, sending, list({people[n] for n in positions}))
        for n in positions:
            answers[n] = decided.get(people[n], NO_RELATIONSHIP)
    count_usage(session, brand_id, len(items))
    return answers


def _decide(
    session: Session, sending: Sending, people: list[uuid.UUID]
) -> dict[uuid.UUID, Decision]:
    """The gate's answer per person, by its set-based form (`gate_sql.gate_select`, one
    statement, the rules' SQL side); the moment a deferred message may go comes from the
    per-message form, for the deferred people only. People not found are left out."""
    # Up to 10,000 people: on SQLite one JSON parameter (an expanding IN renders a parameter
    # per value), and rows read as plain rows (the ORM's loading cost a third of the call).
    audience: Any = select(Person.id).where(among_many(session, Person.id, "check_people", people))
    result: Any = session.connection().execute(gate_select(session, sending, audience))
    rows: list[tuple[uuid.UUID, str | None]] = [(row[0], row[1]) for row in result]
    decisions: dict[str | None, Decision] = {
        None: ALLOWED,
        **{r.value: Decision(r) for r in Reason},
    }
    found = {pid: decisions[reason] for pid, reason in rows}
    deferred = [pid for pid, d in found.items() if d.reason is not None and _defers(d.reason)]
    if deferred:
        found.update(gate_check(session, sending, deferred))
    return found


def _defers(reason: Reason) -> bool:
    return any(rule.reason == reason and rule.defers for rule in RULES)


def count_usage(session: Session, brand_id: uuid.UUID, items: int) -> None:
    day = utcnow().strftime("%Y-%m-%d")
    insert_or_ignore(
        session, GateCheckUsage, {"brand_id": brand_id, "day": day, "calls": 0, "items": 0}
    )
    session.execute(
        update(GateCheckUsage)
        .where(GateCheckUsage.brand_id == brand_id, GateCheckUsage.day == day)
        .values(calls=GateCheckUsage.calls + 1, items=GateCheckUsage.items + items)
    )


def usage(session: Session, brand_id: uuid.UUID, days: int = 31) -> list[GateCheckUsage]:
    return list(
        session.scalars(
            select(GateCheckUsage)
            .where(GateCheckUsage.brand_id == brand_id)
            .order_by(GateCheckUsage.day.desc())
            .limit(days)
        )
    )


def total_items(session: Session, brand_id: uuid.UUID) -> int:
    return int(
        session.scalar(
            select(func.coalesce(func.sum(GateCheckUsage.items), 0)).where(
                GateCheckUsage.brand_id == brand_id
            )
        )
        or 0
    )
