"""Linking a brand's customers to the people they are, by verified e-mail address.

Only people with a relationship with the brand are ever matched, so an import cannot find
out who else uses Accord; only verified addresses count, so nobody can claim someone else's
purchase history by adding their address.
"""

from __future__ import annotations

import json
import uuid

from sqlalchemy import and_, bindparam, func, select, update
from sqlalchemy.orm import Session

from accord.analytics.models import Customer
from accord.core.db import rowcount
from accord.people.models import ContactPoint
from accord.relationships.models import Relationship


def link_sqlite(session: Session, brand_id: uuid.UUID, pairs: list[list[str]]) -> None:
    """Link the customers of [external id, address] pairs (one chunk of an import, SQLite;
    PostgreSQL does the same from its staging table in writer._write_postgres)."""
    if not pairs:
        return
    table = func.json_each(bindparam("pairs", json.dumps(pairs))).table_valued("value")
    external = func.json_extract(table.c.value, "$[0]")
    address = func.json_extract(table.c.value, "$[1]")
    match = (
        select(ContactPoint.person_id)
        .select_from(table)
        .join(ContactPoint, ContactPoint.address_normalised == address)
        .join(
            Relationship,
            and_(
                Relationship.person_id == ContactPoint.person_id, Relationship.brand_id == brand_id
            ),
        )
        .where(
            external == Customer.external_id,
            ContactPoint.channel == "email",
            ContactPoint.verified_at.is_not(None),
        )
        .order_by(ContactPoint.person_id)
        .limit(1)
        .scalar_subquery()
    )
    session.execute(
        update(Customer)
        .where(
            Customer.brand_id == brand_id,
            Customer.person_id.is_(None),
            Customer.external_id.in_(select(external).select_from(table)),
        )
        .values(person_id=match),
        execution_options={"synchronize_session": False},
    )


def link_customers(session: Session, brand_id: uuid.UUID) -> int:
    """Link every unlinked customer whose external id is a verified e-mail address of a person
    related to the brand (e.g. someone who followed the brand after their purchases were
    imported). Returns how many customers were linked. One statement on either backend."""
    address = func.lower(func.trim(Customer.external_id))
    match = (
        select(ContactPoint.person_id)
        .join(
            Relationship,
            and_(
                Relationship.person_id == ContactPoint.person_id, Relationship.brand_id == brand_id
            ),
        )
        .where(
            ContactPoint.channel == "email",
            ContactPoint.verified_at.is_not(None),
            ContactPoint.address_normalised == address,
        )
        .order_by(ContactPoint.person_id)
        .limit(1)
        .scalar_subquery()
    )
    result = session.execute(
        update(Customer)
        .where(
            Customer.brand_id == brand_id,
            Customer.person_id.is_(None),
            Customer.external_id.contains("@"),
            match.is_not(None),
        )
        .values(person_id=match),
        execution_options={"synchronize_session": False},
    )
    return rowcount(result)
