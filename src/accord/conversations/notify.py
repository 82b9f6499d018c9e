"""Telling the person about the brand's reply: a transactional message through the outbox, so
the gate decides at sending time (relationship not ended, the channel the person chose for
transactional messages, a usable address, quiet hours on interruptive channels).

The e-mail carries the thread's signed reply address, so answering it threads back in.
"""

from __future__ import annotations

import uuid

from sqlalchemy.orm import Session

from accord.brands import service as brands
from accord.conversations import reply_address
from accord.conversations.models import Message, Thread
from accord.core.db import insert_or_ignore, utcnow
from accord.core.settings import Settings
from accord.outbox.models import OutboxMessage
from accord.relationships import service as relationships

TOPIC_SLUG = "conversations"
# Channels a reply is announced on, when the person chose them for transactional messages.
NOTIFY_ON = ("email", "sms", "push", "inapp")
SHORT_CHARS = 300


def literal(text: str) -> str:
    """Text the outbox's templates output as it is: the person's and the brand's words are
    never a template (a `{{` in them must not be evaluated)."""
    return "".join("{{ '{' }}" if ch == "{" else ch for ch in text)


def conversation_topic(session: Session, brand_id: uuid.UUID) -> uuid.UUID:
    return relationships.system_topic(
        session,
        brand_id,
        slug=TOPIC_SLUG,
        name="Conversations",
        description="Answers to your conversations with us.",
    )


def channels_for(session: Session, person_id: uuid.UUID, brand_id: uuid.UUID) -> list[str]:
    """The channels the person chose for the brand's transactional messages; e-mail when none
    of them can carry a reply (the gate then records why it was not sent)."""
    chosen = relationships.transactional_channels(session, person_id, brand_id)
    return [c for c in NOTIFY_ON if c in chosen] or ["email"]


def short_text(settings: Settings, brand_name: str, thread: Thread, message: Message) -> str:
    """For SMS, push and in-app: the start of the message and where to read it all."""
    body = " ".join(message.body.split()) or "(an attachment)"
    if len(body) > SHORT_CHARS:
        body = body[: SHORT_CHARS - 1] + "…"
    return f"{brand_name}: {body} Read and reply: {settings.base_url}/conversations/{thread.id}"


def text_of(
    settings: Settings, brand_name: str, thread: Thread, message: Message, files: int
) -> str:
    lines = [f"{brand_name} wrote in “{thread.subject}”:", "", message.body]
    if files:
        lines += [
            "",
            f"({files} attachment{'s' if files != 1 else ''}: open the conversation to download.)",
        ]
    lines += [
        "",
        "Answer this e-mail to reply, or read the whole conversation at",
        f"{settings.base_url}/conversations/{thread.id}",
    ]
    return "\n".join(lines)


def brand_message(
    session: Session, settings: Settings, thread: Thread, message: Message, files: int
) -> None:
    """Queue the notification of one brand message (once per message and channel)."""
    brand = brands.get_brand(session, thread.brand_id)
    topic_id = conversation_topic(session, thread.brand_id)
    now = utcnow()
    long_text = text_of(settings, brand.name, thread, message, files)
    for channel in channels_for(session, thread.person_id, thread.brand_id):
        text = (
            long_text if channel == "email" else short_text(settings, brand.name, thread, message)
        )
        payload = {
            "subject": literal(f"{brand.name}: {thread.subject}"),
            "text": literal(text),
            "html": None,
            "thread_id": str(thread.id),
        }
        if channel == "email":
            payload["reply_to"] = reply_address.address_for(settings, thread.id)
        insert_or_ignore(
            session,
            OutboxMessage,
            {
                "brand_id": thread.brand_id,
                "person_id": thread.person_id,
                "topic_id": topic_id,
                "channel": channel,
                "purpose": "transactional",
                "idempotency_key": f"conv:{message.id.hex}:{channel}",
                "state": "queued",
                "not_before": now,
                "attempts": 0,
                "payload": payload,
                "created_at": now,
            },
        )
