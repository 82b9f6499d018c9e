"""Seeds the demo world. Idempotent: a second run finds everything and changes nothing."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from accord.brands import service as brands
from accord.brands.models import Brand, Member
from accord.brands.schemas import BrandCreate, MemberCreate
from accord.core.db import utcnow
from accord.core.permissions import Role
from accord.core.settings import Settings
from accord.demo import data
from accord.demo.analytics_seed import AnalyticsReport, seed_analytics
from accord.demo.campaign_seed import seed_campaigns
from accord.demo.consent_seed import seed_relationships
from accord.demo.conversation_seed import seed_conversations, seed_ideas
from accord.demo.terms_seed import seed_terms_and_intents
from accord.people import service as people
from accord.people.models import ContactPoint
from accord.people.schemas import SignUp


@dataclass
class SeedReport:
    brands_created: int = 0
    members_created: int = 0
    people_created: int = 0
    relationships_seeded: int = 0
    campaigns_seeded: int = 0
    threads_seeded: int = 0
    ideas_seeded: int = 0
    agreements_seeded: int = 0
    analytics: AnalyticsReport | None = None


def seed(session: Session, settings: Settings, *, analytics: bool = True) -> SeedReport:
    """`settings` give the instance secret (brands' signing keys) and the keys that sign the
    demo agreements. With `analytics`, Groove Records also gets the CDNOW purchase history and
    a CLV fit (see analytics_seed)."""
    report = SeedReport()
    by_slug: dict[str, Brand] = {}
    for spec in data.BRANDS:
        brand = session.scalars(select(Brand).where(Brand.slug == spec["slug"])).one_or_none()
        if brand is None:
            brand = brands.create_brand(
                session, BrandCreate.model_validate(spec), secret=settings.resolved_secret_key()
            )
            report.brands_created += 1
        by_slug[brand.slug] = brand
    for slug, local, role in data.MEMBERS:
        email = data.member_email(slug, local)
        if session.scalar(select(Member.id).where(Member.email == email)) is None:
            member = MemberCreate(
                email=email,
                display_name=f"{local.capitalize()} at {by_slug[slug].name}",
                role=Role(role),
                password=data.DEMO_PASSWORD,
            )
            brands.add_member(session, by_slug[slug].id, member)
            report.members_created += 1
    now = utcnow()
    for spec in data.people():
        if people.find_by_email(session, spec["email"]) is not None:
            continue
        person = people.create_person(session, SignUp.model_validate(spec))
        # Demo people have confirmed their address already, as if they had signed in once.
        session.execute(
            update(ContactPoint).where(ContactPoint.person_id == person.id).values(verified_at=now)
        )
        report.people_created += 1
    session.flush()
    demo_people = [people.find_by_email(session, spec["email"]) for spec in data.people()]
    report.relationships_seeded = seed_relationships(
        session, by_slug, [p for p in demo_people if p is not None]
    )
    session.flush()
    report.campaigns_seeded = seed_campaigns(session, by_slug)
    known = [p for p in demo_people if p is not None]
    report.threads_seeded = seed_conversations(session, settings, by_slug, known)
    report.ideas_seeded = seed_ideas(session, settings, by_slug, known)
    report.agreements_seeded = seed_terms_and_intents(session, settings, by_slug, known)
    if analytics:
        known = [p for p in demo_people if p is not None]
        report.analytics = seed_analytics(session, settings, by_slug["groove"], known)
    return report
