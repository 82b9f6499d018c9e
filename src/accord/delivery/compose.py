"""What a chunk's messages are made of, read with a few Core queries (no ORM objects in the hot
path), and one row's `Draft` for its channel adapter: its templates, the fields they may use,
its stable message id and (marketing) its unsubscribe token."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from functools import partial
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from accord.brands.models import Brand
from accord.campaigns import service as campaigns_service
from accord.campaigns.models import Campaign
from accord.core.db import among
from accord.core.settings import Settings
from accord.delivery import email_channel, tokens
from accord.delivery.channels.base import Draft
from accord.people.models import Person
from accord.relationships.models import Topic


@dataclass(frozen=True)
class Sources:
    """The campaigns, brands, topics and people of one chunk, by id."""

    campaigns: dict[uuid.UUID, Any]
    brands: dict[uuid.UUID, Any]
    topics: dict[uuid.UUID, str]
    people: dict[uuid.UUID, Any]


def load(session: Session, rows: Iterable[Any]) -> Sources:
    rows = list(rows)
    campaign_ids = {r.campaign_id for r in rows if r.campaign_id is not None}
    campaigns = session.execute(
        select(
            Campaign.id,
            Campaign.state,
            Campaign.subject,
            Campaign.text_template,
            Campaign.html_template,
            Campaign.contents,
        ).where(Campaign.id.in_(campaign_ids))
    ).all()
    brands = session.execute(
        select(
            Brand.id,
            Brand.name,
            Brand.sender_name,
            Brand.sender_email,
            Brand.support_email,
            Brand.postal_address,
            Brand.send_rate_per_second,
        ).where(Brand.id.in_({r.brand_id for r in rows}))
    ).all()
    topics = session.execute(
        select(Topic.id, Topic.name).where(Topic.id.in_({r.topic_id for r in rows}))
    ).all()
    people = session.execute(
        select(Person.id, Person.display_name, Person.locale).where(
            among(session, Person.id, "people", sorted({r.person_id for r in rows}))
        )
    ).all()
    return Sources(
        campaigns={c.id: c for c in campaigns},
        brands={b.id: b for b in brands},
        topics={t.id: t.name for t in topics},
        people={p.id: p for p in people},
    )


def templates_of(row: Any, campaign: Any | None) -> dict[str, str | None]:
    """The message's templates: its campaign's (the row's channel's own content, if the
    campaign has some: its subject defaults to the campaign's), or (transactional) its own
    payload."""
    if campaign is not None:
        own = (campaign.contents or {}).get(row.channel)
        if own:
            return {
                "subject": own.get("subject") or campaign.subject,
                "text": own.get("text"),
                "html": own.get("html"),
            }
        return {
            "subject": campaign.subject,
            "text": campaign.text_template,
            "html": campaign.html_template,
        }
    payload = row.payload or {}
    return {name: value for name, value in payload.items() if isinstance(value, str)}


class Drafting:
    """Makes the `Draft` of each row of a chunk for its channel adapter."""

    def __init__(self, settings: Settings, sources: Sources) -> None:
        self.secret = settings.resolved_secret_key()
        self.sources = sources

    def draft(self, row: Any, address: str) -> Draft:
        sources = self.sources
        brand = sources.brands[row.brand_id]
        person = sources.people[row.person_id]
        topic_name = sources.topics[row.topic_id]
        campaign = sources.campaigns.get(row.campaign_id) if row.campaign_id else None
        context = campaigns_service.context_for(
            display_name=person.display_name,
            locale=person.locale,
            brand=brand,
            topic_name=topic_name,
        )
        templates = templates_of(row, campaign)
        token = tokens.UnsubscribeToken(
            row.id, row.person_id, row.brand_id, row.topic_id, row.campaign_id
        )
        return Draft(
            outbox_id=row.id,
            key=row.idempotency_key,
            message_id=email_channel.key_digest(row.idempotency_key),
            channel=row.channel,
            purpose=row.purpose,
            person_id=row.person_id,
            address=address,
            brand=brand,
            topic_name=topic_name,
            templates=templates,
            campaign_id=row.campaign_id,
            attempt=row.attempts,
            render=partial(_render, templates, context),
            unsubscribe_token=partial(tokens.make, self.secret, token),
        )


def _render(
    templates: dict[str, str | None], context: dict[str, Any], name: str, html: bool
) -> str | None:
    source = templates.get(name)
    if source is None:
        return None
    return campaigns_service.render(source, context, html=html)
