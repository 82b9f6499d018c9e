"""One batch of claimed outbox rows: re-check the gate for each, send, record the result.

The check and the hand-over happen in one transaction that first locks the people's ledger
heads (FOR SHARE on PostgreSQL; the write lock on SQLite). Every withdrawal, pause and erasure
updates that head row first, so it either commits before our check sees the facts, or waits
until our message is handed over: an opt-out takes effect at its commit.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from accord.brands.models import Brand
from accord.campaigns import templating
from accord.campaigns.gate_facts import load_facts
from accord.campaigns.gate_rules import Decision, decide
from accord.campaigns.models import Campaign
from accord.consent.models import LedgerHead
from accord.core.settings import Settings
from accord.delivery import email_channel, rate, tokens
from accord.delivery.email_channel import PermanentError, Rendered, TransientError
from accord.outbox.models import OutboxMessage
from accord.people.models import ContactPoint, Person
from accord.relationships.models import Topic

MAX_ATTEMPTS = 6


def backoff(attempts: int) -> timedelta:
    return timedelta(seconds=min(3600, 15 * 2 ** max(0, attempts - 1)))


@dataclass
class Outcome:
    sent: int = 0
    skipped: int = 0
    deferred: int = 0
    failed: int = 0


def lock_heads(session: Session, people: list[uuid.UUID]) -> None:
    query = select(LedgerHead.subject_id).where(LedgerHead.subject_id.in_(people))
    query = query.order_by(LedgerHead.subject_id)
    if session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update(read=True)
    session.execute(query).all()


def addresses(session: Session, people: list[uuid.UUID], channel: str) -> dict[uuid.UUID, str]:
    """The address to use per person: the primary one if usable, else the oldest usable."""
    rows = session.execute(
        select(ContactPoint.person_id, ContactPoint.address)
        .where(
            ContactPoint.person_id.in_(people),
            ContactPoint.channel == channel,
            ContactPoint.verified_at.is_not(None),
            ContactPoint.suppressed_reason.is_(None),
        )
        .order_by(ContactPoint.is_primary.desc(), ContactPoint.created_at)
    ).all()
    found: dict[uuid.UUID, str] = {}
    for person_id, address in rows:
        found.setdefault(person_id, address)
    return found


def _content(row: OutboxMessage, campaign: Campaign | None, context: dict[str, Any]) -> Rendered:
    if campaign is not None:
        return Rendered(
            subject=templating.render(campaign.subject, context),
            text=templating.render(campaign.text_template, context),
            html=templating.render(campaign.html_template, context, html=True)
            if campaign.html_template
            else None,
        )
    payload = row.payload or {}
    return Rendered(
        subject=templating.render(payload["subject"], context),
        text=templating.render(payload["text"], context),
        html=templating.render(payload["html"], context, html=True)
        if payload.get("html")
        else None,
    )


def process(
    session: Session, settings: Settings, sender: Any, ids: list[int], now: datetime, owner: str
) -> Outcome:
    """Check and send the rows this worker still holds the lease of."""
    renew_leases(session, ids, owner, now + timedelta(seconds=settings.worker_lease_seconds))
    rows = list(
        session.scalars(
            select(OutboxMessage)
            .where(OutboxMessage.id.in_(ids), OutboxMessage.lease_owner == owner)
            .order_by(OutboxMessage.id)
        )
    )
    outcome = Outcome()
    if not rows:
        return outcome
    people = sorted({row.person_id for row in rows})
    lock_heads(session, people)
    persons = {p.id: p for p in session.scalars(select(Person).where(Person.id.in_(people)))}
    campaigns = {
        c.id: c
        for c in session.scalars(
            select(Campaign).where(Campaign.id.in_({r.campaign_id for r in rows if r.campaign_id}))
        )
    }
    brands = {
        b.id: b
        for b in session.scalars(select(Brand).where(Brand.id.in_({r.brand_id for r in rows})))
    }
    topics = {
        t.id: t
        for t in session.scalars(select(Topic).where(Topic.id.in_({r.topic_id for r in rows})))
    }
    groups: dict[tuple[uuid.UUID, uuid.UUID, str, str], list[OutboxMessage]] = {}
    for row in rows:
        groups.setdefault((row.brand_id, row.topic_id, row.purpose, row.channel), []).append(row)
    secret = settings.resolved_secret_key()
    for (brand_id, topic_id, purpose, channel), group in groups.items():
        facts = load_facts(
            session,
            brand_id=brand_id,
            purpose=purpose,
            topic_id=topic_id,
            channel=channel,
            at=now,
            people=[r.person_id for r in group],
        )
        to = addresses(session, [r.person_id for r in group], channel)
        brand = brands[brand_id]
        sendable = []
        for row in group:
            campaign = campaigns.get(row.campaign_id) if row.campaign_id else None
            decision = decide(facts[row.person_id], purpose=purpose, channel=channel, at=now)
            if not _settle_without_sending(row, campaign, decision, now, outcome):
                sendable.append(row)
        # One rate-limit round trip for the group when the window has room, else one per row.
        bulk = bool(sendable) and rate.take(
            session, brand_id, brand.send_rate_per_second, now, len(sendable)
        )
        for row in sendable:
            campaign = campaigns.get(row.campaign_id) if row.campaign_id else None
            if not bulk and not rate.take(session, brand_id, brand.send_rate_per_second, now):
                row.state, row.not_before = "queued", now + timedelta(seconds=1)
                row.attempts -= 1
                continue
            person = persons[row.person_id]
            context = templating.context_for(
                display_name=person.display_name,
                locale=person.locale,
                brand=brand,
                topic_name=topics[topic_id].name,
            )
            token = tokens.make(
                secret,
                tokens.UnsubscribeToken(row.id, row.person_id, brand_id, topic_id, row.campaign_id),
            )
            message = email_channel.build(
                settings,
                brand=brand,
                to=to[row.person_id],
                key=row.idempotency_key,
                content=_content(row, campaign, context),
                topic_name=topics[topic_id].name,
                marketing=purpose == "marketing",
                unsubscribe_token=token,
            )
            try:
                sender.send(session, message)
            except TransientError as exc:
                row.last_error = str(exc)[:2000]
                if row.attempts >= MAX_ATTEMPTS:
                    row.state, outcome.failed = "failed", outcome.failed + 1
                else:
                    row.state, row.not_before = "queued", now + backoff(row.attempts)
                continue
            except PermanentError as exc:
                row.state, row.last_error, outcome.failed = (
                    "failed",
                    str(exc)[:2000],
                    outcome.failed + 1,
                )
                continue
            row.state, row.sent_at, row.to_address, row.reason = (
                "sent",
                now,
                to[row.person_id],
                None,
            )
            row.lease_owner = row.lease_expires_at = None
            outcome.sent += 1
    session.flush()
    return outcome


def _settle_without_sending(
    row: OutboxMessage,
    campaign: Campaign | None,
    decision: Decision,
    now: datetime,
    outcome: Outcome,
) -> bool:
    """Cancelled, expired or refused by the gate: record why and do not send."""
    if campaign is not None and campaign.state == "cancelled":
        row.state, row.reason = "cancelled", "cancelled"
        return True
    if row.expires_at is not None and now >= row.expires_at:
        row.state, row.reason, outcome.skipped = "skipped", "expired", outcome.skipped + 1
        return True
    if decision.reason == "quiet_hours" and decision.defer_until is not None:
        if row.expires_at is not None and decision.defer_until >= row.expires_at:
            row.state, row.reason, outcome.skipped = "skipped", "expired", outcome.skipped + 1
        else:
            row.state, row.reason, row.not_before = "deferred", "quiet_hours", decision.defer_until
            row.attempts -= 1
            outcome.deferred += 1
        return True
    if decision.reason is not None:
        row.state, row.reason, outcome.skipped = "skipped", decision.reason, outcome.skipped + 1
        return True
    return False


def renew_leases(session: Session, ids: list[int], owner: str, until: datetime) -> None:
    """The first write of the batch transaction: on SQLite it takes the write lock up front."""
    session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.id.in_(ids), OutboxMessage.lease_owner == owner)
        .values(lease_expires_at=until)
    )
