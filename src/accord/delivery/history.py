"""What a brand has sent one person: the messages handed to a channel, newest first.

A campaign message shows the campaign's subject rendered for that person, as it was sent; a
transactional message shows its own subject. A text has no subject: it shows its text. A
message a receipt has moved on (delivered, or not delivered after all) is still one the brand
sent, and shows that state.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Uuid, bindparam, select
from sqlalchemy.orm import Session

from accord.brands.models import Brand
from accord.campaigns import service as campaigns
from accord.campaigns.models import Campaign
from accord.outbox.models import OutboxMessage
from accord.people.models import Person
from accord.relationships.models import Topic

LIMIT = 50
# Handed to a channel: sent, and what a delivery receipt may have moved it on to.
HANDED = ("sent", "delivered", "undelivered")


@dataclass(frozen=True)
class SentMessage:
    sent_at: datetime
    subject: str
    channel: str
    state: str
    purpose: str
    topic: str


@cache
def _sent_statement(limit: int) -> Any:
    """The read of `sent_to`, built once a limit (the relationship page runs it on every view):
    the person and the brand are bound at execution."""
    return (
        select(
            OutboxMessage.sent_at,
            OutboxMessage.created_at,
            OutboxMessage.channel,
            OutboxMessage.state,
            OutboxMessage.purpose,
            OutboxMessage.payload,
            Campaign.subject,
            Campaign.text_template,
            Topic.name,
        )
        .outerjoin(Campaign, Campaign.id == OutboxMessage.campaign_id)
        .join(Topic, Topic.id == OutboxMessage.topic_id)
        .where(
            OutboxMessage.person_id == bindparam("person", type_=Uuid()),
            OutboxMessage.brand_id == bindparam("brand", type_=Uuid()),
            OutboxMessage.state.in_(HANDED),
        )
        .order_by(OutboxMessage.sent_at.desc(), OutboxMessage.id.desc())
        .limit(limit)
    )


def sent_to(
    session: Session, person_id: uuid.UUID, brand_id: uuid.UUID, *, limit: int = LIMIT
) -> list[SentMessage]:
    """The last `limit` messages `brand_id` sent `person_id` (handed to a channel), newest
    first."""
    rows = session.execute(_sent_statement(limit), {"person": person_id, "brand": brand_id}).all()
    if not rows:
        return []
    person = session.get_one(Person, person_id)
    brand = session.get_one(Brand, brand_id)
    found = []
    for sent_at, created_at, channel, state, purpose, payload, subject, text, topic in rows:
        source = subject if subject is not None else (payload or {}).get("subject")
        if channel == "sms":  # a text has no subject: its text, as the person got it
            source = text if text is not None else (payload or {}).get("text")
        context = campaigns.context_for(
            display_name=person.display_name, locale=person.locale, brand=brand, topic_name=topic
        )
        found.append(
            SentMessage(
                sent_at=sent_at or created_at,
                subject=_subject(str(source or ""), context),
                channel=channel,
                state=state,
                purpose=purpose,
                topic=topic,
            )
        )
    return found


def _subject(source: str, context: dict[str, object]) -> str:
    try:
        return campaigns.render(source, context)
    except Exception:  # a brand's template must never break the person's page
        return source


def panel(session: Session, person_id: uuid.UUID, brand_id: uuid.UUID | None) -> dict[str, object]:
    """The relationship page's "what this brand sent you" section, times in the person's zone."""
    if brand_id is None:
        return {"sent": []}
    zone = ZoneInfo(session.get_one(Person, person_id).time_zone)
    return {
        "sent": [
            (f"{m.sent_at.astimezone(zone).strftime('%Y-%m-%d %H:%M')}", m)
            for m in sent_to(session, person_id, brand_id)
        ]
    }
