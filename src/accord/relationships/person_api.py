"""A person's own API: relationships, preferences, global settings, history and receipts."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Request, Response, status
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import select
from sqlalchemy.orm import Session

from accord.brands import service as brands
from accord.consent.models import LedgerEvent
from accord.core.errors import NotFound
from accord.core.validation import Line
from accord.core.web.deps import SessionDep, write_in_slot
from accord.core.web.lean_route import LeanRoute
from accord.core.web.params import SmallId
from accord.people.deps import PersonDep, PersonToCheck, PersonToCheckDep
from accord.relationships import service
from accord.relationships.receipts_view import receipt_for
from accord.relationships.schemas import (
    GlobalPreferencesIn,
    PauseIn,
    PreferenceChange,
    RelationshipOut,
)
from accord.relationships.service import PORTAL
from accord.relationships.vocabulary import Channel

router = APIRouter(prefix="/me", tags=["my relationships"])


class FollowIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    brand: Annotated[Line, Field(min_length=1, max_length=64, description="The brand's slug.")]


class GlobalPreferencesOut(BaseModel):
    quiet_start: str | None
    quiet_end: str | None
    global_cap: int
    do_not_contact: bool
    paused_until: object | None


def _out(session: SessionDep, person_id: uuid.UUID, brand_id: uuid.UUID) -> RelationshipOut:
    rel = service.get(session, person_id, brand_id)
    brand = brands.get_brand(session, brand_id)
    return service.relationship_out(rel, brand, service.choices(session, person_id, brand_id))


@router.get("/relationships", response_model=list[RelationshipOut])
def my_relationships(person: PersonDep, session: SessionDep) -> list[RelationshipOut]:
    return [service.relationship_out(*row) for row in service.for_person(session, person.person_id)]


@router.post("/relationships", response_model=RelationshipOut, status_code=status.HTTP_201_CREATED)
def follow(data: FollowIn, person: PersonDep, session: SessionDep) -> RelationshipOut:
    """Follow a brand (by slug). Nothing is granted yet: marketing stays off until you say so."""
    brand = brands.get_brand_by_slug(session, data.brand)
    service.start(session, person.person_id, brand.id, PORTAL)
    return _out(session, person.person_id, brand.id)


@router.get("/relationships/{brand_id}", response_model=RelationshipOut)
def my_relationship(brand_id: uuid.UUID, person: PersonDep, session: SessionDep) -> RelationshipOut:
    return _out(session, person.person_id, brand_id)


async def change(
    brand_id: uuid.UUID,
    data: PreferenceChange,
    person: PersonToCheckDep,
    session: SessionDep,
    request: Request,
) -> Response:
    """Grant or withdraw purposes, channels and topics, set the weekly cap, share facts."""
    # The busiest write a person makes: on the loop when SQLite's write lock is free right now,
    # or in a greenlet on PostgreSQL, else in the request slots' threads (`write_in_slot`); the
    # sign-in checked by its first statement (`person_to_check`).
    return await write_in_slot(request, session, _change, session, person, brand_id, data)


# A LeanRoute: its usual request skips FastAPI's dependency solver (`accord.core.web.lean_route`).
router.add_api_route(
    "/relationships/{brand_id}",
    change,
    methods=["PATCH"],
    response_model=RelationshipOut,
    route_class_override=LeanRoute,
)


def _change(
    session: Session, person: PersonToCheck, brand_id: uuid.UUID, data: PreferenceChange
) -> Response:
    out = service.change(session, person.person_id, brand_id, data, PORTAL, sign_in=person.sign_in)
    # `write_in_slot` commits. Already a RelationshipOut: encoded once here rather than
    # validated again on the way out.
    return Response(out.model_dump_json(), media_type="application/json")


@router.post("/relationships/{brand_id}/pause", response_model=RelationshipOut)
def pause(
    brand_id: uuid.UUID, data: PauseIn, person: PersonDep, session: SessionDep
) -> RelationshipOut:
    service.pause(session, service.get(session, person.person_id, brand_id), data.until, PORTAL)
    return _out(session, person.person_id, brand_id)


@router.post("/relationships/{brand_id}/resume", response_model=RelationshipOut)
def resume(brand_id: uuid.UUID, person: PersonDep, session: SessionDep) -> RelationshipOut:
    service.resume(session, service.get(session, person.person_id, brand_id), PORTAL)
    return _out(session, person.person_id, brand_id)


@router.post("/relationships/{brand_id}/end", response_model=RelationshipOut)
def end(brand_id: uuid.UUID, person: PersonDep, session: SessionDep) -> RelationshipOut:
    """End the relationship and keep your history. To also erase what the brand holds about
    you, use `POST /api/v1/me/relationships/{brand_id}/erase`."""
    service.end(session, service.get(session, person.person_id, brand_id), PORTAL)
    return _out(session, person.person_id, brand_id)


class ChannelOrderIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    channels: list[Channel] = Field(max_length=6, description="Most preferred first.")


class ChannelOrderOut(BaseModel):
    channels: list[str]


@router.get("/relationships/{brand_id}/channel-order", response_model=ChannelOrderOut)
def my_channel_order(
    brand_id: uuid.UUID, person: PersonDep, session: SessionDep
) -> ChannelOrderOut:
    service.get(session, person.person_id, brand_id)
    return ChannelOrderOut(channels=service.channel_order(session, person.person_id, brand_id))


@router.put("/relationships/{brand_id}/channel-order", response_model=ChannelOrderOut)
def set_channel_order(
    brand_id: uuid.UUID, data: ChannelOrderIn, person: PersonDep, session: SessionDep
) -> ChannelOrderOut:
    """The order in which you prefer this brand's channels: a campaign on several channels
    reaches you on the first one it may use (see the campaign docs on fallback)."""
    rel = service.get(session, person.person_id, brand_id)
    service.set_channel_order(session, rel, data.channels, PORTAL)
    return ChannelOrderOut(channels=service.channel_order(session, person.person_id, brand_id))


@router.get("/preferences", response_model=GlobalPreferencesOut)
def my_preferences(person: PersonDep, session: SessionDep) -> GlobalPreferencesOut:
    prefs = service.global_preferences(session, person.person_id)
    return GlobalPreferencesOut(
        quiet_start=prefs.quiet_start, quiet_end=prefs.quiet_end, global_cap=prefs.global_cap,
        do_not_contact=prefs.do_not_contact, paused_until=prefs.paused_until,
    )  # fmt: skip


@router.patch("/preferences", response_model=GlobalPreferencesOut)
def change_preferences(
    data: GlobalPreferencesIn, person: PersonDep, session: SessionDep
) -> GlobalPreferencesOut:
    """Quiet hours, global weekly cap, do-not-contact for marketing, pause everything."""
    service.apply_global(session, person.person_id, data, PORTAL)
    return my_preferences(person, session)


@router.get("/history")
def my_history(person: PersonDep, session: SessionDep) -> list[dict[str, object]]:
    """Every decision in your ledger, newest first."""
    return [
        {"seq": h["seq"], "hash": h["hash"], "event": h["body"]}
        for h in service.history(session, person.person_id)
    ]


@router.get("/receipts/{seq}")
def my_receipt(
    seq: SmallId, request: Request, person: PersonDep, session: SessionDep
) -> dict[str, object]:
    """The signed receipt of your decision number `seq` (check it with `accord receipt verify`)."""
    event = session.scalars(
        select(LedgerEvent).where(
            LedgerEvent.subject_id == person.person_id, LedgerEvent.seq == seq
        )
    ).one_or_none()
    if event is None:
        raise NotFound("No such decision in your history.")
    return receipt_for(session, request, event)
