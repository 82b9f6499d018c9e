"""Helpers for the conversation tests: a brand with a related person, a real inbound SMTP
server with the composition root's mail routes, replies as mail programs write them."""

from __future__ import annotations

import smtplib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from email.message import EmailMessage

from aiosmtpd.controller import Controller
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from accord.brands.models import Brand, Member
from accord.conversations.models import Attachment, Message, Thread
from accord.core.db import Database
from accord.core.settings import Settings
from accord.delivery.inbound_smtp import FeedbackHandler
from accord.inbound import mail_routes
from accord.people.models import Person
from tests.builders import make_api_key, make_brand, make_member, make_person, make_relationship
from tests.smtp_sink import free_port

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


@dataclass
class Pair:
    brand: Brand
    person: Person
    member: Member
    key: str


def pair(session: Session, *, brand_name: str | None = None, email: str | None = None) -> Pair:
    """A brand with an owner and an API key, and a person who follows it."""
    brand = make_brand(session, name=brand_name)
    person = make_person(session, email=email, display_name="Ada Lovelace")
    make_relationship(session, person=person, brand=brand)
    member = make_member(session, brand=brand)
    _, key = make_api_key(session, brand=brand)
    return Pair(brand, person, member, key)


def bearer(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


def count(session: Session, model: type[Thread] | type[Message] | type[Attachment]) -> int:
    return int(session.scalar(select(func.count()).select_from(model)) or 0)


@contextmanager
def inbound_server(database: Database, settings: Settings) -> Iterator[int]:
    """A real inbound SMTP server wired as `accord inbound-smtp` wires it; yields its port."""
    port = free_port()
    handler = FeedbackHandler(database, settings, mail_routes(settings))
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield port
    finally:
        controller.stop()


def send(port: int, raw: bytes | EmailMessage, *, sender: str, to: str) -> None:
    with smtplib.SMTP("127.0.0.1", port, timeout=10) as smtp:
        if isinstance(raw, EmailMessage):
            smtp.send_message(raw, from_addr=sender, to_addrs=[to])
        else:
            smtp.sendmail(sender, [to], raw)


def gmail_reply(*, sender: str, to: str, text: str, quoted: str) -> EmailMessage:
    """A reply as Gmail writes it: the answer, then "On … wrote:" and the quoted message."""
    message = EmailMessage()
    message["From"] = f"Ada Lovelace <{sender}>"
    message["To"] = to
    message["Subject"] = "Re: your question"
    quote = "\n".join(f"> {line}" for line in quoted.splitlines())
    message.set_content(
        f"{text}\n\nOn Mon, 7 Dec 2026 at 10:02, Groove Records <news@groove.example>\n"
        f"wrote:\n\n{quote}\n"
    )
    message.add_alternative(
        f"<div dir=ltr>{text}</div><br><div class=gmail_quote>On Mon … wrote:<br>"
        f"<blockquote>{quoted}</blockquote></div>",
        subtype="html",
    )
    return message
