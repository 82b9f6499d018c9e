"""The person's data pages: export everything, erase what one brand holds, delete the account."""

from __future__ import annotations

import json
import uuid
from typing import Any

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
SUMMARY = "privacy/export_summary.html"
# Names a person reads for the tables of the export (others: the table name in words).
TABLE_TITLES = {
    "contact_points": "Your contact points",
    "relationships": "Your relationships",
    "purpose_grants": "Purposes you allowed",
    "channel_choices": "Channels you chose",
    "topic_choices": "Topics you chose",
    "global_preferences": "Your settings for all brands",
}


def _cell(value: Any) -> str:
    if value is None or value == "":
        return "—"
    if isinstance(value, dict | list):
        return json.dumps(value, ensure_ascii=False, default=str)
    return str(value)


def _sections(counts: dict[str, int]) -> tuple[list[dict[str, Any]], list[str]]:
    """Each table that holds rows as a section (title, rows held), and the empty ones."""
    sections, empty = [], []
    for name in sorted(counts, key=lambda n: (n not in TABLE_TITLES, n)):
        if name in ("people", "ledger_events"):
            continue
        title = TABLE_TITLES.get(name, name.replace("_", " ").capitalize())
        if counts[name]:
            sections.append({"id": name.replace("_", "-"), "title": title, "rows": counts[name]})
        else:
            empty.append(title)
    return sections, empty


@router.get("/export/summary", response_class=HTMLResponse)
def export_summary(request: Request, person: PersonDep, session: SessionDep) -> HTMLResponse:
    """What the export holds, counted, as a page a person reads (the JSON file has every row:
    counting is one statement, where reading it all took a query and a table per kind)."""
    profile, counts = service.summary(session, person.person_id)
    sections, empty = _sections(counts)
    context = {
        "profile": [(k.replace("_", " ").capitalize(), _cell(v)) for k, v in profile.items()],
        "sections": sections,
        "empty": empty,
        "decisions": counts.get("ledger_events", 0),
        "proffers": counts.get("terms_proffers", 0),
        "exported_at": utcnow(),
    }
    return render(request, SUMMARY, context)


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
