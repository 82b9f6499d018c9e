"""Transactional messages to one person, through the same outbox and gate as campaigns."""

from __future__ import annotations

import uuid

from sqlalchemy import select
from sqlalchemy.orm import Session

from accord.brands.models import Brand
from accord.campaigns import templating
from accord.campaigns.schemas import MessageCreate
from accord.core.db import insert_or_ignore, utcnow
from accord.core.errors import InvalidInput, NotFound
from accord.outbox.models import OutboxMessage
from accord.people.models import Person
from accord.relationships import service as relationships


def enqueue(
    session: Session, brand_id: uuid.UUID, data: MessageCreate, *, idempotency_key: str
) -> OutboxMessage:
    """Queue one message. Its purpose is the topic's, never the caller's say-so; the same
    Idempotency-Key yields the same single message."""
    topic = relationships.brand_topic(session, brand_id, data.topic_id)
    if topic.purpose != "transactional":
        raise InvalidInput(
            f"Topic '{topic.slug}' is for {topic.purpose}: send it as a campaign, which the "
            "person's marketing choices govern.",
            field="topic_id",
        )
    if topic.retired_at is not None:
        raise InvalidInput("This topic is retired.", field="topic_id")
    if relationships.find(session, data.person_id, brand_id) is None:
        raise NotFound("No such person.", field="person_id")
    person = session.get_one(Person, data.person_id)
    brand = session.get_one(Brand, brand_id)
    samples = [
        templating.context_for(
            display_name=person.display_name,
            locale=person.locale,
            brand=brand,
            topic_name=topic.name,
        ),
        *templating.synthetic_contexts(brand, topic.name),
    ]
    for field, source in (("subject", data.subject), ("text", data.text), ("html", data.html)):
        if source is not None:
            templating.check(source, field=field, samples=samples)
    key = f"m:{brand_id.hex}:{idempotency_key}:{data.person_id.hex}:email"
    insert_or_ignore(
        session,
        OutboxMessage,
        {
            "brand_id": brand_id,
            "person_id": data.person_id,
            "topic_id": topic.id,
            "channel": "email",
            "purpose": "transactional",
            "idempotency_key": key,
            "state": "queued",
            "not_before": utcnow(),
            "attempts": 0,
            "payload": {"subject": data.subject, "text": data.text, "html": data.html},
            "created_at": utcnow(),
        },
    )
    return session.scalars(select(OutboxMessage).where(OutboxMessage.idempotency_key == key)).one()
