"""The unsubscribe links in every marketing message.

- `POST /u/{token}`: RFC 8058 one-click. A mailbox provider posts `List-Unsubscribe=One-Click`
  with no cookie and no CSRF token, so this route lives on a router without `csrf_protect`;
  the signed token is the only authority it needs.
- `GET /u/{token}`: a page with four choices, each a CSRF-protected POST to
  `/u/{token}/choice` (the GET itself changes nothing: mail scanners prefetch links).

A forged or altered token gets a 400 page that still offers a way out: sign in and manage the
relationship.
"""

from __future__ import annotations

from typing import Any, Literal

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, PlainTextResponse, Response
from pydantic import BaseModel

from accord.core.errors import InvalidInput
from accord.core.web.csrf import csrf_protect
from accord.core.web.deps import SessionDep, SettingsDep
from accord.core.web.forms import handle_form
from accord.core.web.templates import render
from accord.delivery import unsubscribe
from accord.delivery.tokens import ExpiredLink, UnsubscribeToken
from accord.delivery.unsubscribe import PAUSE_DAYS, Choice

# No csrf_protect here: RFC 8058 one-click comes from a mailbox provider, not from our form.
one_click_router = APIRouter(tags=["unsubscribe"], include_in_schema=False)
router = APIRouter(
    tags=["unsubscribe pages"], include_in_schema=False, dependencies=[Depends(csrf_protect)]
)


UNDO = "unsubscribe_undo"


class ChoiceForm(BaseModel):
    choice: Literal["topic", "brand", "pause", "fewer"]


def _invalid(request: Request, error: InvalidInput) -> HTMLResponse:
    context = {"detail": error.detail, "expired": isinstance(error, ExpiredLink)}
    return render(request, "delivery/unsubscribe_invalid.html", context, status_code=400)


def _manage_url(request: Request, token: UnsubscribeToken) -> str:
    """Straight to the relationship when this person is signed in; else to sign in."""
    if request.session.get("person_id") == str(token.person):
        return f"/relationships/{token.brand}"
    return "/signin"


@one_click_router.post("/u/{token}")
async def one_click(
    token: str, request: Request, session: SessionDep, settings: SettingsDep
) -> Response:
    """RFC 8058: unsubscribe from this message's topic at once. Asking again changes nothing."""
    try:
        parsed = unsubscribe.read(settings, token)
    except InvalidInput as exc:
        return _invalid(request, exc)
    changed = unsubscribe.one_click(session, parsed)
    found = unsubscribe.target(session, parsed)
    if changed or found.live:
        text = f"You are unsubscribed from '{found.topic_name}' by {found.brand_name}.\n"
    else:
        text = "Nothing to do: this brand can no longer send you anything.\n"
    return PlainTextResponse(text)


@router.get("/u/{token}", response_class=HTMLResponse)
def page(token: str, request: Request, session: SessionDep, settings: SettingsDep) -> Response:
    try:
        parsed = unsubscribe.read(settings, token)
    except InvalidInput as exc:
        return _invalid(request, exc)
    context = _choices_context(request, session, token, parsed)
    return render(request, "delivery/unsubscribe.html", context)


def _choices_context(
    request: Request, session: SessionDep, raw: str, token: UnsubscribeToken
) -> dict[str, Any]:
    found = unsubscribe.target(session, token)
    return {
        "token": raw,
        "live": found.live,
        "brand_name": found.brand_name,
        "topic_name": found.topic_name,
        "pause_days": PAUSE_DAYS,
        "fewer_cap": unsubscribe.FEWER_CAP,
        "manage_url": _manage_url(request, token),
    }


@router.post("/u/{token}/choice", response_class=HTMLResponse)
async def choose(
    token: str, request: Request, session: SessionDep, settings: SettingsDep
) -> Response:
    try:
        parsed = unsubscribe.read(settings, token)
    except InvalidInput as exc:
        return _invalid(request, exc)

    def act(data: ChoiceForm) -> Response:
        kept = unsubscribe.before(session, parsed)
        done = unsubscribe.choose(session, parsed, Choice(data.choice))
        found = unsubscribe.target(session, parsed)
        if done.changed:
            # Undo is offered to this browser only, right after the choice.
            request.session[UNDO] = {"token": token, "choice": data.choice, **kept}
        context = {
            "done": done,
            "token": token,
            "undo": done.changed,
            "brand_name": found.brand_name,
            "manage_url": _manage_url(request, parsed),
        }
        return render(request, "delivery/unsubscribe_done.html", context)

    return await handle_form(
        request,
        session,
        ChoiceForm,
        act,
        template="delivery/unsubscribe.html",
        context=lambda: _choices_context(request, session, token, parsed),
    )


@router.post("/u/{token}/undo", response_class=HTMLResponse)
def undo(token: str, request: Request, session: SessionDep, settings: SettingsDep) -> Response:
    """Put back the choice this browser just made with this link (nothing else)."""
    try:
        parsed = unsubscribe.read(settings, token)
    except InvalidInput as exc:
        return _invalid(request, exc)
    kept = request.session.get(UNDO)
    found = unsubscribe.target(session, parsed)
    if not isinstance(kept, dict) or kept.get("token") != token:
        done = unsubscribe.Done(
            False,
            "There is nothing to undo here: the choice was not made in this browser, "
            "or it was undone already.",
        )
    else:
        done = unsubscribe.undo(session, parsed, Choice(str(kept["choice"])), kept)
        request.session.pop(UNDO, None)
    context = {
        "done": done,
        "token": token,
        "undo": False,
        "brand_name": found.brand_name,
        "manage_url": _manage_url(request, parsed),
    }
    return render(request, "delivery/unsubscribe_done.html", context)
