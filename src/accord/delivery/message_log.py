"""The messages API: a brand's outbox rows of one campaign or one person, each with its
state, attempts, last error and Message-ID (e-mail) or the provider's id (other channels)."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Query
from pydantic import BaseModel, Field
from sqlalchemy import select
from sqlalchemy.orm import Session

from accord.brands.deps import BRAND_SCOPED, BrandDep
from accord.campaigns import service as campaigns
from accord.core.errors import InvalidInput, NotFound
from accord.core.pagination import Page
from accord.core.permissions import Permission
from accord.core.settings import Settings
from accord.core.web.deps import SessionDep, SettingsDep
from accord.core.web.params import CursorParam
from accord.delivery.email_channel import message_id_for
from accord.outbox.models import OutboxMessage
from accord.relationships import service as relationships

router = APIRouter(tags=["campaigns", BRAND_SCOPED])

State = Literal["queued", "deferred", "sending", "sent", "skipped", "failed", "cancelled", "paused"]
StateQuery = Annotated[State | None, Query(description="Only messages in this state.")]
LimitQuery = Annotated[int, Query(ge=1, le=200)]


class OutboxItem(BaseModel):
    id: int
    campaign_id: uuid.UUID | None
    person_id: uuid.UUID | None
    channel: str
    purpose: str
    state: str
    reason: str | None = Field(description="Why it was skipped, deferred or failed.")
    attempts: int
    last_error: str | None
    error_code: str | None
    message_id: str | None = Field(
        description="E-mail: the Message-ID it goes out with (the same on every attempt)."
    )
    provider_ref: str | None = Field(description="Other channels: the provider's id.")
    not_before: datetime
    sent_at: datetime | None
    created_at: datetime


def page(
    session: Session,
    brand_id: uuid.UUID,
    *,
    campaign_id: uuid.UUID | None = None,
    person_id: uuid.UUID | None = None,
    state: str | None = None,
    cursor: str | None = None,
    limit: int = 50,
) -> tuple[Sequence[OutboxMessage], str | None]:
    """The brand's outbox rows of one campaign or one person, newest first (by id, which
    only grows), and the cursor of the next page."""
    query = select(OutboxMessage).where(OutboxMessage.brand_id == brand_id)
    if campaign_id is not None:
        query = query.where(OutboxMessage.campaign_id == campaign_id)
    if person_id is not None:
        query = query.where(OutboxMessage.person_id == person_id)
    if state is not None:
        query = query.where(OutboxMessage.state == state)
    if cursor:
        query = query.where(OutboxMessage.id < _after(cursor))
    rows = session.scalars(query.order_by(OutboxMessage.id.desc()).limit(limit + 1)).all()
    if len(rows) > limit:
        return rows[:limit], f"m{rows[limit - 1].id}"
    return rows, None


def _after(cursor: str) -> int:
    if cursor.startswith("m") and cursor[1:].isdigit() and len(cursor) < 20:
        return int(cursor[1:])
    raise InvalidInput("This cursor is not valid: pass next_cursor as it came.", field="cursor")


def item(row: OutboxMessage, settings: Settings) -> OutboxItem:
    return OutboxItem(
        id=row.id,
        campaign_id=row.campaign_id,
        person_id=row.person_id,
        channel=row.channel,
        purpose=row.purpose,
        state=row.state,
        reason=row.reason,
        attempts=row.attempts,
        last_error=row.last_error,
        error_code=row.error_code,
        message_id=message_id_for(row.idempotency_key, settings)
        if row.channel == "email"
        else None,
        provider_ref=row.provider_ref if row.channel != "email" else None,
        not_before=row.not_before,
        sent_at=row.sent_at,
        created_at=row.created_at,
    )


@router.get("/campaigns/{campaign_id}/messages", response_model=Page[OutboxItem])
def campaign_messages(
    campaign_id: uuid.UUID,
    caller: BrandDep,
    session: SessionDep,
    settings: SettingsDep,
    state: StateQuery = None,
    cursor: CursorParam = None,
    limit: LimitQuery = 50,
) -> Page[OutboxItem]:
    """The campaign's messages, one per person and channel, newest first: state, attempts,
    last error and Message-ID."""
    caller.require(Permission.read_brand)
    campaign = campaigns.get(session, caller.brand_id, campaign_id)
    rows, next_cursor = page(
        session, caller.brand_id, campaign_id=campaign.id, state=state, cursor=cursor, limit=limit
    )
    return Page(items=[item(r, settings) for r in rows], next_cursor=next_cursor)


@router.get("/people/{person_id}/messages", response_model=Page[OutboxItem])
def person_messages(
    person_id: uuid.UUID,
    caller: BrandDep,
    session: SessionDep,
    settings: SettingsDep,
    state: StateQuery = None,
    cursor: CursorParam = None,
    limit: LimitQuery = 50,
) -> Page[OutboxItem]:
    """Every message of your brand to one related person (campaigns and transactional),
    newest first."""
    caller.require(Permission.read_people)
    if relationships.state_of(session, person_id, caller.brand_id) is None:
        raise NotFound("No such person.")
    rows, next_cursor = page(
        session, caller.brand_id, person_id=person_id, state=state, cursor=cursor, limit=limit
    )
    return Page(items=[item(r, settings) for r in rows], next_cursor=next_cursor)
