"""E-mail backends behind one interface: `dev` keeps mail in the database, `smtp` sends it."""

from __future__ import annotations

import json
import smtplib
import ssl
from dataclasses import dataclass, field
from email.message import EmailMessage, Message
from email.utils import formatdate, make_msgid
from typing import Protocol
from urllib.parse import urlsplit

from sqlalchemy.orm import Session

from accord.core.db import after_commit
from accord.core.settings import EmailBackend, Settings
from accord.mail.models import DevMailMessage


@dataclass
class Email:
    to: str
    subject: str
    text: str
    html: str | None = None
    sender: str | None = None
    headers: dict[str, str] = field(default_factory=dict)
    message_id: str | None = None


def compose(settings: Settings, email: Email) -> EmailMessage:
    """A MIME message: text, plus an HTML alternative when given."""
    message = EmailMessage()
    message["From"] = email.sender or settings.email_from
    message["To"] = email.to
    message["Subject"] = email.subject
    message["Date"] = formatdate(localtime=False)
    domain = urlsplit(settings.base_url).hostname or "accord.localhost"
    message["Message-ID"] = email.message_id or make_msgid(domain=domain)
    for name, value in email.headers.items():
        message[name] = value
    message.set_content(email.text)
    if email.html is not None:
        message.add_alternative(email.html, subtype="html")
    return message


class Mailer(Protocol):
    def send(self, session: Session, message: Message) -> None:
        """Send as part of the caller's unit of work: nothing leaves if it rolls back."""

    def deliver(self, session: Session, message: Message) -> None:
        """Hand over now (the delivery worker, which records the result itself)."""


def _part(message: Message, subtype: str) -> str | None:
    """The first text/<subtype> part, decoded (works for EmailMessage and email.mime alike)."""
    for part in message.walk():
        if part.get_content_type() == f"text/{subtype}" and not part.is_multipart():
            payload = part.get_payload(decode=True)
            if isinstance(payload, bytes):
                return payload.decode(part.get_content_charset() or "utf-8", errors="replace")
    return None


class DevMailer:
    """Stores every message in the database; /dev/mailbox shows them."""

    def send(self, session: Session, message: Message) -> None:
        session.add(
            DevMailMessage(
                message_id=str(message["Message-ID"]),
                sender=str(message["From"]),
                recipients=str(message["To"]),
                subject=str(message["Subject"]),
                headers_json=json.dumps([[k, str(v)] for k, v in message.items()]),
                text_body=_part(message, "plain") or "",
                html_body=_part(message, "html"),
                raw=message.as_string(),
            )
        )
        session.flush()

    deliver = send


class SmtpMailer:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    def send(self, session: Session, message: Message) -> None:
        after_commit(session, lambda: self.deliver_now(message))

    def deliver(self, session: Session, message: Message) -> None:
        self.deliver_now(message)

    def deliver_now(self, message: Message) -> None:
        s = self.settings
        smtp: smtplib.SMTP
        if s.smtp_tls:
            smtp = smtplib.SMTP_SSL(
                s.smtp_host, s.smtp_port, context=ssl.create_default_context(), timeout=30
            )
        else:
            smtp = smtplib.SMTP(s.smtp_host, s.smtp_port, timeout=30)
        with smtp:
            if s.smtp_starttls and not s.smtp_tls:
                smtp.starttls(context=ssl.create_default_context())
            if s.smtp_user:
                smtp.login(s.smtp_user, s.smtp_password.get_secret_value())
            smtp.send_message(message)


def build_mailer(settings: Settings) -> Mailer:
    if settings.email_backend is EmailBackend.smtp:
        return SmtpMailer(settings)
    return DevMailer()
