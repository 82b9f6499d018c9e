"""The brand console's Texts page: the brand's sending numbers, its HELP answer, and the texts
people sent it (replies and keywords, with what each did)."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import FileResponse, HTMLResponse, RedirectResponse, Response
from sqlalchemy.orm import Session

from accord.brands import service as brands
from accord.brands.deps import BrandDep
from accord.core.permissions import Permission, role_allows
from accord.core.principals import BrandCaller
from accord.core.settings import Settings
from accord.core.web.csrf import csrf_protect
from accord.core.web.deps import SessionDep, SettingsDep
from accord.core.web.forms import handle_form, show_form
from accord.core.web.templates import flash
from accord.sms import numbers, service
from accord.sms.schemas import NumberIn, SmsSettingsIn

router = APIRouter(
    prefix="/console/sms",
    tags=["console"],
    include_in_schema=False,
    dependencies=[Depends(csrf_protect)],
)
PAGE = "sms/console_sms.html"
STATIC = Path(__file__).resolve().parent / "static"


def _context(session: Session, settings: Settings, caller: BrandCaller) -> dict[str, Any]:
    can_read_people = role_allows(caller.role, Permission.read_people)
    # The caller's brand row, read with the member (its name and support address are shown).
    brand: Any = brands.caller_brand(session, caller)
    shown = numbers.shown(session, caller.brand_id)
    help_text = numbers.help_text_of(session, caller.brand_id, brand.name, brand.support_email)
    return {
        "brand": brand,
        "can_manage": role_allows(caller.role, Permission.manage_brand),
        "numbers": shown,
        # The brand's first number (`numbers.sending_number`), from the ones shown.
        "sending_number": shown[0].number if shown else settings.sms_from,
        "help_text": help_text,
        "replies": service.replies_shown(session, caller.brand_id) if can_read_people else [],
        # The other form's value (the HELP answer) is kept when one form is sent back.
        "values": {"help_text": help_text},
    }


@router.get("", response_class=HTMLResponse)
def sms_page(
    request: Request, caller: BrandDep, session: SessionDep, settings: SettingsDep
) -> HTMLResponse:
    caller.require(Permission.read_brand)
    context = _context(session, settings, caller)
    return show_form(request, PAGE, context.pop("values"), model=NumberIn, **context)


@router.get("/count.js")
def count_script() -> FileResponse:
    """The campaign composer's live segment count (the page works without it)."""
    return FileResponse(STATIC / "count.js", media_type="text/javascript")


@router.post("/numbers", response_class=HTMLResponse)
async def add_number(
    request: Request, caller: BrandDep, session: SessionDep, settings: SettingsDep
) -> Response:
    caller.require(Permission.manage_brand)

    def act(data: NumberIn) -> Response:
        row = numbers.register(session, caller.brand_id, data.number, data.label)
        flash(request, f"{row.number} is registered: replies to it come to you.")
        return RedirectResponse("/console/sms", status_code=303)

    return await handle_form(
        request,
        session,
        NumberIn,
        act,
        template=PAGE,
        context=lambda: _context(session, settings, caller),
        fallback_field="number",
    )


@router.post("/numbers/{number_id}/remove")
def remove_number(
    number_id: uuid.UUID, request: Request, caller: BrandDep, session: SessionDep
) -> Response:
    caller.require(Permission.manage_brand)
    row = numbers.get(session, caller.brand_id, number_id)
    number = row.number
    numbers.remove(session, caller.brand_id, number_id)
    flash(request, f"{number} is removed.")
    return RedirectResponse("/console/sms", status_code=303)


@router.post("/help", response_class=HTMLResponse)
async def help_text(
    request: Request, caller: BrandDep, session: SessionDep, settings: SettingsDep
) -> Response:
    caller.require(Permission.manage_brand)

    def act(data: SmsSettingsIn) -> Response:
        numbers.set_help_text(session, caller.brand_id, data.help_text)
        flash(request, "Your HELP answer is saved.")
        return RedirectResponse("/console/sms", status_code=303)

    return await handle_form(
        request,
        session,
        SmsSettingsIn,
        act,
        template=PAGE,
        context=lambda: _context(session, settings, caller),
    )
