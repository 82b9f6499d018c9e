"""Demo campaigns: per brand one already sent, one scheduled for next week, one draft; an
order confirmation for Ada, so that people's pages show both kinds of message; and Groove's
saved segments.

Campaigns are known by name per brand, messages by their idempotency key: a second run adds
nothing. The sent campaign is resolved into the outbox here (its audience counted by reason);
`accord demo` then runs the real delivery worker once, so the messages land in the dev mailbox.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from accord.brands.models import Brand, Member
from accord.campaigns import service as campaigns
from accord.campaigns.models import Campaign
from accord.campaigns.schemas import CampaignCreate, MessageCreate
from accord.core.db import utcnow
from accord.demo import data
from accord.people import service as people
from accord.relationships.models import Relationship, Topic

# slug -> (marketing topic, [(name, state, subject, text)]), state: sent, scheduled or draft.
CAMPAIGNS: dict[str, tuple[str, list[tuple[str, str, str, str]]]] = {
    "groove": (
        "new-releases",
        [
            (
                "This week's new releases",
                "sent",
                "{{ person.first_name }}, this week's new releases",
                "Hello {{ person.first_name }},\n\nIn {{ topic.name }} at {{ brand.name }}: "
                "a remastered Blue Note box, two Nordic jazz debuts and a Bristol dub classic "
                "back on vinyl.\n\nSee you in the shop!",
            ),
            (
                "Record Store Day preview",
                "scheduled",
                "Record Store Day at {{ brand.name }}",
                "Hi {{ person.first_name }}, our Record Store Day list is out next week.",
            ),
            (
                "Summer sale",
                "draft",
                "Summer sale, {{ person.first_name }}",
                "Up to 30% off selected vinyl at {{ brand.name }}.",
            ),
        ],
    ),
    "velo": (
        "workshop-offers",
        [
            (
                "Spring service check",
                "sent",
                "Spring check for your bike, {{ person.first_name }}",
                "Hallo {{ person.first_name }},\n\nOur workshop checks brakes, gears and tyres "
                "for a fixed price this month. Book at {{ brand.support_email }}.",
            ),
            (
                "Winter tyres",
                "scheduled",
                "Winter tyres are in",
                "Hi {{ person.first_name }}, studded and all-season tyres are in stock.",
            ),
            (
                "E-bike test days",
                "draft",
                "Test an e-bike this weekend",
                "Come by {{ brand.name }} and ride one of our e-bikes for a day.",
            ),
        ],
    ),
    "fernwood": (
        "new-roasts",
        [
            (
                "Autumn single origins",
                "sent",
                "New roasts for you, {{ person.first_name }}",
                "Hi {{ person.first_name }},\n\nTwo new single origins from Ethiopia and "
                "Colombia just left the roaster.",
            ),
            (
                "Holiday blend",
                "scheduled",
                "The holiday blend is back",
                "Hi {{ person.first_name }}, our holiday blend returns next week.",
            ),
            (
                "Brewing class",
                "draft",
                "Learn to brew, {{ person.first_name }}",
                "A one-hour pour-over class at {{ brand.name }}.",
            ),
        ],
    ),
}
# One transactional message per brand to the first demo person (Ada), if related.
ORDERS = {
    "groove": ("order-updates", "Your order 1042 has shipped", "Two LPs are on their way."),
    "velo": (
        "service-reminders",
        "Your bike is due for its check",
        "It has been a year since its last service. Reply to book a slot.",
    ),
}


def _topic(session: Session, brand: Brand, slug: str) -> Topic:
    return session.scalars(
        select(Topic).where(Topic.brand_id == brand.id, Topic.slug == slug)
    ).one()


def _body(topic: Topic, name: str, state: str, subject: str, text: str) -> CampaignCreate:
    schedule: dict[str, Any] = {"kind": "now"}
    if state == "scheduled":
        next_week = (utcnow() + timedelta(days=7)).date().isoformat()
        schedule = {"kind": "local", "local_date": next_week, "local_time": "09:30"}
    html = "".join(f"<p>{part}</p>" for part in text.split("\n\n"))
    return CampaignCreate.model_validate(
        {
            "name": name,
            "topic_id": topic.id,
            "subject": subject,
            "text": text,
            "html": html,
            "schedule": schedule,
        }
    )


def seed_campaigns(session: Session, brands: dict[str, Brand]) -> int:
    """Create the demo campaigns that are missing; returns how many were created."""
    created = 0
    for slug, (topic_slug, specs) in CAMPAIGNS.items():
        brand = brands[slug]
        topic = _topic(session, brand, topic_slug)
        marketer = session.scalar(
            select(Member.id).where(Member.email == data.member_email(slug, "marketing"))
        )
        existing = set(session.scalars(select(Campaign.name).where(Campaign.brand_id == brand.id)))
        for name, state, subject, text in specs:
            if name in existing:
                continue
            campaign = campaigns.create(
                session, brand.id, _body(topic, name, state, subject, text), member_id=marketer
            )
            if state in ("sent", "scheduled"):
                campaigns.send(session, campaign)
            if state == "sent":
                # What the worker does when the campaign falls due: the audience, by reason,
                # into the outbox. `accord demo` then delivers it through the worker.
                campaigns.resolve(session, campaign, campaign.send_at or utcnow())
            created += 1
    _orders(session, brands)
    _segments(session, brands)
    return created


# Groove's saved audiences (RFM segments of its customers), offered in the composer and listed
# on the console's saved segments page.
SEGMENTS = {"groove": [("Best customers", "champions"), ("Slipping away", "at_risk")]}


def _segments(session: Session, brands: dict[str, Brand]) -> None:
    for slug, specs in SEGMENTS.items():
        brand = brands[slug]
        have = {s.name for s in campaigns.saved_segments.listing(session, brand.id)}
        for name, segment in specs:
            if name not in have:
                campaigns.saved_segments.save(
                    session, brand.id, name, {"kind": "segment", "segment": segment}
                )


def _orders(session: Session, brands: dict[str, Brand]) -> None:
    person = people.find_by_email(session, data.people()[0]["email"])
    if person is None:
        return
    ada = person.id
    for slug, (topic_slug, subject, text) in ORDERS.items():
        brand = brands[slug]
        related = session.scalar(
            select(Relationship.id).where(
                Relationship.person_id == ada, Relationship.brand_id == brand.id
            )
        )
        if related is None:
            continue
        topic = _topic(session, brand, topic_slug)
        body = MessageCreate(topic_id=topic.id, person_id=ada, subject=subject, text=text)
        campaigns.enqueue(session, brand.id, body, idempotency_key=f"demo-{slug}-order")
