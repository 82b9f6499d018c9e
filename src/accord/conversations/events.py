"""The webhook events conversations raise, in the caller's transaction (delivered only if it
commits). Their types are defined here, at import, in the webhooks registry.

A person's message raises two events: `conversation.message_received` (this domain's, with the
thread's state) and `reply.received` (the channels' general event, defined by webhooks: a person
answered the brand, by the portal, an e-mail reply or a text that is not a keyword). Internal
notes and the brand's own messages raise neither."""

from __future__ import annotations

from sqlalchemy.orm import Session

from accord.conversations.models import Message, Thread
from accord.webhooks import service as webhooks

MESSAGE_RECEIVED = webhooks.define(
    "conversation.message_received",
    "A person wrote in a conversation (portal, e-mail or SMS reply); internal notes never are.",
)


def message_received(session: Session, thread: Thread, message: Message, files: int) -> None:
    webhooks.emit(
        session,
        thread.brand_id,
        MESSAGE_RECEIVED.name,
        {
            "thread_id": str(thread.id),
            "message_id": str(message.id),
            "person_id": str(thread.person_id),
            "subject": thread.subject,
            "via": message.via,
            "body": message.body,
            "attachments": files,
            "thread_status": thread.status,
            "at": message.created_at.isoformat(),
        },
        event_id=f"msg_conversation_{message.id.hex}",
    )
    webhooks.emit(
        session,
        thread.brand_id,
        webhooks.REPLY_RECEIVED.name,
        {
            "person_id": str(thread.person_id),
            "channel": message.via,
            "text": message.body,
            "attachments": files,
            "thread_id": str(thread.id),
            "message_id": str(message.id),
            "at": message.created_at.isoformat(),
        },
        event_id=f"msg_reply_{message.id.hex}",
    )
