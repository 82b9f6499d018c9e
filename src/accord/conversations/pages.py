"""The person's conversations: every thread, one thread with its messages and a reply form,
starting a conversation with a brand, downloading an attachment."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.orm import Session

from accord.brands import service as brands
from accord.conversations import inbox, service
from accord.conversations.page_forms import ReplyForm, StartForm
from accord.conversations.web import FIELD, download, form_uploads
from accord.core.errors import InvalidInput
from accord.core.web.csrf import csrf_protect
from accord.core.web.deps import SessionDep, SettingsDep
from accord.core.web.forms import handle_form, show_form
from accord.core.web.templates import flash, render
from accord.people.deps import PersonDep
from accord.relationships import service as relationships

router = APIRouter(
    tags=["conversation pages"], include_in_schema=False, dependencies=[Depends(csrf_protect)]
)

LIST = "conversations/person_list.html"
THREAD = "conversations/person_thread.html"
NEW = "conversations/person_new.html"
# Where a service error shows: the file input has no typed value; in a thread, an error about
# the relationship belongs at the top of the form.
START_FIELDS = {"attachments": FIELD}
REPLY_FIELDS = {"attachments": FIELD, "brand_id": "form"}


def _writable(session: Session, person_id: uuid.UUID) -> list[tuple[str, str]]:
    """The brands the person may write to (active or paused): (id, name), in one statement."""
    found = relationships.open_brands(session, person_id)
    return [(str(brand_id), name) for brand_id, name in found]


@router.get("/conversations", response_class=HTMLResponse)
def conversation_list(request: Request, person: PersonDep, session: SessionDep) -> HTMLResponse:
    rows = inbox.person_threads(session, person.person_id)
    can_start = bool(_writable(session, person.person_id))
    return render(request, LIST, {"rows": rows, "can_start": can_start})


@router.get("/conversations/new", response_class=HTMLResponse)
def new_form(
    request: Request,
    person: PersonDep,
    session: SessionDep,
    brand_id: Annotated[str, Query(max_length=36)] = "",
    subject: Annotated[str, Query(max_length=200)] = "",
) -> HTMLResponse:
    """The form, perhaps for a brand and a subject already (a reply to an in-app message)."""
    options = _writable(session, person.person_id)
    values = {"brand_id": brand_id, "subject": subject}
    return show_form(request, NEW, values, model=StartForm, brand_options=options)


@router.post("/conversations", response_class=HTMLResponse)
async def start(
    request: Request, person: PersonDep, session: SessionDep, settings: SettingsDep
) -> Response:
    uploads = await form_uploads(request)

    def act(data: StartForm) -> Response:
        brand_id = data.brand()
        if brand_id is None:
            raise InvalidInput("Choose a brand.", field="brand_id")
        thread, _ = service.start_person_thread(
            session,
            settings,
            person.person_id,
            brand_id,
            subject=data.subject,
            body=data.body,
            uploads=uploads,
        )
        brand = brands.get_brand(session, brand_id)
        flash(request, f"Your message is on its way to {brand.name}.", "success")
        return RedirectResponse(f"/conversations/{thread.id}", status_code=303)

    return await handle_form(
        request,
        session,
        StartForm,
        act,
        template=NEW,
        context=lambda: {"brand_options": _writable(session, person.person_id)},
        field_of=START_FIELDS,
    )


def _thread_context(session: Session, person_id: uuid.UUID, thread_id: uuid.UUID) -> dict[str, Any]:
    thread = service.for_person(session, person_id, thread_id)
    messages = service.messages(session, thread)
    return {
        "thread": thread,
        "brand": brands.get_brand(session, thread.brand_id),
        "messages": messages,
        "files": service.attachments_of(session, [m.id for m in messages]),
        "can_write": relationships.state_of(session, person_id, thread.brand_id)
        in ("active", "paused"),
    }


@router.get("/conversations/{thread_id}", response_class=HTMLResponse)
def thread_page(
    thread_id: uuid.UUID, request: Request, person: PersonDep, session: SessionDep
) -> HTMLResponse:
    context = _thread_context(session, person.person_id, thread_id)
    service.read_by_person(session, context["thread"])
    return show_form(request, THREAD, {}, model=ReplyForm, **context)


@router.post("/conversations/{thread_id}", response_class=HTMLResponse)
async def reply(
    thread_id: uuid.UUID,
    request: Request,
    person: PersonDep,
    session: SessionDep,
    settings: SettingsDep,
) -> Response:
    service.for_person(session, person.person_id, thread_id)  # someone else's: a 404 page
    uploads = await form_uploads(request)

    def act(data: ReplyForm) -> Response:
        service.person_reply(
            session, settings, person.person_id, thread_id, body=data.body, uploads=uploads
        )
        flash(request, "Your reply is sent.", "success")
        return RedirectResponse(f"/conversations/{thread_id}#latest", status_code=303)

    return await handle_form(
        request,
        session,
        ReplyForm,
        act,
        template=THREAD,
        context=lambda: _thread_context(session, person.person_id, thread_id),
        field_of=REPLY_FIELDS,
    )


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
