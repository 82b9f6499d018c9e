"""The person's settings across all brands, and their history of decisions with receipts."""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from datetime import datetime
from typing import Any, cast

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy import Uuid, bindparam, select
from sqlalchemy.orm import Session

from accord.brands.models import Brand
from accord.consent import service as consent
from accord.core.db import utcnow
from accord.core.direct import Direct
from accord.core.errors import NotFound
from accord.core.web.csrf import csrf_protect
from accord.core.web.deps import SessionDep
from accord.core.web.forms import handle_form, parse_form, show_form
from accord.core.web.templates import flash, render
from accord.people import service as people
from accord.people.deps import PersonDep
from accord.relationships import listing, service
from accord.relationships.history_text import HOW, sentence
from accord.relationships.models import Topic
from accord.relationships.page_forms import HHMM, local_input, local_text, parse_local, whole_number
from accord.relationships.receipts_view import receipt_for
from accord.relationships.schemas import GlobalPreferencesIn
from accord.relationships.service import PORTAL

router = APIRouter(
    tags=["portal pages"], include_in_schema=False, dependencies=[Depends(csrf_protect)]
)

FIELDS = ["quiet_start", "quiet_end", "global_cap", "do_not_contact", "paused_until"]
TEMPLATE = "relationships/settings.html"


def _shown(session: Session, person_id: uuid.UUID) -> tuple[dict[str, str], dict[str, Any]]:
    """The form's values for the stored settings, and what else the page shows."""
    prefs = service.global_preferences(session, person_id)
    me = people.get_person(session, person_id)
    zone = me.time_zone
    paused = prefs.paused_until is not None and prefs.paused_until > utcnow()
    values = {
        "quiet_start": prefs.quiet_start or "",
        "quiet_end": prefs.quiet_end or "",
        "global_cap": str(prefs.global_cap),
        "do_not_contact": "on" if prefs.do_not_contact else "",
        "paused_until": local_input(prefs.paused_until, zone) if paused else "",
    }
    paused_text = local_text(prefs.paused_until, zone, me.locale) if paused else ""
    extra = {"zone": zone, "paused_text": paused_text}
    return values, extra


@router.get("/settings", response_class=HTMLResponse)
def settings_form(request: Request, person: PersonDep, session: SessionDep) -> HTMLResponse:
    values, extra = _shown(session, person.person_id)
    return show_form(request, TEMPLATE, values, **extra)


def _parser(shown: dict[str, str], zone: str) -> Callable[[dict[str, str]], Any]:
    """The form's values as `GlobalPreferencesIn`, or the errors found on the way, by field."""

    def parse(values: dict[str, str]) -> GlobalPreferencesIn | dict[str, str]:
        errors: dict[str, str] = {}
        payload: dict[str, Any] = {
            "quiet_start": values["quiet_start"].strip() or None,
            "quiet_end": values["quiet_end"].strip() or None,
            "do_not_contact": bool(values["do_not_contact"]),
        }
        for name in ("quiet_start", "quiet_end"):
            if payload[name] is not None and not HHMM.match(payload[name]):
                errors[name] = "Use the 24-hour HH:MM form, for example 22:00."
        try:
            payload["global_cap"] = whole_number(values["global_cap"], 0, 500)
        except ValueError as exc:
            errors["global_cap"] = str(exc)
        # Sent only when changed: an untouched "pause until" must not re-pause or resume anything.
        if values["paused_until"].strip() != shown["paused_until"]:
            try:
                payload["paused_until"] = parse_local(values["paused_until"], zone)
            except ValueError as exc:
                errors["paused_until"] = str(exc)
        return errors or parse_form(GlobalPreferencesIn, payload)

    return parse


@router.post("/settings", response_class=HTMLResponse)
async def save_settings(request: Request, person: PersonDep, session: SessionDep) -> Response:
    shown, extra = _shown(session, person.person_id)

    def act(data: GlobalPreferencesIn) -> Response:
        made = service.apply_global(session, person.person_id, data, PORTAL)
        flash(request, "Your settings are saved." if made else "Nothing changed.", "success")
        return RedirectResponse("/settings", status_code=303)

    return await handle_form(
        request,
        session,
        _parser(shown, extra["zone"]),
        act,
        template=TEMPLATE,
        fields=FIELDS,
        context=lambda: _shown(session, person.person_id)[1],
    )


@router.post("/settings/resume")
def resume_all(request: Request, person: PersonDep, session: SessionDep) -> Response:
    change = GlobalPreferencesIn(paused_until=None)
    service.apply_global(session, person.person_id, change, PORTAL)
    flash(request, "Every brand may reach you again, as you chose per brand.", "success")
    return RedirectResponse("/settings", status_code=303)


def _until(value: dict[str, Any], zone: str, locale: str) -> str:
    raw = value.get("until")
    if not raw:
        return ""
    return local_text(datetime.fromisoformat(str(raw).replace("Z", "+00:00")), zone, locale)


# The names the history's sentences use, built once and run on the cursor (`core.direct`):
# only the ids and names, not every brand's and topic's ORM row on every view.
_BRAND_NAMES = Direct(select(Brand.id, Brand.name))
_TOPIC_NAMES = Direct(
    select(Topic.id, Topic.name).where(Topic.brand_id == bindparam("brand", type_=Uuid()))
)


@router.get("/history", response_class=HTMLResponse)
def history(request: Request, person: PersonDep, session: SessionDep) -> HTMLResponse:
    zone, locale = listing.zone_and_locale(session, person.person_id)
    brand_names = {str(b.id): b.name for b in _BRAND_NAMES.all(session)}
    events = service.history(session, person.person_id)
    topic_names: dict[str, str] = {}
    bodies = [cast(dict[str, Any], e["body"]) for e in events]
    for brand_id in {str(b["brand"]) for b in bodies if b.get("brand")}:
        if brand_id in brand_names:
            topics = _TOPIC_NAMES.all(session, brand=uuid.UUID(brand_id))
            topic_names.update({str(t.id): t.name for t in topics})
    rows = []
    for event, body in zip(events, bodies, strict=True):
        rows.append(
            {
                "seq": event["seq"],
                "text": sentence(
                    body, brand_names, topic_names, _until(body["value"], zone, locale)
                ),
                "how": HOW.get(body["source"], body["source"]),
                "at": local_text(cast(datetime, event["at"]), zone, locale),
            }
        )
    checked, breaks = consent.verify(session, subject=person.person_id)
    context = {"rows": rows, "checked": checked, "broken": breaks[0] if breaks else None}
    return render(request, "relationships/history.html", context)


@router.get("/history/{seq}/receipt")
def receipt(seq: int, request: Request, person: PersonDep, session: SessionDep) -> Response:
    """The signed receipt of one decision, as a file to keep."""
    event = next((e for e in consent.events_for(session, person.person_id) if e.seq == seq), None)
    if event is None:
        raise NotFound("No such decision in your history.")
    document = receipt_for(session, request, event)
    return Response(
        json.dumps(document, indent=2, ensure_ascii=False),
        media_type="application/json",
        headers={"Content-Disposition": f'attachment; filename="accord-receipt-{seq}.json"'},
    )
