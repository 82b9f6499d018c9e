"""Shared by the conversation pages and API: files from a form, an attachment as a download."""

from __future__ import annotations

from urllib.parse import quote

from fastapi import Request
from fastapi.responses import Response
from starlette.datastructures import UploadFile

from accord.conversations.files import Upload
from accord.conversations.models import Attachment

FIELD = "attachments"


async def form_uploads(request: Request, field: str = FIELD) -> list[Upload]:
    """The files chosen in the form; an empty file input sends a nameless empty part: skipped."""
    form = await request.form()
    found = []
    for item in form.getlist(field):
        if isinstance(item, UploadFile) and (item.filename or item.size):
            found.append(Upload(filename=item.filename or "", data=await item.read()))
    return found


def download(attachment: Attachment) -> Response:
    """The file, as a download only: never rendered by the browser in Accord's origin."""
    name = quote(attachment.filename)
    return Response(
        content=attachment.data,
        media_type=attachment.content_type,
        headers={
            "Content-Disposition": f"attachment; filename*=UTF-8''{name}",
            "X-Content-Type-Options": "nosniff",
            "Content-Security-Policy": "default-src 'none'; sandbox",
            "Cache-Control": "private, no-store",
        },
    )
