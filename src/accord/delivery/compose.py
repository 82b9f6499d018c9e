"""What a chunk's e-mails are made of, read with a few Core queries (no ORM objects in the hot
path), and one row's e-mail rendered from its campaign's compiled templates."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from accord.brands.models import Brand
from accord.campaigns import templating
from accord.campaigns.models import Campaign
from accord.core.db import among
from accord.core.settings import Settings
from accord.delivery import email_channel, tokens
from accord.delivery.email_channel import Outgoing, Rendered
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


def _content(row: Any, campaign: Any | None, context: dict[str, Any]) -> Rendered:
    if campaign is not None:
        subject, text, html = campaign.subject, campaign.text_template, campaign.html_template
    else:  # a transactional message carries its own content
        payload = row.payload or {}
        subject, text, html = payload["subject"], payload["text"], payload.get("html")
    return Rendered(
        subject=templating.render(subject, context),
        text=templating.render(text, context),
        html=templating.render(html, context, html=True) if html else None,
    )


def email(settings: Settings, secret: str, sources: Sources, row: Any, to: str) -> Outgoing:
    """The e-mail for one outbox row, to the address the gate found usable."""
    brand = sources.brands[row.brand_id]
    person = sources.people[row.person_id]
    topic_name = sources.topics[row.topic_id]
    campaign = sources.campaigns.get(row.campaign_id) if row.campaign_id else None
    context = templating.context_for(
        display_name=person.display_name, locale=person.locale, brand=brand, topic_name=topic_name
    )
    token = tokens.make(
        secret,
        tokens.UnsubscribeToken(row.id, row.person_id, row.brand_id, row.topic_id, row.campaign_id),
    )
    return email_channel.build(
        settings,
        brand=brand,
        to=to,
        key=row.idempotency_key,
        content=_content(row, campaign, context),
        topic_name=topic_name,
        marketing=row.purpose == "marketing",
        unsubscribe_token=token,
        reply_to=(row.payload or {}).get("reply_to") if campaign is None else None,
    )
