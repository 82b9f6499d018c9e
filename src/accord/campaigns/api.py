"""Brand API: campaigns (create, preview by reason, send once, cancel, report) and
transactional messages."""

from __future__ import annotations

import uuid
from dataclasses import asdict
from typing import Any

from fastapi import APIRouter, Query, status
from sqlalchemy.orm import Session

from accord.brands.deps import BRAND_SCOPED, BrandDep
from accord.campaigns import control, messages, report, segments_api, service, sms_text
from accord.campaigns.models import Campaign
from accord.campaigns.schemas import (
    CampaignCreate,
    CampaignOut,
    CampaignUpdate,
    MessageCreate,
    MessageOut,
    Preview,
)
from accord.core.errors import InvalidInput
from accord.core.pagination import Page
from accord.core.permissions import Permission
from accord.core.web.deps import SessionDep
from accord.core.web.params import CursorParam, IdempotencyKeyParam

router = APIRouter(tags=["campaigns", BRAND_SCOPED])
router.include_router(segments_api.router)


def _out(session: Session, campaign: Campaign) -> CampaignOut:
    """The campaign, with an sms campaign's text counted as it goes out."""
    out = CampaignOut.model_validate(campaign)
    if "sms" in service.channels_of(campaign):
        out.sms = sms_text.segments_of(session, campaign)
    return out


@router.post("/campaigns", response_model=CampaignOut, status_code=status.HTTP_201_CREATED)
def create(data: CampaignCreate, caller: BrandDep, session: SessionDep) -> CampaignOut:
    """Create a draft. Templates may use only person.name, person.first_name, person.locale,
    brand.name, brand.support_email, brand.postal_address and topic.name."""
    caller.require(Permission.write_campaigns)
    return _out(session, service.create(session, caller.brand_id, data, member_id=caller.member_id))


@router.get("/campaigns", response_model=Page[CampaignOut])
def listing(
    caller: BrandDep,
    session: SessionDep,
    cursor: CursorParam = None,
    limit: int = Query(default=50, ge=1, le=200),
) -> Page[CampaignOut]:
    caller.require(Permission.read_brand)
    rows, next_cursor = service.listing(session, caller.brand_id, cursor=cursor, limit=limit)
    return Page(items=[_out(session, c) for c in rows], next_cursor=next_cursor)


@router.get("/campaigns/{campaign_id}", response_model=CampaignOut)
def read(campaign_id: uuid.UUID, caller: BrandDep, session: SessionDep) -> CampaignOut:
    caller.require(Permission.read_brand)
    return _out(session, service.get(session, caller.brand_id, campaign_id))


@router.patch("/campaigns/{campaign_id}", response_model=CampaignOut)
def update(
    campaign_id: uuid.UUID, data: CampaignUpdate, caller: BrandDep, session: SessionDep
) -> CampaignOut:
    caller.require(Permission.write_campaigns)
    campaign = service.get(session, caller.brand_id, campaign_id)
    return _out(session, service.update_draft(session, campaign, data))


@router.get("/campaigns/{campaign_id}/preview", response_model=Preview)
def preview(campaign_id: uuid.UUID, caller: BrandDep, session: SessionDep) -> Preview:
    """The audience at send time: how many get it, how many are deferred, who is out and why."""
    caller.require(Permission.read_brand)
    return service.preview(session, service.get(session, caller.brand_id, campaign_id))


@router.post("/campaigns/{campaign_id}/send", response_model=CampaignOut)
def send(campaign_id: uuid.UUID, caller: BrandDep, session: SessionDep) -> CampaignOut:
    """Send (or schedule) the campaign. Asking twice sends once."""
    caller.require(Permission.send_campaigns)
    return _out(session, service.send(session, service.get(session, caller.brand_id, campaign_id)))


@router.post("/campaigns/{campaign_id}/cancel", response_model=CampaignOut)
def cancel(campaign_id: uuid.UUID, caller: BrandDep, session: SessionDep) -> CampaignOut:
    """Stop everything not yet handed to a channel."""
    caller.require(Permission.send_campaigns)
    return _out(
        session, service.cancel(session, service.get(session, caller.brand_id, campaign_id))
    )


@router.post("/campaigns/{campaign_id}/pause", response_model=CampaignOut)
def pause(campaign_id: uuid.UUID, caller: BrandDep, session: SessionDep) -> CampaignOut:
    """Hold a scheduled or sending campaign: nothing more goes out until it is resumed (the
    messages a worker holds already, at most one batch, still go). Again: no change."""
    caller.require(Permission.send_campaigns)
    campaign = service.get(session, caller.brand_id, campaign_id)
    return _out(session, control.pause(session, campaign))


@router.post("/campaigns/{campaign_id}/resume", response_model=CampaignOut)
def resume(campaign_id: uuid.UUID, caller: BrandDep, session: SessionDep) -> CampaignOut:
    """Let a paused campaign go on where it stopped."""
    caller.require(Permission.send_campaigns)
    campaign = service.get(session, caller.brand_id, campaign_id)
    return _out(session, control.resume(session, campaign))


@router.get("/campaigns/{campaign_id}/report")
def campaign_report(
    campaign_id: uuid.UUID, caller: BrandDep, session: SessionDep
) -> dict[str, Any]:
    caller.require(Permission.read_brand)
    return asdict(report.build(session, service.get(session, caller.brand_id, campaign_id)))


@router.post("/messages", response_model=MessageOut, status_code=status.HTTP_202_ACCEPTED)
def send_message(
    data: MessageCreate,
    caller: BrandDep,
    session: SessionDep,
    idempotency_key: IdempotencyKeyParam = None,
) -> MessageOut:
    """Queue a transactional message (an order confirmation, say) to one related person. An
    Idempotency-Key is required; the topic decides the purpose and must be transactional."""
    caller.require(Permission.send_campaigns)
    if not idempotency_key:
        raise InvalidInput(
            "Send an Idempotency-Key header with every message.", field="Idempotency-Key"
        )
    row = messages.enqueue(session, caller.brand_id, data, idempotency_key=idempotency_key)
    return MessageOut(id=row.id, state=row.state, reason=row.reason)
