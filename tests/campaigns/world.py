"""Large consenting audiences built set-based, for delivery tests (and what they measure)."""

from __future__ import annotations

import uuid

from sqlalchemy import insert
from sqlalchemy.orm import Session

from accord.brands.models import Brand
from accord.consent.ledger import GENESIS
from accord.consent.models import LedgerHead
from accord.core.db import utcnow
from accord.people.models import ContactPoint, Person
from accord.relationships.models import (
    ChannelChoice,
    PurposeGrant,
    Relationship,
    Topic,
    TopicChoice,
)


def consenting_audience(
    session: Session, *, brand: Brand, topic: Topic, count: int, domain: str
) -> list[tuple[uuid.UUID, str]]:
    """`count` people who chose e-mail and the topic, each with a verified address and a ledger
    head (as every related person has). Returns (person id, address) pairs."""
    now = utcnow()
    people = [(uuid.uuid4(), f"p{i}@{domain}") for i in range(count)]

    def rows(make: object) -> list[dict[str, object]]:
        return [make(pid, address) for pid, address in people]  # type: ignore[operator]

    session.execute(
        insert(Person),
        rows(
            lambda p, a: {
                "id": p,
                "email": a,
                "display_name": "P",
                "time_zone": "UTC",
                "locale": "en",
                "created_at": now,
            }
        ),
    )
    session.execute(
        insert(ContactPoint),
        rows(
            lambda p, a: {
                "id": uuid.uuid4(),
                "person_id": p,
                "channel": "email",
                "address": a,
                "address_normalised": a,
                "is_primary": True,
                "verified_at": now,
                "details": {},
                "code_attempts": 0,
                "created_at": now,
            }
        ),
    )
    session.execute(
        insert(Relationship),
        rows(
            lambda p, a: {
                "id": uuid.uuid4(),
                "person_id": p,
                "brand_id": brand.id,
                "state": "active",
                "origin": "follow",
                "brand_cap": 3,
                "shared": {},
                "created_at": now,
                "updated_at": now,
            }
        ),
    )
    session.execute(
        insert(PurposeGrant),
        rows(
            lambda p, a: {
                "person_id": p,
                "brand_id": brand.id,
                "purpose": "marketing",
                "status": "granted",
                "updated_at": now,
            }
        ),
    )
    session.execute(
        insert(ChannelChoice),
        rows(
            lambda p, a: {
                "person_id": p,
                "brand_id": brand.id,
                "purpose": "marketing",
                "channel": "email",
            }
        ),
    )
    session.execute(
        insert(TopicChoice),
        rows(lambda p, a: {"person_id": p, "brand_id": brand.id, "topic_id": topic.id}),
    )
    session.execute(
        insert(LedgerHead), rows(lambda p, a: {"subject_id": p, "seq": 0, "hash": GENESIS})
    )
    return people
