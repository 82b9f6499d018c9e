"""The portal's push page (subscribe this browser, see and remove subscriptions) and the two
scripts it needs, served by Accord itself (no CDN): the service worker and the button's."""

from __future__ import annotations

import uuid
from pathlib import Path

from fastapi import APIRouter, Depends, Request
from fastapi.responses import FileResponse, HTMLResponse, RedirectResponse, Response

from accord.core.web.csrf import csrf_protect, csrf_token
from accord.core.web.deps import SessionDep, SettingsDep
from accord.core.web.templates import flash, render
from accord.people import service as people
from accord.people.deps import PersonDep
from accord.push import service

STATIC = Path(__file__).resolve().parent / "static"
SCOPE = "/push/"

router = APIRouter(
    tags=["push pages"], include_in_schema=False, dependencies=[Depends(csrf_protect)]
)


@router.get("/push/sw.js")
def service_worker() -> FileResponse:
    # Never cached for long: browsers check the worker for updates against this response.
    return FileResponse(
        STATIC / "sw.js",
        media_type="text/javascript",
        headers={"Cache-Control": "no-cache", "Service-Worker-Allowed": SCOPE},
    )


@router.get("/push/subscribe.js")
def subscribe_script() -> FileResponse:
    return FileResponse(STATIC / "subscribe.js", media_type="text/javascript")


@router.get("/push", response_class=HTMLResponse)
def push_page(
    request: Request, person: PersonDep, session: SessionDep, settings: SettingsDep
) -> HTMLResponse:
    return render(
        request,
        "push/push.html",
        {
            "subscriptions": service.subscriptions(session, person.person_id),
            "public_key": service.public_key(settings),
            "csrf": csrf_token(request),
            "worker": f"{SCOPE}sw.js",
            "scope": SCOPE,
        },
    )


@router.post("/push/{contact_id}/remove")
def remove(
    contact_id: uuid.UUID, request: Request, person: PersonDep, session: SessionDep
) -> Response:
    people.remove_contact_point(session, person.person_id, contact_id)
    flash(request, "That browser no longer receives push notifications from Accord.", "success")
    return RedirectResponse("/push", status_code=303)
