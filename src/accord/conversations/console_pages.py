"""The brand console's inbox: threads by filter with unread counts and previews, one thread
with its messages and internal notes, replying (saved replies, attachments, close), assigning,
closing and reopening, starting a conversation, saved replies and the digest setting."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.orm import Session

from accord.brands import service as brands
from accord.brands.deps import BrandDep
from accord.conversations import console_reads, digest, inbox, saved, service
from accord.conversations.inbox import FILTER_TEXT, Filter
from accord.conversations.page_forms import (
    AssignForm,
    BrandReplyForm,
    BrandStartForm,
    NoteForm,
    SavedReplyForm,
    StatusForm,
)
from accord.conversations.web import FIELD, download, form_uploads
from accord.core.errors import InvalidInput, NotFound
from accord.core.permissions import Permission, role_allows
from accord.core.principals import BrandCaller
from accord.core.web.csrf import csrf_protect
from accord.core.web.deps import SessionDep, SettingsDep
from accord.core.web.forms import FormInvalid, handle_form, limits, read_form, show_form
from accord.core.web.templates import flash, render
from accord.people import service as people

router = APIRouter(
    prefix="/console",
    tags=["console"],
    include_in_schema=False,
    dependencies=[Depends(csrf_protect)],
)

LIST = "conversations/inbox.html"
THREAD = "conversations/console_thread.html"
NEW = "conversations/console_new.html"
SAVED = "conversations/saved_replies.html"
FIELD_OF = {"attachments": FIELD, "person_id": "person"}


def _redirect(path: str) -> RedirectResponse:
    return RedirectResponse(path, status_code=303)


def person_name(display_name: str | None) -> str:
    return display_name or "A customer"


@router.get("/conversations", response_class=HTMLResponse)
def inbox_page(
    request: Request,
    caller: BrandDep,
    session: SessionDep,
    filter: str = "open",
    cursor: str | None = None,
) -> HTMLResponse:
    caller.require(Permission.converse)
    try:
        kind = Filter(filter)
    except ValueError:
        raise InvalidInput("Unknown filter.", field="filter") from None
    if kind is Filter.mine and caller.member_id is None:
        kind = Filter.open
    rows, next_cursor = inbox.page(
        session, caller.brand_id, kind, member_id=caller.member_id, cursor=cursor
    )
    digest_on = (
        digest.enabled(session, caller.member_id, caller.brand_id) if caller.member_id else False
    )
    context = {
        "brand": brands.caller_brand(session, caller),
        "rows": rows,
        "names": {r.id: person_name(r.person_name) for r in rows},
        "filter": kind.value,
        "filters": [(f.value, text) for f, text in FILTER_TEXT.items()],
        "counts": {
            name: inbox.count_text(n)
            for name, n in inbox.counts(session, caller.brand_id, caller.member_id).items()
        },
        "times": inbox.service_times(session, caller.brand_id),
        "duration": inbox.duration_text,
        "next_cursor": next_cursor,
        "digest_on": digest_on,
        "is_member": caller.member_id is not None,
    }
    return render(request, LIST, context)


@router.post("/conversations/digest")
async def digest_setting(request: Request, caller: BrandDep, session: SessionDep) -> Response:
    caller.require(Permission.converse)
    values = await read_form(request, ["enabled"])
    if caller.member_id is None:
        raise InvalidInput("Only members get the digest.", field="enabled")
    on = values["enabled"] == "on"
    digest.set_enabled(session, caller.member_id, caller.brand_id, on)
    flash(
        request,
        "You will get a digest e-mail of new messages."
        if on
        else "The digest e-mail is off: you will not get it.",
        "success",
    )
    return _redirect("/console/conversations")


@router.get("/conversations/new", response_class=HTMLResponse)
def new_form(
    request: Request, caller: BrandDep, session: SessionDep, person: str = ""
) -> HTMLResponse:
    caller.require(Permission.converse)
    brand = brands.caller_brand(session, caller)
    return show_form(request, NEW, {"person": person}, model=BrandStartForm, brand=brand)


def _find_person(session: Session, typed: str) -> uuid.UUID | None:
    """A person by id or by e-mail address; None when there is no such person (the caller
    answers the same as for someone not related, so nothing leaks)."""
    typed = typed.strip()
    try:
        return uuid.UUID(typed)
    except ValueError:
        found = people.find_by_email(session, typed) if "@" in typed else None
        return found.id if found is not None else None


@router.post("/conversations/new", response_class=HTMLResponse)
async def start(
    request: Request, caller: BrandDep, session: SessionDep, settings: SettingsDep
) -> Response:
    caller.require(Permission.converse)
    uploads = await form_uploads(request)
    brand = brands.caller_brand(session, caller)
    unknown = f"No one with this address or id follows {brand.name}."

    def act(data: BrandStartForm) -> Response:
        person_id = _find_person(session, data.person)
        if person_id is None:
            raise FormInvalid({"person": unknown})
        try:
            thread, _ = service.start_brand_thread(
                session,
                settings,
                caller,
                person_id,
                subject=data.subject,
                body=data.body,
                uploads=uploads,
                via="console",
            )
        except NotFound:
            raise FormInvalid({"person": unknown}) from None
        flash(
            request, "The conversation is started; the person is told on their channel.", "success"
        )
        return _redirect(f"/console/conversations/{thread.id}")

    return await handle_form(
        request,
        session,
        BrandStartForm,
        act,
        template=NEW,
        context=lambda: {"brand": brand},
        field_of=FIELD_OF,
    )


def _thread_context(
    session: Session, caller: BrandCaller, thread_id: uuid.UUID, saved_id: str = ""
) -> dict[str, Any]:
    thread = service.for_brand(session, caller.brand_id, thread_id)
    # What the page shows, read as its columns (`console_reads`), not as objects.
    messages = console_reads.messages(session, thread.id)
    members = brands.member_names(session, caller.brand_id, limit=200)
    display_name = console_reads.person_display_name(session, thread.person_id)
    replies = console_reads.saved_replies(session, caller.brand_id)
    chosen = next((r for r in replies if str(r.id) == saved_id), None)
    notes = console_reads.notes(session, thread.id)
    # Messages and notes in one timeline, oldest first.
    timeline = sorted(
        [("message", m.created_at, m) for m in messages]
        + [("note", n.created_at, n) for n in notes],
        key=lambda item: item[1],
    )
    return {
        # The caller's brand row, read with the member (only its name is shown).
        "brand": brands.caller_brand(session, caller),
        "thread": thread,
        "person_name": person_name(display_name),
        "timeline": timeline,
        "files": console_reads.attachments(session, thread.id) if messages else {},
        "member_names": {m.id: m.display_name or m.email for m in members},
        "member_options": [("", "Nobody")]
        + [(str(m.id), m.display_name or m.email) for m in members],
        "saved_replies": replies,
        "relationship_open": service.brand_may_answer_now(session, thread),
        "limits": limits(BrandReplyForm),
        "values": {
            "body": chosen.body if chosen else "",
            "member_id": str(thread.assigned_member_id or ""),
            "saved": saved_id,
        },
    }


@router.get("/conversations/{thread_id}", response_class=HTMLResponse)
def thread_page(
    thread_id: uuid.UUID, request: Request, caller: BrandDep, session: SessionDep, saved: str = ""
) -> HTMLResponse:
    caller.require(Permission.converse)
    context = _thread_context(session, caller, thread_id, saved)
    service.read_by_brand(session, context["thread"])
    return show_form(request, THREAD, context.pop("values"), **context)


async def _thread_form(
    request: Request,
    session: Session,
    caller: BrandCaller,
    thread_id: uuid.UUID,
    parse: Any,
    act: Callable[[Any], Response],
    field_of: dict[str, str] | None = None,
) -> Response:
    """A form of the thread page: acted on, or the page again with the error beside it."""
    caller.require(Permission.converse)
    service.for_brand(session, caller.brand_id, thread_id)  # another brand's: a 404 page
    return await handle_form(
        request,
        session,
        parse,
        act,
        template=THREAD,
        context=lambda: _thread_context(session, caller, thread_id),
        field_of=field_of or FIELD_OF,
    )


@router.post("/conversations/{thread_id}/reply", response_class=HTMLResponse)
async def reply(
    thread_id: uuid.UUID,
    request: Request,
    caller: BrandDep,
    session: SessionDep,
    settings: SettingsDep,
) -> Response:
    uploads = await form_uploads(request)

    def act(data: BrandReplyForm) -> Response:
        close = data.close == "on"
        service.brand_reply(
            session,
            settings,
            caller,
            thread_id,
            body=data.body,
            uploads=uploads,
            via="console",
            close=close,
        )
        flash(
            request,
            "Your reply is sent." + (" The conversation is closed." if close else ""),
            "success",
        )
        return _redirect(f"/console/conversations/{thread_id}#latest")

    return await _thread_form(request, session, caller, thread_id, BrandReplyForm, act)


@router.post("/conversations/{thread_id}/notes", response_class=HTMLResponse)
async def add_note(
    thread_id: uuid.UUID, request: Request, caller: BrandDep, session: SessionDep
) -> Response:
    def act(data: NoteForm) -> Response:
        thread = service.for_brand(session, caller.brand_id, thread_id)
        service.note(session, thread, data.note, caller.member_id)
        flash(request, "The note is saved. Only members see it.", "success")
        return _redirect(f"/console/conversations/{thread_id}")

    return await _thread_form(request, session, caller, thread_id, NoteForm, act, {"body": "note"})


@router.post("/conversations/{thread_id}/assign", response_class=HTMLResponse)
async def assign(
    thread_id: uuid.UUID, request: Request, caller: BrandDep, session: SessionDep
) -> Response:
    def act(data: AssignForm) -> Response:
        thread = service.for_brand(session, caller.brand_id, thread_id)
        try:
            member_id = uuid.UUID(data.member_id) if data.member_id else None
            service.assign(session, thread, member_id)
        except (ValueError, NotFound):
            raise FormInvalid({"member_id": "Choose a member of your brand."}) from None
        flash(
            request,
            "The conversation is assigned." if member_id else "Nobody is assigned now.",
            "success",
        )
        return _redirect(f"/console/conversations/{thread_id}")

    return await _thread_form(request, session, caller, thread_id, AssignForm, act)


@router.post("/conversations/{thread_id}/status", response_class=HTMLResponse)
async def status(
    thread_id: uuid.UUID, request: Request, caller: BrandDep, session: SessionDep
) -> Response:
    def act(data: StatusForm) -> Response:
        thread = service.for_brand(session, caller.brand_id, thread_id)
        service.set_status(session, thread, data.status)
        closed = thread.status == "closed"
        flash(
            request,
            "The conversation is closed." if closed else "The conversation is open again.",
            "success",
        )
        return _redirect(f"/console/conversations/{thread_id}")

    return await _thread_form(
        request, session, caller, thread_id, StatusForm, act, {"status": "form"}
    )


@router.get("/conversations/attachments/{attachment_id}")
def attachment(attachment_id: uuid.UUID, caller: BrandDep, session: SessionDep) -> Response:
    caller.require(Permission.converse)
    return download(service.attachment_for_brand(session, caller.brand_id, attachment_id))


def _saved_context(session: Session, caller: BrandCaller) -> dict[str, Any]:
    return {
        "brand": brands.caller_brand(session, caller),
        "replies": saved.listing(session, caller.brand_id),
    }


@router.get("/saved-replies", response_class=HTMLResponse)
def saved_replies(request: Request, caller: BrandDep, session: SessionDep) -> HTMLResponse:
    caller.require(Permission.converse)
    return show_form(request, SAVED, {}, model=SavedReplyForm, **_saved_context(session, caller))


@router.post("/saved-replies", response_class=HTMLResponse)
async def create_saved(request: Request, caller: BrandDep, session: SessionDep) -> Response:
    caller.require(Permission.converse)

    def act(data: SavedReplyForm) -> Response:
        saved.create(session, caller.brand_id, data.title, data.body)
        flash(request, "The saved reply is ready to use.", "success")
        return _redirect("/console/saved-replies")

    return await handle_form(
        request,
        session,
        SavedReplyForm,
        act,
        template=SAVED,
        context=lambda: _saved_context(session, caller),
    )


@router.post("/saved-replies/{reply_id}/delete")
def delete_saved(
    reply_id: uuid.UUID, request: Request, caller: BrandDep, session: SessionDep
) -> Response:
    caller.require(Permission.converse)
    saved.delete(session, caller.brand_id, reply_id)
    flash(request, "The saved reply is deleted.", "success")
    return _redirect("/console/saved-replies")


def dashboard_panel(session: Session, caller: BrandCaller) -> dict[str, Any] | None:
    """The console home's conversations section (for members who may reply)."""
    if not role_allows(caller.role, Permission.converse):
        return None
    counts, rows, times = inbox.summary(session, caller.brand_id, caller.member_id)
    return {
        "waiting": inbox.count_text(counts["waiting"]),
        "mine": inbox.count_text(counts["mine"]),
        "rows": rows,
        "names": {r.id: person_name(r.person_name) for r in rows},
        "times": times,
        "duration": inbox.duration_text,
    }
