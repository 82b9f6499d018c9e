"""The brand console's Texts page: the brand's sending numbers, its HELP answer, and the texts
people sent it (replies and keywords, with what each did)."""

from __future__ import annotations

import uuid
from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.orm import Session

from accord.brands import service as brands
from accord.brands.deps import BrandDep
from accord.core.errors import AccordError
from accord.core.permissions import Permission, role_allows
from accord.core.principals import BrandCaller
from accord.core.settings import Settings
from accord.core.web.csrf import csrf_protect
from accord.core.web.deps import SessionDep, SettingsDep
from accord.core.web.forms import form_page, parse_form, read_form
from accord.core.web.templates import flash, render
from accord.sms import numbers, service
from accord.sms.schemas import NumberIn, SmsSettingsIn

router = APIRouter(
    prefix="/console/sms",
    tags=["console"],
    include_in_schema=False,
    dependencies=[Depends(csrf_protect)],
)
PAGE = "sms/console_sms.html"


def _context(session: Session, settings: Settings, caller: BrandCaller) -> dict[str, Any]:
    can_read_people = role_allows(caller.role, Permission.read_people)
    return {
        "brand": brands.get_brand(session, caller.brand_id),
        "can_manage": role_allows(caller.role, Permission.manage_brand),
        "numbers": numbers.of_brand(session, caller.brand_id),
        "sending_number": numbers.sending_number(session, caller.brand_id, settings.sms_from),
        "help_text": numbers.help_text(session, caller.brand_id),
        "replies": service.replies(session, caller.brand_id) if can_read_people else [],
    }


@router.get("", response_class=HTMLResponse)
def sms_page(
    request: Request, caller: BrandDep, session: SessionDep, settings: SettingsDep
) -> HTMLResponse:
    caller.require(Permission.read_brand)
    context = _context(session, settings, caller)
    context["values"] = {"help_text": context["help_text"]}
    return render(request, PAGE, context)


@router.post("/numbers", response_class=HTMLResponse)
async def add_number(
    request: Request, caller: BrandDep, session: SessionDep, settings: SettingsDep
) -> Response:
    caller.require(Permission.manage_brand)
    values = await read_form(request, ["number", "label"])
    data = parse_form(NumberIn, values)
    if not isinstance(data, dict):
        try:
            row = numbers.register(session, caller.brand_id, data.number, data.label)
        except AccordError as exc:
            session.rollback()
            data = {exc.field or "number": exc.detail}
    if isinstance(data, dict):
        context = _context(session, settings, caller)
        typed = {**values, "help_text": context["help_text"]}
        return form_page(request, PAGE, typed, data, **context)
    flash(request, f"{row.number} is registered: replies to it come to you.")
    return RedirectResponse("/console/sms", status_code=303)


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
    values = await read_form(request, ["help_text"])
    data = parse_form(SmsSettingsIn, values)
    if isinstance(data, dict):
        return form_page(request, PAGE, values, data, **_context(session, settings, caller))
    numbers.set_help_text(session, caller.brand_id, data.help_text)
    flash(request, "Your HELP answer is saved.")
    return RedirectResponse("/console/sms", status_code=303)
