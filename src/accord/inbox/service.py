"""The in-app inbox: delivering items (the `inapp` channel's hand-over), a person's inbox with
its unread count, read and archive, person-scoped tokens for a brand's own app, read rates."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from sqlalchemy import Select, and_, bindparam, case, func, insert, select, update
from sqlalchemy.orm import Session

from accord.brands.models import Brand
from accord.campaigns.models import Campaign
from accord.core.db import utcnow
from accord.core.errors import InvalidInput, NotAuthenticated, NotFound
from accord.core.pagination import paginate
from accord.core.prepared import Prepared
from accord.core.settings import Settings
from accord.inbox.models import InboxItem
from accord.relationships.models import Relationship
from accord.webhooks import service as webhooks
from accord.webhooks.service import MESSAGE_READ

TOKEN_SALT = "accord.inbox.person-token"
MAX_TOKEN_MINUTES = 24 * 60
UNREAD, ALL, ARCHIVED = "unread", "all", "archived"


@dataclass(frozen=True)
class Delivery:
    """One in-app message to hand over: the outbox row's id makes it idempotent."""

    message_id: int | None
    brand_id: uuid.UUID
    person_id: uuid.UUID
    campaign_id: uuid.UUID | None
    topic_id: uuid.UUID | None
    title: str
    body: str
    url: str | None = None


def deliver(session: Session, deliveries: Sequence[Delivery]) -> int:
    """Put the messages in their inboxes, in one statement; an outbox row already delivered
    (a retried hand-over) adds nothing. Returns how many new items were written."""
    if not deliveries:
        return 0
    ids = [d.message_id for d in deliveries if d.message_id is not None]
    there = set(
        session.scalars(select(InboxItem.message_id).where(InboxItem.message_id.in_(ids)))
        if ids
        else []
    )
    now = utcnow()
    rows = [
        {
            "id": uuid.uuid4(),
            "created_at": now,
            "brand_id": d.brand_id,
            "person_id": d.person_id,
            "message_id": d.message_id,
            "campaign_id": d.campaign_id,
            "topic_id": d.topic_id,
            "title": d.title[:300],
            "body": d.body,
            "url": d.url if d.url and d.url.startswith(("https://", "http://")) else None,
        }
        for d in deliveries
        if d.message_id is None or d.message_id not in there
    ]
    if rows:
        session.execute(insert(InboxItem), rows)
    return len(rows)


def _mine(person_id: uuid.UUID, brand_id: uuid.UUID | None) -> list[Any]:
    where = [InboxItem.person_id == person_id]
    if brand_id is not None:
        where.append(InboxItem.brand_id == brand_id)
    return where


def _shown(query: Select[Any], show: str) -> Select[Any]:
    if show == ARCHIVED:
        return query.where(InboxItem.archived_at.is_not(None))
    query = query.where(InboxItem.archived_at.is_(None))
    return query.where(InboxItem.read_at.is_(None)) if show == UNREAD else query


def items(
    session: Session,
    person_id: uuid.UUID,
    *,
    brand_id: uuid.UUID | None = None,
    show: str = ALL,
    cursor: str | None = None,
    limit: int = 50,
) -> tuple[Sequence[InboxItem], str | None]:
    """A page of the person's inbox (one brand's part of it, for a brand's app), newest first."""
    if show not in (UNREAD, ALL, ARCHIVED):
        raise InvalidInput("show is one of unread, all, archived.", field="show")
    query = _shown(select(InboxItem).where(*_mine(person_id, brand_id)), show)
    return paginate(
        session,
        query,
        created_at=InboxItem.created_at,
        row_id=InboxItem.id,
        cursor=cursor,
        limit=limit,
    )


def brand_names(session: Session, brand_ids: set[uuid.UUID]) -> dict[uuid.UUID, str]:
    if not brand_ids:
        return {}
    return dict(session.execute(select(Brand.id, Brand.name).where(Brand.id.in_(brand_ids))).all())


def campaign_names(
    session: Session, brand_id: uuid.UUID, ids: set[uuid.UUID | None]
) -> dict[uuid.UUID, str]:
    wanted = [i for i in ids if i is not None]
    if not wanted:
        return {}
    query = select(Campaign.id, Campaign.name).where(
        Campaign.brand_id == brand_id, Campaign.id.in_(wanted)
    )
    return {row.id: row.name for row in session.execute(query)}


# The person's navigation shows it on every page: prepared once (core.prepared).
_UNREAD = Prepared(
    select(func.count().label("n")).where(
        InboxItem.person_id == bindparam("person_id"),
        InboxItem.read_at.is_(None),
        InboxItem.archived_at.is_(None),
    )
)


def unread_count(session: Session, person_id: uuid.UUID, brand_id: uuid.UUID | None = None) -> int:
    if brand_id is None:
        session.flush()  # what the ORM's autoflush would do: an item just read counts as read
        row = _UNREAD.first(session, person_id=person_id)
        return 0 if row is None else int(row.n or 0)
    return int(
        session.scalar(
            select(func.count()).where(
                *_mine(person_id, brand_id),
                InboxItem.read_at.is_(None),
                InboxItem.archived_at.is_(None),
            )
        )
        or 0
    )


def get(
    session: Session, person_id: uuid.UUID, item_id: uuid.UUID, brand_id: uuid.UUID | None = None
) -> InboxItem:
    item = session.scalars(
        select(InboxItem).where(InboxItem.id == item_id, *_mine(person_id, brand_id))
    ).one_or_none()
    if item is None:
        raise NotFound("No such message in this inbox.", field="item")
    return item


def mark(
    session: Session,
    person_id: uuid.UUID,
    item_id: uuid.UUID,
    *,
    read: bool | None = None,
    archived: bool | None = None,
    brand_id: uuid.UUID | None = None,
) -> InboxItem:
    """Mark read or unread, archive or bring back. Reading keeps the first moment it was read."""
    item = get(session, person_id, item_id, brand_id)
    now = utcnow()
    was_read = item.read_at is not None
    if read is not None:
        item.read_at = (item.read_at or now) if read else None
    if archived is not None:
        item.archived_at = (item.archived_at or now) if archived else None
        if archived:
            item.read_at = item.read_at or now
    if item.read_at is not None and not was_read:
        _tell_read(session, item)
    session.flush()
    return item


def _tell_read(session: Session, item: InboxItem) -> None:
    """The brand's systems hear of the first read (webhook `message.read`), once per item."""
    webhooks.emit(
        session,
        item.brand_id,
        MESSAGE_READ.name,
        {
            "channel": "inapp",
            "person_id": str(item.person_id),
            "inbox_item_id": str(item.id),
            "outbox_id": item.message_id,
            "campaign_id": str(item.campaign_id) if item.campaign_id else None,
        },
        event_id=f"msg_read_{item.id.hex}",
    )


def mark_all_read(session: Session, person_id: uuid.UUID, brand_id: uuid.UUID | None = None) -> int:
    result = session.execute(
        update(InboxItem)
        .where(*_mine(person_id, brand_id), InboxItem.read_at.is_(None))
        .values(read_at=utcnow())
    )
    return int(getattr(result, "rowcount", 0) or 0)


# A brand's own app shows the person's inbox (its part) with a token its backend asks for.


def _serializer(settings: Settings) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(settings.resolved_secret_key(), salt=TOKEN_SALT)


def issue_token(
    session: Session, settings: Settings, brand_id: uuid.UUID, person_id: uuid.UUID, minutes: int
) -> tuple[str, datetime]:
    """A token for one person's inbox at one brand. Only for a person related to the brand:
    anyone else is 404, as if they did not exist (they may, elsewhere)."""
    related = session.scalar(
        select(Relationship.id).where(
            Relationship.brand_id == brand_id,
            Relationship.person_id == person_id,
            Relationship.state != "invited",
        )
    )
    if related is None:
        raise NotFound("No person with this id is related to your brand.", field="person_id")
    if not 1 <= minutes <= MAX_TOKEN_MINUTES:
        raise InvalidInput(f"minutes is between 1 and {MAX_TOKEN_MINUTES}.", field="minutes")
    token = _serializer(settings).dumps({"b": str(brand_id), "p": str(person_id), "m": minutes})
    return token, utcnow() + timedelta(minutes=minutes)


def read_token(settings: Settings, token: str) -> tuple[uuid.UUID, uuid.UUID]:
    """(brand, person) of a valid, unexpired inbox token; 401 otherwise."""
    serializer = _serializer(settings)
    try:
        claims, issued = serializer.loads(
            token, max_age=MAX_TOKEN_MINUTES * 60, return_timestamp=True
        )
        if utcnow() - issued > timedelta(minutes=int(claims["m"])):
            raise SignatureExpired("expired")
        return uuid.UUID(claims["b"]), uuid.UUID(claims["p"])
    except SignatureExpired:
        raise NotAuthenticated("This inbox token has expired; ask for a new one.") from None
    except (BadSignature, KeyError, ValueError, TypeError):
        raise NotAuthenticated("This is not an inbox token Accord gave out.") from None


# What the brand sees: per campaign, how many in-app messages were delivered, read, archived.


@dataclass(frozen=True)
class ReadRate:
    campaign_id: uuid.UUID | None
    delivered: int
    read: int
    archived: int

    @property
    def rate(self) -> float:
        return self.read / self.delivered if self.delivered else 0.0


def read_rates(
    session: Session, brand_id: uuid.UUID, campaign_id: uuid.UUID | None = None
) -> list[ReadRate]:
    where = [InboxItem.brand_id == brand_id]
    if campaign_id is not None:
        where.append(InboxItem.campaign_id == campaign_id)
    rows = session.execute(
        select(
            InboxItem.campaign_id,
            func.count(),
            func.count(InboxItem.read_at),
            func.sum(case((InboxItem.archived_at.is_not(None), 1), else_=0)),
        )
        .where(and_(*where))
        .group_by(InboxItem.campaign_id)
    ).all()
    return [ReadRate(c, int(n), int(r), int(a or 0)) for c, n, r, a in rows]
