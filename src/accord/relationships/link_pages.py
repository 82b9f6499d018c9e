"""Pages behind the links brands' mails carry: an invitation, and a consent confirmation.

A GET never uses a link up (mail scanners prefetch links); the person presses a button.
"""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from accord.brands import service as brands
from accord.core.errors import AccordError
from accord.core.web import sign_in
from accord.core.web.csrf import csrf_protect
from accord.core.web.deps import SessionDep
from accord.core.web.forms import act_or_fail, read_form
from accord.core.web.templates import flash, render
from accord.relationships import brand_records

router = APIRouter(
    tags=["portal pages"], include_in_schema=False, dependencies=[Depends(csrf_protect)]
)

FAILED = "relationships/link_failed.html"


def _failed(request: Request, detail: str) -> HTMLResponse:
    return render(request, FAILED, {"detail": detail}, status_code=400)


@router.get("/invitations/{token}", response_class=HTMLResponse)
def invitation(token: str, request: Request, session: SessionDep) -> HTMLResponse:
    try:
        found = brand_records.open_invitation(session, token)
    except AccordError as exc:
        return _failed(request, exc.detail)
    brand = brands.get_brand(session, found.brand_id)
    return render(request, "relationships/invitation.html", {"brand": brand, "token": token})


@router.post("/invitations/{token}", response_class=HTMLResponse)
async def answer_invitation(token: str, request: Request, session: SessionDep) -> Response:
    values = await read_form(request, ["answer"])
    if values["answer"] not in ("accept", "decline"):
        return _failed(request, "Choose to accept or to decline the invitation.")
    accept = values["answer"] == "accept"

    def act() -> Response:
        brand = brands.get_brand(session, brand_records.open_invitation(session, token).brand_id)
        person = brand_records.answer_invitation(session, token, accept)
        if not accept:
            return render(request, "relationships/invitation_declined.html", {"brand": brand})
        # Following the mailed link proves the address: the person is signed in.
        days = request.app.state.settings.session_days
        sign_in.begin(request, session, kind=sign_in.PERSON, subject_id=person.id, days=days)
        flash(
            request,
            f"You accepted {brand.name}'s invitation. Nothing is sent to you for marketing "
            "until you turn it on below.",
            "success",
        )
        return RedirectResponse(f"/relationships/{brand.id}", status_code=303)

    return act_or_fail(session, act, lambda exc: _failed(request, exc.detail))


@router.get("/consent/confirm", response_class=HTMLResponse)
def confirm_form(request: Request, token: str = "") -> HTMLResponse:
    return render(request, "relationships/consent_confirm.html", {"token": token})


@router.post("/consent/confirm", response_class=HTMLResponse)
async def confirm(request: Request, session: SessionDep) -> Response:
    values = await read_form(request, ["token"])

    def act() -> Response:
        _, brand_id = brand_records.confirm_consent(session, values["token"])
        brand = brands.get_brand(session, brand_id)
        return render(request, "relationships/consent_confirmed.html", {"brand": brand})

    return act_or_fail(session, act, lambda exc: _failed(request, exc.detail))
