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

from sqlalchemy import Uuid, bindparam, literal, select
from sqlalchemy.orm import Session

from accord.brands.models import Brand
from accord.campaigns import service as campaigns
from accord.campaigns.models import Campaign
from accord.core.direct import Direct
from accord.core.errors import NotFound
from accord.outbox.models import OutboxMessage
from accord.people import service as people
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
def _sent_statement(limit: int) -> Direct:
    """The read of `sent_to`, built once a limit (the relationship page runs it on every view)
    and run on the cursor (`core.direct`; the states as constants, not a list SQLAlchemy
    expands): the person and the brand are bound at execution."""
    return Direct(
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
            OutboxMessage.state.in_([literal(state) for state in HANDED]),
        )
        .order_by(OutboxMessage.sent_at.desc(), OutboxMessage.id.desc())
        .limit(limit)
    )


# What a subject's template says of the person and the brand (`campaigns.context_for`), and the
# zone the times show in: only the columns, read when there is a message to show.
_BRAND = Direct(
    select(Brand.name, Brand.support_email, Brand.postal_address).where(
        Brand.id == bindparam("brand", type_=Uuid())
    )
)


def sent_to(
    session: Session, person_id: uuid.UUID, brand_id: uuid.UUID, *, limit: int = LIMIT
) -> list[SentMessage]:
    """The last `limit` messages `brand_id` sent `person_id` (handed to a channel), newest
    first."""
    return _sent(session, person_id, brand_id, limit)[0]


def _sent(
    session: Session, person_id: uuid.UUID, brand_id: uuid.UUID, limit: int
) -> tuple[list[SentMessage], Any]:
    """`sent_to`'s messages, and the person's row when there are any (else None)."""
    rows = _sent_statement(limit).all(session, person=person_id, brand=brand_id)
    if not rows:
        return [], None
    person = people.shown(session, person_id)
    brand = _BRAND.first(session, brand=brand_id)
    if person is None or brand is None:
        raise NotFound("No such person or brand.")
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
    return found, person


def _subject(source: str, context: dict[str, object]) -> str:
    try:
        return campaigns.render(source, context)
    except Exception:  # a brand's template must never break the person's page
        return source


def panel(session: Session, person_id: uuid.UUID, brand_id: uuid.UUID | None) -> dict[str, object]:
    """The relationship page's "what this brand sent you" section, times in the person's zone."""
    if brand_id is None:
        return {"sent": []}
    sent, person = _sent(session, person_id, brand_id, LIMIT)
    if not sent:
        return {"sent": []}
    zone = ZoneInfo(person.time_zone)
    return {"sent": [(f"{m.sent_at.astimezone(zone).strftime('%Y-%m-%d %H:%M')}", m) for m in sent]}
