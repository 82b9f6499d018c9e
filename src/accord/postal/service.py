"""A postal mailing: the campaign's audience through the gate on the `postal` channel, each
eligible person's postal address (one per person) formatted for the mailing house, kept as an
export (asking again gives the same file), and a ledger event per person exported: who, when,
for which mailing, why (its topic and purpose)."""

from __future__ import annotations

import csv
import hashlib
import io
import uuid

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from accord.campaigns.models import Campaign
from accord.campaigns.service import Sending, audience_of, gate_select
from accord.consent import service as consent
from accord.consent.service import Scope
from accord.core.db import utcnow
from accord.core.errors import Conflict, NotFound
from accord.people.models import ContactPoint, Person
from accord.postal.formatting import COLUMNS, format_address
from accord.postal.models import PostalExport, PostalExportRow
from accord.relationships.models import Topic
from accord.relationships.vocabulary import Channel, Purpose

ACTION = "postal_export"


def _campaign(session: Session, brand_id: uuid.UUID, campaign_id: uuid.UUID) -> Campaign:
    campaign = session.scalars(
        select(Campaign).where(Campaign.id == campaign_id, Campaign.brand_id == brand_id)
    ).one_or_none()
    if campaign is None:
        raise NotFound("No such mailing.", field="campaign_id")
    if campaign.channel != Channel.postal.value:
        raise Conflict("Only a campaign on the postal channel is exported.", field="channel")
    return campaign


def find(session: Session, brand_id: uuid.UUID, campaign_id: uuid.UUID) -> PostalExport | None:
    _campaign(session, brand_id, campaign_id)
    return session.scalars(
        select(PostalExport).where(PostalExport.campaign_id == campaign_id)
    ).one_or_none()


def export(
    session: Session, brand_id: uuid.UUID, campaign_id: uuid.UUID, member_id: uuid.UUID | None
) -> PostalExport:
    """Export the mailing once; asking again returns the same export."""
    campaign = _campaign(session, brand_id, campaign_id)
    done = find(session, brand_id, campaign_id)
    if done is not None:
        return done
    if campaign.state == "cancelled":
        raise Conflict("This mailing was cancelled.", field="state")
    topic = session.get_one(Topic, campaign.topic_id)
    now = utcnow()
    sending = Sending(brand_id, Purpose(topic.purpose), topic.id, Channel.postal, now)
    reasons = session.execute(gate_select(session, sending, audience_of(campaign))).all()
    eligible = sorted(pid for pid, reason in reasons if reason is None)
    left_out: dict[str, int] = {}
    for _, reason in reasons:
        if reason is not None:
            left_out[reason] = left_out.get(reason, 0) + 1
    rows = _addresses(session, eligible)
    export = PostalExport(
        brand_id=brand_id,
        campaign_id=campaign.id,
        created_at=now,
        created_by_id=member_id,
        exported=len(rows),
        left_out=left_out,
        sha256=hashlib.sha256(to_csv([fields for _, fields in rows]).encode()).hexdigest(),
    )
    session.add(export)
    session.flush()
    if rows:
        session.execute(
            insert(PostalExportRow),
            [
                {"export_id": export.id, "line": n, "person_id": pid, "fields": fields}
                for n, (pid, fields) in enumerate(rows, start=1)
            ],
        )
    scope = Scope(purpose=topic.purpose, channel=Channel.postal.value, topic=topic.id)
    for pid, _ in rows:  # each person's chain records the disclosure of their address
        consent.append(
            session,
            subject=pid,
            brand=brand_id,
            action=ACTION,
            source="system",
            scope=scope,
            value={"mailing": str(campaign.id), "export": str(export.id)},
            at=now,
        )
    campaign.state, campaign.started_at, campaign.finished_at = "done", now, now
    campaign.audience_counts = {"eligible": len(rows), **left_out}
    session.flush()
    return export


def _addresses(session: Session, people: list[uuid.UUID]) -> list[tuple[uuid.UUID, list[str]]]:
    """One postal address per person (the primary, else the oldest usable), formatted."""
    if not people:
        return []
    found = session.execute(
        select(ContactPoint.person_id, ContactPoint.address, Person.display_name)
        .join(Person, Person.id == ContactPoint.person_id)
        .where(
            ContactPoint.person_id.in_(people),
            ContactPoint.channel == Channel.postal.value,
            ContactPoint.verified_at.is_not(None),
            ContactPoint.suppressed_reason.is_(None),
        )
        .order_by(ContactPoint.person_id, ContactPoint.is_primary.desc(), ContactPoint.created_at)
    ).all()
    chosen: dict[uuid.UUID, list[str]] = {}
    for pid, address, name in found:
        chosen.setdefault(pid, format_address(name or "", address))
    return [(pid, chosen[pid]) for pid in people if pid in chosen]


def rows_of(session: Session, export: PostalExport) -> list[list[str]]:
    return [
        list(fields)
        for fields in session.scalars(
            select(PostalExportRow.fields)
            .where(PostalExportRow.export_id == export.id)
            .order_by(PostalExportRow.line)
        )
    ]


def to_csv(rows: list[list[str]]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(COLUMNS)
    writer.writerows(rows)
    return out.getvalue()
