"""E-mail replies into threads, through the inbound SMTP endpoint.

A message to a thread's signed reply address (`reply+<thread>.<mac>@…`) becomes a message of
that thread, from the thread's person: its text without quoted history and signature (the text
as received is kept too) and its attached files. What cannot be taken is refused in the SMTP
dialogue, so the sending server bounces it with the reason and nothing is stored:

- a forged or altered address: 550 5.1.1 at RCPT TO;
- a thread that no longer exists: 550 5.1.1;
- a sender who is not the thread's person (by their e-mail addresses): 550 5.7.1;
- a relationship that ended: 550 5.7.1;
- no readable text and no file, or an unreadable (malformed) MIME message: 550 5.6.0;
- a file over the size limit: 552 5.3.4; a file of a type Accord refuses: 554 5.6.1.
"""

from __future__ import annotations

import email
import email.policy
import logging
from dataclasses import dataclass
from email.message import EmailMessage, Message
from email.utils import getaddresses

from sqlalchemy.orm import Session

from accord.conversations import files, reply_address, reply_text, threads
from accord.conversations.models import Thread
from accord.conversations.threads import Written
from accord.core.errors import AccordError, PayloadTooLarge
from accord.core.security import normalise_email
from accord.core.settings import Settings
from accord.people import service as people

log = logging.getLogger("accord.conversations.inbound")

FORGED = "550 5.1.1 This reply address is not valid: answer from the e-mail you received."
GONE = "550 5.1.1 This conversation no longer exists."
NOT_YOURS = "550 5.7.1 Only the person in this conversation can reply to it by e-mail."
ENDED = "550 5.7.1 Your relationship with this brand has ended: follow it again to write."
EMPTY = "550 5.6.0 The reply has no text: write your answer above the quoted message."
MALFORMED = "550 5.6.0 The message could not be read (malformed MIME)."
TOO_LARGE = "552 5.3.4 {detail}"
FORBIDDEN_TYPE = "554 5.6.1 {detail}"


class Refused(Exception):
    def __init__(self, reply: str) -> None:
        super().__init__(reply)
        self.reply = reply


@dataclass(frozen=True)
class Reply:
    sender: str | None
    text: str
    uploads: list[files.Upload]


def _text_of(message: Message) -> str | None:
    """The message's plain text (or its HTML as text), decoded; None when it has neither."""
    assert isinstance(message, EmailMessage)
    part = message.get_body(preferencelist=("plain", "html"))
    if part is None:
        return None
    content = part.get_content()
    if not isinstance(content, str):
        return None
    return reply_text.html_to_text(content) if part.get_content_type() == "text/html" else content


def _uploads(message: Message) -> list[files.Upload]:
    assert isinstance(message, EmailMessage)
    found = []
    for part in message.iter_attachments():
        if part.is_multipart() or part.get_content_disposition() != "attachment":
            continue
        data = part.get_payload(decode=True)
        if isinstance(data, bytes):
            found.append(files.Upload(filename=part.get_filename() or "attachment", data=data))
    return found


def parse(raw: bytes) -> Reply:
    """The reply's sender, text and files; Refused(MALFORMED) when MIME cannot be read."""
    try:
        message = email.message_from_bytes(raw, policy=email.policy.default)
        text = _text_of(message)
        uploads = _uploads(message)
        senders = getaddresses([str(message.get("From", ""))])
    except Exception:  # the email package raises many kinds on hostile input
        log.info("unreadable reply e-mail", exc_info=True)
        raise Refused(MALFORMED) from None
    if text is None and not uploads:
        raise Refused(MALFORMED if message.defects else EMPTY)
    sender = next((addr for _, addr in senders if "@" in addr), None)
    return Reply(
        sender=normalise_email(sender) if sender else None, text=text or "", uploads=uploads
    )


def _is_the_person(session: Session, thread: Thread, sender: str | None) -> bool:
    if sender is None:
        return False
    known = {
        p.address_normalised
        for p in people.contact_points(session, thread.person_id)
        if p.channel == "email"
    }
    known.add(normalise_email(people.get_person(session, thread.person_id).email))
    return sender in known


def take(session: Session, settings: Settings, raw: bytes, recipient: str) -> Thread:
    """Add the reply to its thread in the caller's transaction, or raise Refused."""
    thread_id = reply_address.thread_of(settings, recipient)
    if thread_id is None:
        raise Refused(FORGED)
    thread = session.get(Thread, thread_id)
    if thread is None:
        raise Refused(GONE)
    reply = parse(raw)
    if not _is_the_person(session, thread, reply.sender):
        raise Refused(NOT_YOURS)
    try:
        checked = files.check_all(reply.uploads, max_bytes=settings.attachment_max_bytes)
    except PayloadTooLarge as exc:
        raise Refused(TOO_LARGE.format(detail=exc.detail)) from None
    except AccordError as exc:
        raise Refused(FORBIDDEN_TYPE.format(detail=exc.detail)) from None
    stripped = reply_text.strip_reply(reply.text)
    try:
        body = threads.clean_body(stripped, has_files=bool(checked))
        written = Written(body=body, files=checked, original=reply.text)
        threads.add_person_message(session, thread, written, via="email")
    except AccordError as exc:
        if exc.field == "brand_id":
            raise Refused(ENDED) from None
        if exc.field == "body" and stripped:
            raise Refused(f"552 5.3.4 {exc.detail}") from None
        raise Refused(EMPTY) from None
    return thread


@dataclass(frozen=True)
class ReplyRoute:
    """The inbound SMTP server's route for thread reply addresses (see
    `accord.delivery.inbound_smtp.MailRoute`): the composition root plugs it in."""

    settings: Settings

    def claims(self, address: str) -> bool:
        return reply_address.is_reply_address(address)

    def check_recipient(self, address: str) -> str | None:
        return None if reply_address.thread_of(self.settings, address) else FORGED

    def deliver(self, session: Session, raw: bytes, recipient: str) -> str | None:
        """None when the reply is stored, else the SMTP reply refusing it (nothing stored)."""
        try:
            thread = take(session, self.settings, raw, recipient)
        except Refused as refused:
            log.info("e-mail reply refused: %s", refused.reply)
            return refused.reply
        log.info("e-mail reply stored in thread %s", thread.id)
        return None
