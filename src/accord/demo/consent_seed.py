"""Demo relationships: every state, topics, grants, verified phones and a ledger history."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from accord.brands.models import Brand
from accord.core.db import utcnow
from accord.people.models import ContactPoint, Person
from accord.relationships import service as relationships
from accord.relationships.models import Relationship, Topic
from accord.relationships.schemas import TopicCreate
from accord.relationships.service import PORTAL
from accord.relationships.vocabulary import Channel, Purpose, State

TOPICS = {
    "groove": [
        (
            "new-releases",
            "New releases",
            "The week's new CDs and vinyl in the genres you like.",
            "marketing",
        ),
        ("vinyl-club", "Vinyl club", "Members' pre-orders and limited pressings.", "marketing"),
        ("order-updates", "Order updates", "Confirmations and shipping notices.", "transactional"),
    ],
    "velo": [
        ("workshop-offers", "Workshop offers", "Service deals from our workshop.", "marketing"),
        ("group-rides", "Group rides", "Saturday rides and events.", "marketing"),
        (
            "service-reminders",
            "Service reminders",
            "When your bike is due for a check.",
            "transactional",
        ),
    ],
    "fernwood": [
        ("new-roasts", "New roasts", "Seasonal single origins as they arrive.", "marketing"),
        ("subscription", "Subscription", "Your deliveries and billing.", "transactional"),
    ],
}


def seed_topics(session: Session, brands: dict[str, Brand]) -> dict[str, list[Topic]]:
    found: dict[str, list[Topic]] = {}
    for slug, specs in TOPICS.items():
        brand = brands[slug]
        existing = {
            t.slug: t for t in session.scalars(select(Topic).where(Topic.brand_id == brand.id))
        }
        for topic_slug, name, description, purpose in specs:
            if topic_slug not in existing:
                data = TopicCreate(
                    slug=topic_slug, name=name, description=description, purpose=Purpose(purpose)
                )
                existing[topic_slug] = relationships.create_topic(session, brand.id, data)
        found[slug] = [existing[s[0]] for s in specs]
    return found


def seed_relationships(session: Session, brands: dict[str, Brand], people: list[Person]) -> int:
    """Only people without any relationship are seeded, so a second run adds nothing."""
    by_slug = seed_topics(session, brands)
    seeded = 0
    now = utcnow()
    for i, person in enumerate(people):
        has_any = session.scalar(
            select(Relationship.id).where(Relationship.person_id == person.id).limit(1)
        )
        if has_any is not None:
            continue
        seeded += 1
        if i % 3 == 0:
            _verified_phone(session, person, i)
        for j, slug in enumerate(("groove", "velo", "fernwood")):
            if (i + j) % 4 == 3:
                continue  # not everyone knows every brand
            _relationship(session, person, brands[slug], by_slug[slug], i + j, now)
        if i % 4 == 0:
            relationships.set_quiet_hours(session, person.id, "21:00", "08:00", PORTAL)
        if i % 10 == 5:
            relationships.set_global_cap(session, person.id, 5, PORTAL)
    return seeded


def _verified_phone(session: Session, person: Person, i: int) -> None:
    number = f"+4930{5550000 + i}"
    session.add(
        ContactPoint(
            person_id=person.id,
            channel="sms",
            address=number,
            address_normalised=number,
            region="DE",
            verified_at=utcnow(),
        )
    )
    session.flush()


def _relationship(
    session: Session, person: Person, brand: Brand, brand_topics: list[Topic], k: int, now: object
) -> None:
    if k % 13 == 6:
        relationships.start(
            session, person.id, brand.id, PORTAL, action="invite", state=State.invited
        )
        return
    rel = relationships.start(session, person.id, brand.id, PORTAL)
    if k % 3 != 0:
        relationships.set_purpose(session, rel, Purpose.marketing, True, PORTAL)
        relationships.set_channel(session, rel, Purpose.marketing, Channel.email, True, PORTAL)
        for topic in brand_topics:
            if topic.purpose == "marketing" and (k + len(topic.slug)) % 2 == 0:
                relationships.set_topic(session, rel, topic.id, True, PORTAL)
    if k % 2 == 0:
        relationships.set_purpose(session, rel, Purpose.profiling, True, PORTAL)
    if k % 5 == 1:
        relationships.set_brand_cap(session, rel, 1, PORTAL)
    if k % 7 == 2:
        relationships.pause(session, rel, utcnow() + timedelta(days=14 + k), PORTAL)
    elif k % 11 == 4:
        relationships.pause(session, rel, None, PORTAL)
    elif k % 9 == 8:
        relationships.set_purpose(session, rel, Purpose.marketing, False, PORTAL)
        relationships.end(session, rel, PORTAL)
