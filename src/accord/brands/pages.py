"""The brand console: sign in, overview, members, API keys, settings."""

from __future__ import annotations

import uuid
from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import BaseModel
from sqlalchemy.orm import Session

from accord.brands import service
from accord.brands.deps import BrandDep
from accord.brands.schemas import (
    ApiKeyCreate,
    BrandUpdate,
    MemberCreate,
    MemberSignIn,
    PasswordChange,
)
from accord.core.errors import AccordError, NotAuthenticated
from accord.core.permissions import Permission, Role, role_allows
from accord.core.principals import BrandCaller
from accord.core.web import sign_in
from accord.core.web.csrf import csrf_protect
from accord.core.web.deps import SessionDep, SettingsDep, client_ip
from accord.core.web.forms import act_or_fail, handle_form, parse_form, read_form, show_form
from accord.core.web.next_page import FIELD, safe_next
from accord.core.web.panels import brand_panels_for, setup_checklist
from accord.core.web.templates import flash, render
from accord.core.web.timing import equal_time

router = APIRouter(
    prefix="/console",
    tags=["console"],
    include_in_schema=False,
    dependencies=[Depends(csrf_protect)],
)

ROLE_OPTIONS = [(role.value, role.value.capitalize()) for role in Role]
SIGNIN = "brands/signin.html"
ACCOUNT = "brands/account.html"
API_KEYS = "brands/api_keys.html"
SETTINGS = "brands/settings.html"
BRAND_FIELDS = [
    "name",
    "kind",
    "sender_name",
    "sender_email",
    "postal_address",
    "support_email",
    "send_rate_per_second",
]


def _console(request: Request, caller: BrandCaller, session: Any) -> dict[str, Any]:
    # Read with the member's sign-in (the brand's row as a tuple), else read now.
    brand = service.caller_brand(session, caller)
    allowed = {p.name: role_allows(caller.role, p) for p in Permission}
    return {"brand": brand, "caller": caller, "can": allowed}


def _sign_in(request: Request, session: Session, member_id: uuid.UUID) -> Response:
    target = safe_next(request.session.get(FIELD), "/console")
    if not target.startswith("/console"):
        target = "/console"
    days = request.app.state.settings.session_days
    sign_in.begin(request, session, kind=sign_in.MEMBER, subject_id=member_id, days=days)
    flash(request, "You are signed in to the brand console.")
    return RedirectResponse(target, status_code=303)


@router.get("/signin", response_class=HTMLResponse)
def signin_form(request: Request, next: str = "") -> HTMLResponse:
    # Kept in the session, so that a password and an e-mailed link both come back to it.
    if next:
        request.session[FIELD] = safe_next(next, "")
    return show_form(request, SIGNIN, {}, model=MemberSignIn)


@router.post("/signin", response_class=HTMLResponse)
async def signin(request: Request, session: SessionDep, settings: SettingsDep) -> Response:
    def act(data: MemberSignIn) -> Response:
        ip = client_ip(request)
        member = service.sign_in_member(session, settings, data.email, data.password, ip=ip)
        return _sign_in(request, session, member.id)

    # A wrong password is counted (throttling): that write stays.
    return await handle_form(
        request, session, MemberSignIn, act, template=SIGNIN, commit_on=(NotAuthenticated,)
    )


@router.post(
    "/signin/link",
    response_class=HTMLResponse,
    dependencies=[Depends(equal_time, scope="function")],
)
async def signin_link(request: Request, session: SessionDep, settings: SettingsDep) -> Response:
    def act(data: MemberSignIn) -> Response:
        mailer = request.app.state.mailer
        service.request_member_link(session, settings, mailer, data.email, ip=client_ip(request))
        return render(request, "people/check_inbox.html", {"email": data.email})

    values = await read_form(request, ["email"])
    return await handle_form(
        request,
        session,
        lambda typed: parse_form(MemberSignIn, {**typed, "password": "-"}),
        act,
        template=SIGNIN,
        values=values,
        model=MemberSignIn,
    )


@router.get("/auth/link", response_class=HTMLResponse)
def confirm_link(request: Request, token: str = "") -> HTMLResponse:
    return render(request, "brands/confirm_link.html", {"token": token})


@router.post("/auth/link")
async def use_link(request: Request, session: SessionDep) -> Response:
    values = await read_form(request, ["token"])
    try:
        member = service.complete_member_link(session, values["token"])
    except AccordError as exc:
        return render(request, "people/link_failed.html", {"detail": exc.detail}, status_code=400)
    return _sign_in(request, session, member.id)


@router.post("/signout")
def signout(request: Request, session: SessionDep) -> Response:
    sign_in.end(request, session)
    flash(request, "You are signed out.")
    return RedirectResponse("/console/signin", status_code=303)


@router.post("/signout-everywhere")
def signout_everywhere(request: Request, caller: BrandDep, session: SessionDep) -> Response:
    """End every session of this member, on every device, this one included."""
    if caller.member_id is not None:
        sign_in.end_all(session, kind=sign_in.MEMBER, subject_id=caller.member_id)
    sign_in.end(request, session)
    flash(request, "You are signed out on every device.")
    return RedirectResponse("/console/signin", status_code=303)


@router.get("/account", response_class=HTMLResponse)
def account(request: Request, caller: BrandDep, session: SessionDep) -> HTMLResponse:
    return show_form(
        request, ACCOUNT, {}, model=PasswordChange, **_console(request, caller, session)
    )


@router.post("/account/password", response_class=HTMLResponse)
async def change_password(request: Request, caller: BrandDep, session: SessionDep) -> Response:
    """A new password ends every other session of the member (copied cookies included)."""

    def act(data: PasswordChange) -> Response:
        if caller.member_id is None:
            raise NotAuthenticated(service.BAD_CREDENTIALS)
        service.change_password(session, caller.member_id, data.current_password, data.password)
        sign_in.end_all(session, kind=sign_in.MEMBER, subject_id=caller.member_id, keep=request)
        flash(request, "Your password is changed. Every other session is signed out.")
        return RedirectResponse("/console/account", status_code=303)

    return await handle_form(
        request,
        session,
        PasswordChange,
        act,
        template=ACCOUNT,
        context=lambda: _console(request, caller, session),
    )


@router.get("", response_class=HTMLResponse)
def overview(request: Request, caller: BrandDep, session: SessionDep) -> HTMLResponse:
    """The console's home: a new brand's set-up checklist, then each domain's section."""
    checklist = setup_checklist(request, session, caller.brand_id)
    context = {
        **_console(request, caller, session),
        "checklist": checklist,
        "set_up": all(done for _, done in checklist),
        "panels": brand_panels_for(request, "console_home", session, caller),
    }
    return render(request, "brands/overview.html", context)


@router.get("/members", response_class=HTMLResponse)
def members(request: Request, caller: BrandDep, session: SessionDep) -> HTMLResponse:
    caller.require(Permission.read_brand)
    rows, _ = service.list_members(session, caller.brand_id, limit=200)
    context = {**_console(request, caller, session), "members": rows, "roles": ROLE_OPTIONS}
    # New members start with the least a role may do; the owner raises it if needed.
    return show_form(
        request, "brands/members.html", {"role": Role.support.value}, model=MemberCreate, **context
    )


class RoleForm(BaseModel):
    role: Role


@router.post("/members/{member_id}/role", response_class=HTMLResponse)
async def change_role(
    member_id: uuid.UUID, request: Request, caller: BrandDep, session: SessionDep
) -> Response:
    caller.require(Permission.manage_members)

    def act(data: RoleForm) -> Response:
        member = service.change_role(session, caller.brand_id, member_id, data.role)
        flash(request, f"{member.email} is now {data.role.value}.", "success")
        return RedirectResponse("/console/members", status_code=303)

    def context() -> dict[str, Any]:
        rows, _ = service.list_members(session, caller.brand_id, limit=200)
        return {
            **_console(request, caller, session),
            "members": rows,
            "roles": ROLE_OPTIONS,
            "values": {"role": Role.support.value},
        }

    return await handle_form(
        request,
        session,
        RoleForm,
        act,
        template="brands/members.html",
        context=context,
        field_of={"role": "form"},
    )


@router.post("/members/{member_id}/remove")
def remove_member(
    member_id: uuid.UUID, request: Request, caller: BrandDep, session: SessionDep
) -> Response:
    caller.require(Permission.manage_members)

    def act() -> Response:
        member = service.remove_member(session, caller.brand_id, member_id)
        flash(request, f"{member.email} is no longer a member.", "success")
        return RedirectResponse("/console/members", status_code=303)

    def failed(exc: AccordError) -> Response:
        flash(request, exc.detail, "error")
        return RedirectResponse("/console/members", status_code=303)

    return act_or_fail(session, act, failed)


@router.post("/members", response_class=HTMLResponse)
async def add_member(request: Request, caller: BrandDep, session: SessionDep) -> Response:
    caller.require(Permission.manage_members)

    def act(data: MemberCreate) -> Response:
        service.add_member(session, caller.brand_id, data)
        flash(request, f"{data.email} is now a member.")
        return RedirectResponse("/console/members", status_code=303)

    def context() -> dict[str, Any]:
        rows, _ = service.list_members(session, caller.brand_id, limit=200)
        return {
            **_console(request, caller, session),
            "members": rows,
            "roles": ROLE_OPTIONS,
        }

    values = await read_form(request, ["email", "display_name", "role", "password"])
    return await handle_form(
        request,
        session,
        lambda typed: parse_form(MemberCreate, {**typed, "password": typed["password"] or None}),
        act,
        template="brands/members.html",
        values=values,
        context=context,
        model=MemberCreate,
    )


@router.get("/api-keys", response_class=HTMLResponse)
def api_keys(request: Request, caller: BrandDep, session: SessionDep) -> HTMLResponse:
    caller.require(Permission.manage_api_keys)
    return _api_keys_page(request, caller, session)


def _api_keys_context(request: Request, caller: BrandCaller, session: Any) -> dict[str, Any]:
    rows, _ = service.list_api_keys(session, caller.brand_id, limit=200)
    return {**_console(request, caller, session), "keys": rows, "roles": ROLE_OPTIONS}


def _api_keys_page(
    request: Request, caller: BrandCaller, session: Any, *, secret: str | None = None
) -> HTMLResponse:
    context = _api_keys_context(request, caller, session)
    values = {"role": Role.marketer.value}
    return show_form(request, API_KEYS, values, model=ApiKeyCreate, secret=secret, **context)


@router.post("/api-keys", response_class=HTMLResponse)
async def create_api_key(request: Request, caller: BrandDep, session: SessionDep) -> Response:
    caller.require(Permission.manage_api_keys)

    def act(data: ApiKeyCreate) -> Response:
        _, secret = service.create_api_key(
            session, caller.brand_id, data, created_by=caller.member_id
        )
        # Shown in this response only (a redirect would have to park the secret somewhere).
        response = _api_keys_page(request, caller, session, secret=secret)
        response.headers["Cache-Control"] = "no-store"
        return response

    return await handle_form(
        request,
        session,
        ApiKeyCreate,
        act,
        template=API_KEYS,
        context=lambda: _api_keys_context(request, caller, session),
    )


@router.post("/api-keys/{api_key_id}/revoke")
def revoke_api_key(
    request: Request, api_key_id: uuid.UUID, caller: BrandDep, session: SessionDep
) -> Response:
    caller.require(Permission.manage_api_keys)
    key = service.revoke_api_key(session, caller.brand_id, api_key_id)
    flash(request, f"The key {key.prefix}… is revoked.")
    return RedirectResponse("/console/api-keys", status_code=303)


@router.get("/settings", response_class=HTMLResponse)
def settings_form(request: Request, caller: BrandDep, session: SessionDep) -> HTMLResponse:
    caller.require(Permission.read_brand)
    context = _console(request, caller, session)
    brand = context["brand"]
    values = {name: getattr(brand, name) or "" for name in BRAND_FIELDS}
    return show_form(request, SETTINGS, values, model=BrandUpdate, **context)


@router.post("/settings", response_class=HTMLResponse)
async def save_settings(request: Request, caller: BrandDep, session: SessionDep) -> Response:
    caller.require(Permission.manage_brand)

    def act(data: BrandUpdate) -> Response:
        service.update_brand(session, caller.brand_id, data)
        flash(request, "The brand settings are saved.")
        return RedirectResponse("/console/settings", status_code=303)

    def parse(typed: dict[str, str]) -> BrandUpdate | dict[str, str]:
        return parse_form(BrandUpdate, {**typed, "postal_address": typed["postal_address"] or None})

    return await handle_form(
        request,
        session,
        parse,
        act,
        template=SETTINGS,
        values=await read_form(request, BRAND_FIELDS),
        context=lambda: _console(request, caller, session),
        model=BrandUpdate,
    )
