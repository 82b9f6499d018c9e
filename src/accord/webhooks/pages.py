"""The console's webhooks: endpoints (add, change, enable, test, rotate the secret), each with
its deliveries, their last responses and a replay button."""

from __future__ import annotations

import uuid
from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.orm import Session

from accord.brands.deps import BrandDep
from accord.core.errors import AccordError
from accord.core.permissions import Permission, role_allows
from accord.core.principals import BrandCaller
from accord.core.web.csrf import csrf_protect
from accord.core.web.deps import SessionDep, SettingsDep
from accord.core.web.forms import show_form
from accord.core.web.templates import flash, render
from accord.webhooks import registry, service

router = APIRouter(
    prefix="/console/webhooks",
    tags=["webhook pages"],
    include_in_schema=False,
    dependencies=[Depends(csrf_protect)],
)
LIST = "webhooks/endpoints.html"
DETAIL = "webhooks/endpoint.html"


def _context(session: Session, caller: BrandCaller) -> dict[str, Any]:
    return {
        "endpoints": service.endpoints(session, caller.brand_id),
        "types": registry.known(),
        "can_manage": role_allows(caller.role, Permission.manage_brand),
    }


async def _values(request: Request) -> dict[str, Any]:
    form = await request.form()
    return {
        "url": str(form.get("url", "")).strip(),
        "description": str(form.get("description", "")).strip()[:200],
        "event_types": [str(v) for v in form.getlist("event_types")],
        "is_channel": form.get("is_channel") == "on",
    }


@router.get("", response_class=HTMLResponse)
def endpoint_list(request: Request, caller: BrandDep, session: SessionDep) -> HTMLResponse:
    caller.require(Permission.read_brand)
    return render(request, LIST, {**_context(session, caller), "values": {"event_types": []}})


@router.post("", response_class=HTMLResponse)
async def add(
    request: Request, caller: BrandDep, session: SessionDep, settings: SettingsDep
) -> Response:
    caller.require(Permission.manage_brand)
    values = await _values(request)
    try:
        endpoint = service.create_endpoint(session, settings, caller.brand_id, **values)
    except AccordError as exc:
        session.rollback()
        errors = {exc.field or "url": exc.detail}
        return show_form(request, LIST, values, errors, **_context(session, caller))
    flash(request, "The endpoint is added. Its signing secret is below.", "success")
    return RedirectResponse(f"/console/webhooks/{endpoint.id}", status_code=303)


def _detail(
    request: Request,
    session: Session,
    caller: BrandCaller,
    endpoint_id: uuid.UUID,
    values: dict[str, Any] | None = None,
    errors: dict[str, str] | None = None,
) -> HTMLResponse:
    endpoint = service.get_endpoint(session, caller.brand_id, endpoint_id)
    rows, _ = service.deliveries(session, caller.brand_id, endpoint_id, limit=50)
    context: dict[str, Any] = {
        "endpoint": endpoint,
        "deliveries": rows,
        "types": registry.known(),
        "can_manage": role_allows(caller.role, Permission.manage_brand),
        "show_secret": request.query_params.get("secret") == "1",
    }
    shown = values or {
        "url": endpoint.url,
        "description": endpoint.description,
        "event_types": endpoint.event_types,
        "is_channel": endpoint.is_channel,
    }
    return show_form(request, DETAIL, shown, errors, **context)


@router.get("/{endpoint_id}", response_class=HTMLResponse)
def detail(
    endpoint_id: uuid.UUID, request: Request, caller: BrandDep, session: SessionDep
) -> HTMLResponse:
    caller.require(Permission.read_brand)
    if request.query_params.get("secret") == "1":
        caller.require(Permission.manage_brand)
    return _detail(request, session, caller, endpoint_id)


@router.post("/{endpoint_id}", response_class=HTMLResponse)
async def change(
    endpoint_id: uuid.UUID,
    request: Request,
    caller: BrandDep,
    session: SessionDep,
    settings: SettingsDep,
) -> Response:
    caller.require(Permission.manage_brand)
    values = await _values(request)
    try:
        service.update_endpoint(session, settings, caller.brand_id, endpoint_id, values)
    except AccordError as exc:
        session.rollback()
        errors = {exc.field or "url": exc.detail}
        return _detail(request, session, caller, endpoint_id, values, errors)
    flash(request, "The endpoint is saved.", "success")
    return RedirectResponse(f"/console/webhooks/{endpoint_id}", status_code=303)


@router.post("/{endpoint_id}/{action}")
def act(
    endpoint_id: uuid.UUID,
    action: str,
    request: Request,
    caller: BrandDep,
    session: SessionDep,
    settings: SettingsDep,
) -> Response:
    caller.require(Permission.manage_brand)
    target = f"/console/webhooks/{endpoint_id}"
    if action in ("enable", "disable"):
        service.update_endpoint(
            session, settings, caller.brand_id, endpoint_id, {"enabled": action == "enable"}
        )
        flash(request, f"The endpoint is {action}d.", "success")
    elif action == "test":
        service.send_test(session, caller.brand_id, endpoint_id)
        flash(request, "A webhook.test event is on its way.", "success")
    elif action == "rotate":
        service.rotate_secret(session, caller.brand_id, endpoint_id)
        flash(request, "A new secret is in use; update your receiver.", "success")
        target += "?secret=1"
    elif action == "delete":
        service.delete_endpoint(session, caller.brand_id, endpoint_id)
        flash(request, "The endpoint is deleted.", "success")
        target = "/console/webhooks"
    else:
        flash(request, "That is not something an endpoint can do.", "error")
    return RedirectResponse(target, status_code=303)


@router.post("/{endpoint_id}/deliveries/{delivery_id}/replay")
def replay(
    endpoint_id: uuid.UUID,
    delivery_id: int,
    request: Request,
    caller: BrandDep,
    session: SessionDep,
) -> Response:
    caller.require(Permission.manage_brand)
    try:
        service.replay(session, caller.brand_id, delivery_id)
        flash(request, "The delivery will be sent again shortly.", "success")
    except AccordError as exc:
        session.rollback()
        flash(request, exc.detail, "error")
    return RedirectResponse(f"/console/webhooks/{endpoint_id}", status_code=303)
