"""The open pixel and the click redirect: no cookie, no login (mail clients and browsers call
them); a forged or altered token is a 404, never a redirect elsewhere."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import RedirectResponse, Response

from accord.core.web.deps import SessionDep, SettingsDep
from accord.delivery import tracking

router = APIRouter(tags=["tracking"], include_in_schema=False)
NO_STORE = {"Cache-Control": "no-store", "Referrer-Policy": "no-referrer"}


@router.get("/t/c/{token}")
def click(token: str, session: SessionDep, settings: SettingsDep) -> Response:
    target = tracking.record(session, settings.resolved_secret_key(), token, tracking.CLICK)
    assert target is not None
    return RedirectResponse(target, status_code=302, headers=NO_STORE)


@router.get("/t/o/{token}.gif")
def opened(token: str, session: SessionDep, settings: SettingsDep) -> Response:
    tracking.record(session, settings.resolved_secret_key(), token, tracking.OPEN)
    return Response(tracking.PIXEL, media_type="image/gif", headers=NO_STORE)
