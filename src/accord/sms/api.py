"""Brand-scoped SMS API: sending numbers, the HELP answer, replies, and the segment counter."""

from __future__ import annotations

import uuid

from fastapi import APIRouter, Query, Response, status

from accord.brands import service as brands
from accord.brands.deps import BrandDep
from accord.core.errors import InvalidInput
from accord.core.permissions import Permission
from accord.core.web.deps import SessionDep, SettingsDep
from accord.core.web.params import CursorParam
from accord.sms import compose, numbers, service
from accord.sms.schemas import (
    NumberIn,
    NumberOut,
    ReplyOut,
    ReplyPage,
    SegmentsIn,
    SegmentsOut,
    SmsSettingsIn,
    SmsSettingsOut,
)
from accord.sms.segments import MAX_SEGMENTS

router = APIRouter(prefix="/sms", tags=["sms", "brand-scoped"])


@router.get("/numbers", response_model=list[NumberOut])
def list_numbers(caller: BrandDep, session: SessionDep) -> list[NumberOut]:
    caller.require(Permission.read_brand)
    return [NumberOut.model_validate(n) for n in numbers.of_brand(session, caller.brand_id)]


@router.post("/numbers", response_model=NumberOut, status_code=status.HTTP_201_CREATED)
def add_number(data: NumberIn, caller: BrandDep, session: SessionDep) -> NumberOut:
    """Register a number the brand sends from (E.164). A number belongs to one brand only."""
    caller.require(Permission.manage_brand)
    return NumberOut.model_validate(
        numbers.register(session, caller.brand_id, data.number, data.label)
    )


@router.delete("/numbers/{number_id}", status_code=status.HTTP_204_NO_CONTENT)
def remove_number(number_id: uuid.UUID, caller: BrandDep, session: SessionDep) -> Response:
    caller.require(Permission.manage_brand)
    numbers.remove(session, caller.brand_id, number_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


def _settings(session: SessionDep, brand_id: uuid.UUID, fallback: str) -> SmsSettingsOut:
    sender = numbers.sending_number(session, brand_id, fallback)
    return SmsSettingsOut(
        help_text=numbers.help_text(session, brand_id), sending_number=sender or None
    )


@router.get("/settings", response_model=SmsSettingsOut)
def read_settings(caller: BrandDep, session: SessionDep, settings: SettingsDep) -> SmsSettingsOut:
    caller.require(Permission.read_brand)
    return _settings(session, caller.brand_id, settings.sms_from)


@router.put("/settings", response_model=SmsSettingsOut)
def write_settings(
    data: SmsSettingsIn, caller: BrandDep, session: SessionDep, settings: SettingsDep
) -> SmsSettingsOut:
    """Set what the brand answers to HELP (who it is, how to reach it, how to stop)."""
    caller.require(Permission.manage_brand)
    numbers.set_help_text(session, caller.brand_id, data.help_text)
    return _settings(session, caller.brand_id, settings.sms_from)


@router.post("/segments", response_model=SegmentsOut)
def segments(data: SegmentsIn, caller: BrandDep, session: SessionDep) -> SegmentsOut:
    """How many segments a text takes as the channel sends it, and in which encoding (more
    than 10 is refused when a campaign is saved)."""
    caller.require(Permission.read_brand)
    name = brands.get_brand(session, caller.brand_id).name
    body, counted = compose.measure(name, data.text, marketing=data.marketing)
    return SegmentsOut(
        encoding=counted.encoding,
        characters=counted.characters,
        units=counted.units,
        segments=counted.segments,
        remaining=counted.remaining,
        max_segments=MAX_SEGMENTS,
        too_long=counted.too_long,
        unicode_characters=list(counted.unicode_characters),
        body=body,
    )


@router.get("/replies", response_model=ReplyPage)
def replies(
    caller: BrandDep,
    session: SessionDep,
    cursor: CursorParam = None,
    limit: int = Query(default=50, ge=1, le=200),
) -> ReplyPage:
    """Texts people sent to the brand's numbers, newest first, with what each did."""
    caller.require(Permission.read_people)
    before = None
    if cursor is not None:
        if not cursor.isdigit():
            raise InvalidInput("This cursor is not one Accord gave out.", field="cursor")
        before = int(cursor)
    rows = service.replies(session, caller.brand_id, before=before, limit=limit + 1)
    items = [ReplyOut.model_validate(r) for r in rows[:limit]]
    next_cursor = str(items[-1].id) if len(rows) > limit else None
    return ReplyPage(items=items, next_cursor=next_cursor)
