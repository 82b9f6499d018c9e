"""The conversation APIs: the brand's threads, messages, notes and saved replies; a person's
own threads. Lists page with cursors; every POST takes an Idempotency-Key."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from fastapi import APIRouter, Query, Response, status

from accord.brands.deps import BRAND_SCOPED, BrandDep
from accord.conversations import service
from accord.conversations.inbox import Filter
from accord.conversations.models import Message, Thread
from accord.conversations.schemas import (
    AttachmentOut,
    BrandMessageIn,
    BrandThreadIn,
    MessageIn,
    MessageOut,
    NoteIn,
    NoteOut,
    PersonMessageOut,
    PersonThreadIn,
    PersonThreadOut,
    SavedReplyIn,
    SavedReplyOut,
    ServiceTimesOut,
    ThreadOut,
    ThreadPatch,
    ThreadSummary,
)
from accord.conversations.web import download
from accord.core.pagination import Page
from accord.core.permissions import Permission
from accord.core.web.deps import SessionDep, SettingsDep
from accord.core.web.params import CursorParam
from accord.people.deps import PersonDep

router = APIRouter(tags=["conversations", BRAND_SCOPED])
person_router = APIRouter(prefix="/me", tags=["my conversations"])
Limit = Query(default=50, ge=1, le=200)


def thread_out(thread: Thread) -> ThreadOut:
    return ThreadOut(
        id=thread.id,
        person_id=thread.person_id,
        subject=thread.subject,
        status=thread.status,
        waiting_on=thread.waiting_on,
        started_by=thread.started_by,
        assigned_member_id=thread.assigned_member_id,
        unread=thread.brand_unread,
        message_count=thread.message_count,
        last_message_at=thread.last_message_at,
        last_preview=thread.last_preview,
        first_response_seconds=thread.first_response_seconds,
        resolution_seconds=thread.resolution_seconds,
        created_at=thread.created_at,
        closed_at=thread.closed_at,
    )


def _files(
    session: SessionDep, messages: Sequence[Message]
) -> dict[uuid.UUID, list[AttachmentOut]]:
    found = service.attachments_of(session, [m.id for m in messages])
    return {
        key: [
            AttachmentOut(id=f.id, filename=f.filename, content_type=f.content_type, size=f.size)
            for f in files
        ]
        for key, files in found.items()
    }


def message_out(message: Message, files: dict[uuid.UUID, list[AttachmentOut]]) -> MessageOut:
    return MessageOut(
        id=message.id,
        thread_id=message.thread_id,
        author=message.author,
        member_id=message.member_id,
        via=message.via,
        body=message.body,
        original=message.original,
        created_at=message.created_at,
        attachments=files.get(message.id, []),
    )


# --- brand -----------------------------------------------------------------------------------


@router.get("/threads", response_model=Page[ThreadSummary])
def list_threads(
    caller: BrandDep,
    session: SessionDep,
    filter: Filter = Filter.open,
    cursor: CursorParam = None,
    limit: int = Limit,
) -> Page[ThreadSummary]:
    """The inbox, newest activity first: `open`, `waiting` (on you), `mine` (assigned to the
    signed-in member), `closed` or `all`."""
    caller.require(Permission.converse)
    rows, next_cursor = service.page(
        session, caller.brand_id, filter, member_id=caller.member_id, cursor=cursor, limit=limit
    )
    return Page(
        items=[
            ThreadSummary(
                id=r.id,
                person_id=r.person_id,
                person_name=r.person_name,
                subject=r.subject,
                status=r.status,
                waiting_on=r.waiting_on,
                unread=r.unread,
                last_message_at=r.last_message_at,
                last_author=r.last_author,
                preview=r.preview,
                assigned_member_id=r.assigned_member_id,
            )
            for r in rows
        ],
        next_cursor=next_cursor,
    )


@router.post("/threads", response_model=ThreadOut, status_code=status.HTTP_201_CREATED)
def start_thread(
    data: BrandThreadIn, caller: BrandDep, session: SessionDep, settings: SettingsDep
) -> ThreadOut:
    """Write first to a related person (not ended, no "no contact"); they are told on the
    channel they chose for transactional messages."""
    caller.require(Permission.converse)
    thread, _ = service.start_brand_thread(
        session,
        settings,
        caller,
        data.person_id,
        subject=data.subject,
        body=data.body,
        uploads=[a.upload() for a in data.attachments],
        via="api",
    )
    return thread_out(thread)


@router.get("/threads/{thread_id}", response_model=ThreadOut)
def read_thread(thread_id: uuid.UUID, caller: BrandDep, session: SessionDep) -> ThreadOut:
    caller.require(Permission.converse)
    return thread_out(service.for_brand(session, caller.brand_id, thread_id))


@router.patch("/threads/{thread_id}", response_model=ThreadOut)
def update_thread(
    thread_id: uuid.UUID, data: ThreadPatch, caller: BrandDep, session: SessionDep
) -> ThreadOut:
    """Close or reopen; assign to a member (null: nobody)."""
    caller.require(Permission.converse)
    thread = service.for_brand(session, caller.brand_id, thread_id)
    if data.status is not None:
        service.set_status(session, thread, data.status)
    if "assigned_member_id" in data.model_fields_set:
        service.assign(session, thread, data.assigned_member_id)
    return thread_out(thread)


@router.post("/threads/{thread_id}/read", status_code=status.HTTP_204_NO_CONTENT)
def mark_read(thread_id: uuid.UUID, caller: BrandDep, session: SessionDep) -> Response:
    caller.require(Permission.converse)
    service.read_by_brand(session, service.for_brand(session, caller.brand_id, thread_id))
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get("/threads/{thread_id}/messages", response_model=Page[MessageOut])
def list_messages(
    thread_id: uuid.UUID,
    caller: BrandDep,
    session: SessionDep,
    cursor: CursorParam = None,
    limit: int = Limit,
) -> Page[MessageOut]:
    """The thread's messages, newest first."""
    caller.require(Permission.converse)
    thread = service.for_brand(session, caller.brand_id, thread_id)
    rows, next_cursor = service.message_page(session, thread, cursor=cursor, limit=limit)
    files = _files(session, rows)
    return Page(items=[message_out(m, files) for m in rows], next_cursor=next_cursor)


@router.post(
    "/threads/{thread_id}/messages", response_model=MessageOut, status_code=status.HTTP_201_CREATED
)
def reply(
    thread_id: uuid.UUID,
    data: BrandMessageIn,
    caller: BrandDep,
    session: SessionDep,
    settings: SettingsDep,
) -> MessageOut:
    caller.require(Permission.converse)
    message = service.brand_reply(
        session,
        settings,
        caller,
        thread_id,
        body=data.body,
        uploads=[a.upload() for a in data.attachments],
        via="api",
        close=data.close,
    )
    return message_out(message, _files(session, [message]))


@router.get("/threads/{thread_id}/notes", response_model=list[NoteOut])
def list_notes(thread_id: uuid.UUID, caller: BrandDep, session: SessionDep) -> list[NoteOut]:
    """Internal notes, oldest first; the person never sees them."""
    caller.require(Permission.converse)
    thread = service.for_brand(session, caller.brand_id, thread_id)
    return [
        NoteOut(
            id=n.id,
            thread_id=n.thread_id,
            member_id=n.member_id,
            body=n.body,
            created_at=n.created_at,
        )
        for n in service.notes(session, thread)
    ]


@router.post(
    "/threads/{thread_id}/notes", response_model=NoteOut, status_code=status.HTTP_201_CREATED
)
def add_note(thread_id: uuid.UUID, data: NoteIn, caller: BrandDep, session: SessionDep) -> NoteOut:
    caller.require(Permission.converse)
    thread = service.for_brand(session, caller.brand_id, thread_id)
    n = service.note(session, thread, data.body, caller.member_id)
    return NoteOut(
        id=n.id, thread_id=n.thread_id, member_id=n.member_id, body=n.body, created_at=n.created_at
    )


@router.get("/conversation-attachments/{attachment_id}", response_class=Response)
def read_attachment(attachment_id: uuid.UUID, caller: BrandDep, session: SessionDep) -> Response:
    caller.require(Permission.converse)
    return download(service.attachment_for_brand(session, caller.brand_id, attachment_id))


@router.get("/conversation-times", response_model=ServiceTimesOut)
def service_times(
    caller: BrandDep, session: SessionDep, days: int = Query(default=30, ge=1, le=366)
) -> ServiceTimesOut:
    """Average first-response and resolution times of the threads started in the last days."""
    caller.require(Permission.converse)
    times = service.service_times(session, caller.brand_id, days=days)
    return ServiceTimesOut(**times.__dict__)


@router.get("/saved-replies", response_model=list[SavedReplyOut])
def list_saved(caller: BrandDep, session: SessionDep) -> list[SavedReplyOut]:
    caller.require(Permission.converse)
    return [
        SavedReplyOut.model_validate(r) for r in service.saved_replies(session, caller.brand_id)
    ]


@router.post("/saved-replies", response_model=SavedReplyOut, status_code=status.HTTP_201_CREATED)
def create_saved(data: SavedReplyIn, caller: BrandDep, session: SessionDep) -> SavedReplyOut:
    caller.require(Permission.converse)
    return SavedReplyOut.model_validate(
        service.create_saved_reply(session, caller.brand_id, data.title, data.body)
    )


@router.delete("/saved-replies/{saved_reply_id}", status_code=status.HTTP_204_NO_CONTENT)
def delete_saved(saved_reply_id: uuid.UUID, caller: BrandDep, session: SessionDep) -> Response:
    caller.require(Permission.converse)
    service.delete_saved_reply(session, caller.brand_id, saved_reply_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


# --- person ----------------------------------------------------------------------------------


def person_thread_out(thread: Thread) -> PersonThreadOut:
    return PersonThreadOut(
        id=thread.id,
        brand_id=thread.brand_id,
        subject=thread.subject,
        status=thread.status,
        unread=thread.person_unread,
        message_count=thread.message_count,
        last_message_at=thread.last_message_at,
        last_preview=thread.last_preview,
        created_at=thread.created_at,
    )


def person_message_out(
    message: Message, files: dict[uuid.UUID, list[AttachmentOut]]
) -> PersonMessageOut:
    return PersonMessageOut(
        id=message.id,
        thread_id=message.thread_id,
        author=message.author,
        via=message.via,
        body=message.body,
        original=message.original,
        created_at=message.created_at,
        attachments=files.get(message.id, []),
    )


@person_router.get("/threads", response_model=Page[PersonThreadOut])
def my_threads(
    person: PersonDep, session: SessionDep, cursor: CursorParam = None, limit: int = Limit
) -> Page[PersonThreadOut]:
    rows, next_cursor = service.person_thread_page(
        session, person.person_id, cursor=cursor, limit=limit
    )
    return Page(items=[person_thread_out(t) for t in rows], next_cursor=next_cursor)


@person_router.post("/threads", response_model=PersonThreadOut, status_code=status.HTTP_201_CREATED)
def start_my_thread(
    data: PersonThreadIn, person: PersonDep, session: SessionDep, settings: SettingsDep
) -> PersonThreadOut:
    """Write to a brand you follow."""
    thread, _ = service.start_person_thread(
        session,
        settings,
        person.person_id,
        data.brand_id,
        subject=data.subject,
        body=data.body,
        uploads=[a.upload() for a in data.attachments],
        via="portal",
    )
    return person_thread_out(thread)


@person_router.get("/threads/{thread_id}", response_model=PersonThreadOut)
def my_thread(thread_id: uuid.UUID, person: PersonDep, session: SessionDep) -> PersonThreadOut:
    return person_thread_out(service.for_person(session, person.person_id, thread_id))


@person_router.get("/threads/{thread_id}/messages", response_model=Page[PersonMessageOut])
def my_messages(
    thread_id: uuid.UUID,
    person: PersonDep,
    session: SessionDep,
    cursor: CursorParam = None,
    limit: int = Limit,
) -> Page[PersonMessageOut]:
    """The thread's messages, newest first; reading them marks the brand's as read."""
    thread = service.for_person(session, person.person_id, thread_id)
    rows, next_cursor = service.message_page(session, thread, cursor=cursor, limit=limit)
    service.read_by_person(session, thread)
    files = _files(session, rows)
    return Page(items=[person_message_out(m, files) for m in rows], next_cursor=next_cursor)


@person_router.post(
    "/threads/{thread_id}/messages",
    response_model=PersonMessageOut,
    status_code=status.HTTP_201_CREATED,
)
def my_reply(
    thread_id: uuid.UUID,
    data: MessageIn,
    person: PersonDep,
    session: SessionDep,
    settings: SettingsDep,
) -> PersonMessageOut:
    """Reply; a closed thread opens again."""
    message = service.person_reply(
        session,
        settings,
        person.person_id,
        thread_id,
        body=data.body,
        uploads=[a.upload() for a in data.attachments],
        via="portal",
    )
    return person_message_out(message, _files(session, [message]))


@person_router.get("/conversation-attachments/{attachment_id}", response_class=Response)
def my_attachment(attachment_id: uuid.UUID, person: PersonDep, session: SessionDep) -> Response:
    return download(service.attachment_for_person(session, person.person_id, attachment_id))
