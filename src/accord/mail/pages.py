"""The dev mailbox: every message the dev backend kept, with headers and clickable links."""

from __future__ import annotations

import json
import uuid

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse
from sqlalchemy import select

from accord.core.errors import NotFound
from accord.core.web.deps import SessionDep
from accord.core.web.templates import render
from accord.mail.models import DevMailMessage

router = APIRouter(prefix="/dev/mailbox", tags=["dev"], include_in_schema=False)


@router.get("", response_class=HTMLResponse)
def mailbox(request: Request, session: SessionDep, to: str = "") -> HTMLResponse:
    query = select(DevMailMessage).order_by(DevMailMessage.created_at.desc()).limit(200)
    if to:
        query = query.where(DevMailMessage.recipients.contains(to.strip().lower()))
    messages = session.scalars(query).all()
    return render(request, "mail/mailbox.html", {"messages": messages, "to": to})


@router.get("/{message_id}", response_class=HTMLResponse)
def open_message(request: Request, session: SessionDep, message_id: uuid.UUID) -> HTMLResponse:
    message = session.get(DevMailMessage, message_id)
    if message is None:
        raise NotFound("No such message in the dev mailbox.")
    headers = json.loads(message.headers_json)
    return render(request, "mail/message.html", {"message": message, "headers": headers})
