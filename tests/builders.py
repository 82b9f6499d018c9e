"""Keyword-only builders for test data. Each returns the created row, flushed."""

from __future__ import annotations

import itertools
from pathlib import Path
from typing import Any

from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from accord.brands import service as brands
from accord.brands.models import ApiKey, Brand, Member
from accord.brands.schemas import ApiKeyCreate, BrandCreate, MemberCreate
from accord.core.db import utcnow
from accord.core.permissions import Role
from accord.core.settings import Settings
from accord.people import service as people
from accord.people.models import Person
from accord.people.schemas import SignUp
from accord.relationships import decisions, topics
from accord.relationships.models import Relationship, Topic
from accord.relationships.schemas import TopicCreate
from accord.relationships.vocabulary import Channel, Purpose

_seq = itertools.count(1)
PASSWORD = "correct horse battery staple"
# The instance secret of the test settings (tests/conftest.py): brands' signing keys are
# wrapped under it, so the app under test can unwrap them.
TEST_SECRET = "test-secret-key-not-for-production"


def make_settings(*, engine: Engine, tmp_path: Path, **overrides: Any) -> Settings:
    """Settings for an app on `engine` in a test's own folder, with `overrides`."""
    return Settings(
        var_dir=tmp_path / "var",
        database_url=engine.url.render_as_string(hide_password=False),
        secret_key=TEST_SECRET,  # type: ignore[arg-type]
        base_url="http://testserver",
        auth_answer_floor_ms=0,  # the padding has its own test; the rest need no wait
        **overrides,
    )


def make_brand(session: Session, *, slug: str | None = None, name: str | None = None) -> Brand:
    n = next(_seq)
    slug = slug or f"brand-{n}"
    return brands.create_brand(
        session,
        BrandCreate(
            name=name or f"Brand {n}",
            slug=slug,
            sender_name=name or f"Brand {n}",
            sender_email=f"news@{slug}.example",
            support_email=f"help@{slug}.example",
            postal_address="1 Test Street, Testville",
        ),
        secret=TEST_SECRET,
    )


def make_member(
    session: Session,
    *,
    brand: Brand,
    role: Role = Role.owner,
    email: str | None = None,
    password: str | None = PASSWORD,
) -> Member:
    return brands.add_member(
        session,
        brand.id,
        MemberCreate(
            email=email or f"member{next(_seq)}@{brand.slug}.example", role=role, password=password
        ),
    )


def make_api_key(
    session: Session, *, brand: Brand, role: Role = Role.owner, name: str = "test key"
) -> tuple[ApiKey, str]:
    return brands.create_api_key(
        session, brand.id, ApiKeyCreate(name=name, role=role), created_by=None
    )


def make_person(
    session: Session,
    *,
    email: str | None = None,
    time_zone: str = "UTC",
    display_name: str = "",
    verified: bool = True,
) -> Person:
    person = people.create_person(
        session,
        SignUp(
            email=email or f"person{next(_seq)}@people.example",
            time_zone=time_zone,
            display_name=display_name,
        ),
    )
    if verified:
        for point in people.contact_points(session, person.id):
            point.verified_at = utcnow()
        session.flush()
    return person


def make_topic(
    session: Session,
    *,
    brand: Brand,
    slug: str | None = None,
    purpose: str = "marketing",
    name: str | None = None,
) -> Topic:
    n = next(_seq)
    return topics.create(
        session,
        brand.id,
        TopicCreate(
            slug=slug or f"topic-{n}",
            name=name or f"Topic {n}",
            description="What this topic is about, in plain words.",
            purpose=Purpose(purpose),
        ),
    )


def make_relationship(
    session: Session,
    *,
    person: Person,
    brand: Brand,
    marketing: bool = False,
    channels: tuple[str, ...] = (),
    topics_on: tuple[Topic, ...] = (),
) -> Relationship:
    """An active relationship with the given grants, made through the real decision functions."""
    rel = decisions.start(session, person.id, brand.id, decisions.PORTAL)
    if marketing:
        decisions.set_purpose(session, rel, Purpose.marketing, True, decisions.PORTAL)
    for channel in channels:
        decisions.set_channel(
            session, rel, Purpose.marketing, Channel(channel), True, decisions.PORTAL
        )
    for topic in topics_on:
        decisions.set_topic(session, rel, topic.id, True, decisions.PORTAL)
    return rel
