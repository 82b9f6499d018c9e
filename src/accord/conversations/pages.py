"""The person's conversations: every thread, one thread with its messages and a reply form,
starting a conversation with a brand, downloading an attachment."""

from __future__ import annotations

import uuid
from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.orm import Session

from accord.brands import service as brands
from accord.conversations import inbox, service, threads
from accord.conversations.web import FIELD, download, form_uploads
from accord.core.errors import AccordError
from accord.core.web.csrf import csrf_protect
from accord.core.web.deps import SessionDep, SettingsDep
from accord.core.web.forms import form_page, read_form
from accord.core.web.templates import flash, render
from accord.people.deps import PersonDep
from accord.relationships import service as relationships

router = APIRouter(
    tags=["conversation pages"], include_in_schema=False, dependencies=[Depends(csrf_protect)]
)

LIST = "conversations/person_list.html"
THREAD = "conversations/person_thread.html"
NEW = "conversations/person_new.html"
# Service errors name API fields; the forms call some of them otherwise.
FORM_FIELD = {"brand_id": "form", "attachments": FIELD}


def _field(exc: AccordError) -> str:
    return FORM_FIELD.get(exc.field or "", exc.field or "form")


def _writable(session: Session, person_id: uuid.UUID) -> list[tuple[str, str]]:
    """The brands the person may write to: (id, name)."""
    return [
        (str(brand.id), brand.name)
        for rel, brand, _ in relationships.for_person(session, person_id)
        if relationships.state_of(session, person_id, brand.id) in ("active", "paused")
    ]


@router.get("/conversations", response_class=HTMLResponse)
def conversation_list(request: Request, person: PersonDep, session: SessionDep) -> HTMLResponse:
    rows = inbox.person_threads(session, person.person_id)
    return render(
        request, LIST, {"rows": rows, "can_start": bool(_writable(session, person.person_id))}
    )


def _new_page(
    request: Request,
    session: Session,
    person_id: uuid.UUID,
    values: dict[str, str],
    errors: dict[str, str] | None = None,
) -> HTMLResponse:
    context = {"brand_options": _writable(session, person_id)}
    if errors:
        return form_page(request, NEW, values, errors, **context)
    return render(request, NEW, {"values": values, **context})


@router.get("/conversations/new", response_class=HTMLResponse)
def new_form(
    request: Request, person: PersonDep, session: SessionDep, brand_id: str = ""
) -> HTMLResponse:
    return _new_page(request, session, person.person_id, {"brand_id": brand_id})


@router.post("/conversations", response_class=HTMLResponse)
async def start(
    request: Request, person: PersonDep, session: SessionDep, settings: SettingsDep
) -> Response:
    values = await read_form(request, ["brand_id", "subject", "body"])
    uploads = await form_uploads(request)
    try:
        brand_id = uuid.UUID(values["brand_id"])
    except ValueError:
        return _new_page(
            request, session, person.person_id, values, {"brand_id": "Choose a brand."}
        )
    try:
        thread, _ = service.start_person_thread(
            session,
            settings,
            person.person_id,
            brand_id,
            subject=values["subject"],
            body=values["body"],
            uploads=uploads,
        )
    except AccordError as exc:
        session.rollback()
        field = "brand_id" if exc.field == "brand_id" else _field(exc)
        return _new_page(request, session, person.person_id, values, {field: exc.detail})
    brand = brands.get_brand(session, brand_id)
    flash(request, f"Your message is on its way to {brand.name}.", "success")
    return RedirectResponse(f"/conversations/{thread.id}", status_code=303)


def _thread_context(session: Session, person_id: uuid.UUID, thread: Any) -> dict[str, Any]:
    messages = service.messages(session, thread)
    return {
        "thread": thread,
        "brand": brands.get_brand(session, thread.brand_id),
        "messages": messages,
        "files": service.attachments_of(session, [m.id for m in messages]),
        "can_write": relationships.state_of(session, person_id, thread.brand_id)
        in ("active", "paused"),
        "max_bytes": threads.MAX_BODY_CHARS,
    }


@router.get("/conversations/{thread_id}", response_class=HTMLResponse)
def thread_page(
    thread_id: uuid.UUID, request: Request, person: PersonDep, session: SessionDep
) -> HTMLResponse:
    thread = service.for_person(session, person.person_id, thread_id)
    context = _thread_context(session, person.person_id, thread)
    service.read_by_person(session, thread)
    return render(request, THREAD, context)


@router.post("/conversations/{thread_id}", response_class=HTMLResponse)
async def reply(
    thread_id: uuid.UUID,
    request: Request,
    person: PersonDep,
    session: SessionDep,
    settings: SettingsDep,
) -> Response:
    thread = service.for_person(session, person.person_id, thread_id)
    values = await read_form(request, ["body"])
    uploads = await form_uploads(request)
    try:
        service.person_reply(
            session, settings, person.person_id, thread.id, body=values["body"], uploads=uploads
        )
    except AccordError as exc:
        session.rollback()
        thread = service.for_person(session, person.person_id, thread_id)
        context = _thread_context(session, person.person_id, thread)
        return form_page(request, THREAD, values, {_field(exc): exc.detail}, **context)
    flash(request, "Your reply is sent.", "success")
    return RedirectResponse(f"/conversations/{thread_id}#latest", status_code=303)


@router.get("/conversations/attachments/{attachment_id}")
def attachment(attachment_id: uuid.UUID, person: PersonDep, session: SessionDep) -> Response:
    return download(service.attachment_for_person(session, person.person_id, attachment_id))


def relationship_panel(
    session: Session, person_id: uuid.UUID, brand_id: uuid.UUID | None
) -> dict[str, object]:
    """The relationship page's conversations with the brand, and where to start one."""
    if brand_id is None:
        return {"threads": [], "can_start": False}
    return {
        "threads": inbox.person_threads(session, person_id, brand_id, limit=20),
        "can_start": relationships.state_of(session, person_id, brand_id) in ("active", "paused"),
        "brand_id": brand_id,
    }
