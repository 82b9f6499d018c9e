"""The person's data pages: export everything, erase what one brand holds, delete the account."""

from __future__ import annotations

import json
import uuid

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from accord.brands import service as brands
from accord.core.db import utcnow
from accord.core.web import sign_in
from accord.core.web.csrf import csrf_protect
from accord.core.web.deps import SessionDep, SettingsDep
from accord.core.web.forms import handle_form
from accord.core.web.templates import flash, render
from accord.people import service as people
from accord.people.deps import PersonDep
from accord.privacy import service
from accord.privacy.api import full_export

router = APIRouter(
    tags=["privacy pages"], include_in_schema=False, dependencies=[Depends(csrf_protect)]
)

DELETE = "privacy/delete_account.html"


@router.get("/export")
def export(request: Request, person: PersonDep, session: SessionDep) -> Response:
    """Everything Accord holds about the person, with every receipt, as a file."""
    document = full_export(session, request, person.person_id)
    name = f"accord-export-{utcnow().strftime('%Y%m%d')}.json"
    return Response(
        json.dumps(document, indent=2, ensure_ascii=False, default=str),
        media_type="application/json",
        headers={
            "Content-Disposition": f'attachment; filename="{name}"',
            "Cache-Control": "no-store",
        },
    )


@router.post("/relationships/{brand_id}/erase")
def erase_for_brand(
    brand_id: uuid.UUID,
    request: Request,
    person: PersonDep,
    session: SessionDep,
    settings: SettingsDep,
) -> Response:
    """End the relationship and erase what the brand holds; it can never re-add the address."""
    brand = brands.get_brand(session, brand_id)
    service.erase_for_brand(session, settings, person.person_id, brand_id)
    flash(
        request,
        f"Your relationship with {brand.name} has ended and what it held about you is erased. "
        f"{brand.name} can never add your address again.",
        "success",
    )
    return RedirectResponse(f"/relationships/{brand_id}", status_code=303)


@router.get("/account/delete", response_class=HTMLResponse)
def delete_form(request: Request, person: PersonDep, session: SessionDep) -> HTMLResponse:
    me = people.get_person(session, person.person_id)
    return render(request, DELETE, {"me": me})


def _confirmed(values: dict[str, str]) -> bool | dict[str, str]:
    if not values["confirm"]:
        return {"confirm": "Tick the box to confirm that you want your account deleted."}
    return True


@router.post("/account/delete", response_class=HTMLResponse)
async def delete_account(
    request: Request, person: PersonDep, session: SessionDep, settings: SettingsDep
) -> Response:
    def act(_: bool) -> Response:
        service.erase_account(session, settings, person.person_id)
        sign_in.end_all(session, kind=sign_in.PERSON, subject_id=person.person_id)
        request.session.clear()
        flash(
            request,
            "Your account is deleted. The proof of your decisions stays, without your data.",
        )
        return RedirectResponse("/", status_code=303)

    return await handle_form(
        request,
        session,
        _confirmed,
        act,
        template=DELETE,
        fields=["confirm"],
        context=lambda: {"me": people.get_person(session, person.person_id)},
    )
