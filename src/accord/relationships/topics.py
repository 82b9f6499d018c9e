"""Brand-defined topics. Retiring one never subscribes or unsubscribes anyone."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from accord.core.db import utcnow
from accord.core.errors import Conflict
from accord.core.pagination import paginate
from accord.relationships.decisions import brand_topic
from accord.relationships.models import Topic
from accord.relationships.schemas import TopicCreate, TopicUpdate


def create(session: Session, brand_id: uuid.UUID, data: TopicCreate) -> Topic:
    taken = session.scalar(
        select(Topic.id).where(Topic.brand_id == brand_id, Topic.slug == data.slug)
    )
    if taken is not None:
        raise Conflict(f"A topic with slug '{data.slug}' exists already.", field="slug")
    topic = Topic(brand_id=brand_id, **data.model_dump(mode="json"))
    session.add(topic)
    session.flush()
    return topic


def update(session: Session, brand_id: uuid.UUID, topic_id: uuid.UUID, data: TopicUpdate) -> Topic:
    """Name and description only: a topic's purpose never changes under people who chose it."""
    topic = brand_topic(session, brand_id, topic_id)
    for name, value in data.model_dump(exclude_unset=True, exclude_none=True).items():
        setattr(topic, name, value)
    session.flush()
    return topic


def retire(session: Session, brand_id: uuid.UUID, topic_id: uuid.UUID) -> Topic:
    topic = brand_topic(session, brand_id, topic_id)
    if topic.retired_at is None:
        topic.retired_at = utcnow()
        session.flush()
    return topic


def listing(
    session: Session,
    brand_id: uuid.UUID,
    *,
    include_retired: bool = True,
    cursor: str | None = None,
    limit: int = 50,
) -> tuple[Sequence[Topic], str | None]:
    query = select(Topic).where(Topic.brand_id == brand_id)
    if not include_retired:
        query = query.where(Topic.retired_at.is_(None))
    return paginate(
        session, query, created_at=Topic.created_at, row_id=Topic.id, cursor=cursor, limit=limit
    )


def active_topics(session: Session, brand_id: uuid.UUID) -> list[Topic]:
    return list(
        session.scalars(
            select(Topic)
            .where(Topic.brand_id == brand_id, Topic.retired_at.is_(None))
            .order_by(Topic.name)
        )
    )
