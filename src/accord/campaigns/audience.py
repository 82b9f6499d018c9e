"""Who a campaign is for, as a SELECT of person ids (never a Python list of everyone)."""

from __future__ import annotations

import json
import uuid
from collections.abc import Hashable
from datetime import date, datetime, time
from typing import Any

from sqlalchemy import Select, select
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement

from accord.analytics.service import segment_people
from accord.campaigns.gate_sql import Related, zones_in_use
from accord.campaigns.models import Campaign
from accord.core.dates import zone_info
from accord.ideas import service as ideas
from accord.people.models import ContactPoint, Person
from accord.relationships.models import Relationship


def audience_of(campaign: Campaign) -> Select[Any] | Related:
    """The campaign's audience as the gate takes it: the brand's relationships that meet some
    conditions (every kind but a segment), or a SELECT of person ids (a segment)."""
    if campaign.audience_kind == "segment":
        # Customers in an RFM segment who are linked to a person; the gate still checks each.
        return segment_people(campaign.brand_id, str(campaign.audience.get("segment")))
    if campaign.audience_kind == "idea_voters":
        # "Voted for this idea": only voters who granted profiling; the gate checks each.
        return ideas.voted_for(campaign.brand_id, uuid.UUID(str(campaign.audience["idea_id"])))
    brand_id = campaign.brand_id
    people = [uuid.UUID(str(p)) for p in campaign.audience.get("people", [])]
    shared = dict(campaign.audience.get("filter", {}))
    kind = campaign.audience_kind

    def where(rel: Any) -> list[ColumnElement[bool]]:
        conditions = [rel.brand_id == brand_id]
        if kind == "people":
            # Only people related to the brand: a list must not reveal whether an id exists.
            conditions.append(rel.person_id.in_(people))
        elif kind == "filter":
            conditions += [rel.shared[key].as_string() == value for key, value in shared.items()]
        return conditions

    return Related(where)


def audience_key(campaign: Campaign) -> tuple[Hashable, ...]:
    """All `audience_of(campaign)` depends on: campaigns with equal keys have the same SELECT."""
    described = json.dumps(campaign.audience or {}, sort_keys=True, default=str)
    return (campaign.brand_id, campaign.audience_kind, described)


def audience_select(campaign: Campaign) -> Select[Any]:
    """The campaign's audience as a SELECT of person ids."""
    audience = audience_of(campaign)
    if isinstance(audience, Select):
        return audience
    # The Core table, not the ORM entity: statements over it then run (and hand back rows)
    # without the ORM's per-row work.
    rel = Relationship.__table__.c
    return select(rel.person_id).where(*audience.where(rel))


def local_instants(session: Session, campaign: Campaign) -> dict[str, datetime]:
    """For a local-time schedule: the UTC instant of local_date local_time in each zone in use."""
    assert campaign.local_date is not None and campaign.local_time is not None
    day = date.fromisoformat(campaign.local_date)
    hour, minute = (int(x) for x in campaign.local_time.split(":"))
    zones, utc = zones_in_use(session), zone_info("UTC")
    moment = time(hour, minute)
    return {zone: datetime.combine(day, moment, zone_info(zone)).astimezone(utc) for zone in zones}


def people_by_email(
    session: Session, brand_id: uuid.UUID, addresses: list[str]
) -> dict[str, uuid.UUID]:
    """The brand's related people who have these e-mail addresses (account or contact point):
    nobody else, so a list of addresses cannot find out who uses Accord."""
    wanted = sorted({a.strip().lower() for a in addresses})
    if not wanted:
        return {}
    account = (
        select(Person.email, Person.id)
        .join(Relationship, Relationship.person_id == Person.id)
        .where(Relationship.brand_id == brand_id, Person.email.in_(wanted))
    )
    points = (
        select(ContactPoint.address_normalised, ContactPoint.person_id)
        .join(Relationship, Relationship.person_id == ContactPoint.person_id)
        .where(
            Relationship.brand_id == brand_id,
            ContactPoint.channel == "email",
            ContactPoint.address_normalised.in_(wanted),
        )
    )
    found: dict[str, uuid.UUID] = {}
    for address, person_id in [*session.execute(account), *session.execute(points)]:
        found.setdefault(str(address).lower(), person_id)
    return found


def emails_of(session: Session, brand_id: uuid.UUID, people: list[str]) -> dict[str, str]:
    """person id (as text) -> the account e-mail address, for the brand's related people."""
    ids = [uuid.UUID(p) for p in people]
    if not ids:
        return {}
    rows = session.execute(
        select(Person.id, Person.email)
        .join(Relationship, Relationship.person_id == Person.id)
        .where(Relationship.brand_id == brand_id, Person.id.in_(ids))
    )
    return {str(person_id): email for person_id, email in rows}


def related_person(session: Session, brand_id: uuid.UUID, address: str) -> Person | None:
    """The brand's related person with this e-mail address, to preview a message as them."""
    found = people_by_email(session, brand_id, [address])
    person_id = next(iter(found.values()), None)
    return None if person_id is None else session.get(Person, person_id)
