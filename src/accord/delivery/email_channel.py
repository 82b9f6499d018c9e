"""E-mail as a channel: MIME text + HTML, RFC 8058 one-click unsubscribe, the brand's postal
address in every marketing footer, optional DKIM, a Message-ID derived from the outbox key."""

from __future__ import annotations

import contextlib
import hashlib
import smtplib
import ssl
from dataclasses import dataclass
from email.header import Header
from email.message import Message
from email.mime.multipart import MIMEMultipart
from email.mime.text import MIMEText
from email.utils import formataddr, formatdate
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy.orm import Session

from accord.campaigns.footer import footer_html, footer_text
from accord.core.settings import EmailBackend, Settings
from accord.mail.backends import DevMailer


class TransientError(Exception):
    """Try again later (connection trouble, 4xx)."""


class PermanentError(Exception):
    """Do not try again (5xx for this recipient)."""


def domain_of(settings: Settings) -> str:
    return urlsplit(settings.base_url).hostname or "accord.localhost"


def message_id_for(key: str, settings: Settings) -> str:
    """The same outbox key always yields the same Message-ID, so a resend is recognisable."""
    return f"<{hashlib.sha256(key.encode()).hexdigest()[:40]}@{domain_of(settings)}>"


@dataclass(frozen=True)
class Rendered:
    subject: str
    text: str
    html: str | None


def build(
    settings: Settings,
    *,
    brand: Any,
    to: str,
    key: str,
    content: Rendered,
    topic_name: str,
    marketing: bool,
    unsubscribe_token: str | None,
) -> Message:
    # email.mime (compat32) builds a message about four times faster than EmailMessage, and
    # it folds only at whitespace, so the List-Unsubscribe URLs stay whole.
    unsubscribe_url = None
    if marketing and unsubscribe_token:
        unsubscribe_url = f"{settings.base_url}/u/{unsubscribe_token}"
    body = content.text + "\n" + footer_text(brand, topic_name, unsubscribe_url)
    message: Message
    if content.html is None:
        message = MIMEText(body, "plain", "utf-8")
    else:
        message = MIMEMultipart("alternative")
        message.attach(MIMEText(body, "plain", "utf-8"))
        html = content.html + footer_html(brand, topic_name, unsubscribe_url)
        message.attach(MIMEText(html, "html", "utf-8"))
    message["From"] = formataddr((brand.sender_name, brand.sender_email))
    message["To"] = to
    message["Subject"] = (
        str(Header(content.subject, "utf-8")) if not content.subject.isascii() else content.subject
    )
    message["Date"] = formatdate(localtime=False)
    message["Message-ID"] = message_id_for(key, settings)
    if unsubscribe_url is not None:
        mailto = (
            f"mailto:unsubscribe@{domain_of(settings)}?subject=unsubscribe%20{unsubscribe_token}"
        )
        message["List-Unsubscribe"] = f"<{unsubscribe_url}>, <{mailto}>"
        message["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    if settings.dkim_domain and settings.dkim_key_file:
        sign_dkim(message, settings)
    return message


SIGNED_HEADERS = [
    b"From",
    b"To",
    b"Subject",
    b"Date",
    b"Message-ID",
    b"List-Unsubscribe",
    b"List-Unsubscribe-Post",
]


def sign_dkim(message: Message, settings: Settings) -> None:
    """Sign with dkimpy; the signature covers both List-Unsubscribe headers (RFC 8058)."""
    import dkim

    assert settings.dkim_key_file is not None
    key = Path(settings.dkim_key_file).read_bytes()
    present = [h for h in SIGNED_HEADERS if h.decode() in message]
    signature = dkim.sign(
        message.as_bytes(),
        settings.dkim_selector.encode(),
        settings.dkim_domain.encode(),
        key,
        include_headers=present,
    )
    name, _, value = signature.decode().partition(":")
    message[name] = value.strip().replace("\r\n", "")


class SmtpSender:
    """One SMTP connection reused for a batch: the cost of a connection is paid once."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.smtp: smtplib.SMTP | None = None

    def _connect(self) -> smtplib.SMTP:
        s = self.settings
        try:
            if s.smtp_tls:
                smtp: smtplib.SMTP = smtplib.SMTP_SSL(
                    s.smtp_host, s.smtp_port, timeout=30, context=ssl.create_default_context()
                )
            else:
                smtp = smtplib.SMTP(s.smtp_host, s.smtp_port, timeout=30)
            if s.smtp_starttls and not s.smtp_tls:
                smtp.starttls(context=ssl.create_default_context())
            if s.smtp_user:
                smtp.login(s.smtp_user, s.smtp_password.get_secret_value())
        except (OSError, smtplib.SMTPException) as exc:
            raise TransientError(f"cannot reach the SMTP server: {exc}") from exc
        return smtp

    def send(self, session: Session, message: Message) -> None:
        if self.smtp is None:
            self.smtp = self._connect()
        try:
            # Bounces must come back to Accord (inbound SMTP), not to the brand's sender address.
            self.smtp.send_message(message, from_addr=f"bounces@{domain_of(self.settings)}")
        except smtplib.SMTPRecipientsRefused as exc:
            codes = [code for code, _ in exc.recipients.values()]
            if all(code >= 500 for code in codes):
                raise PermanentError(f"recipient refused: {codes}") from exc
            raise TransientError(f"recipient deferred: {codes}") from exc
        except smtplib.SMTPResponseException as exc:
            self.close()
            if exc.smtp_code >= 500:
                raise PermanentError(f"{exc.smtp_code} {exc.smtp_error!r}") from exc
            raise TransientError(f"{exc.smtp_code} {exc.smtp_error!r}") from exc
        except (TimeoutError, smtplib.SMTPException, OSError) as exc:
            self.close()
            raise TransientError(str(exc)) from exc

    def close(self) -> None:
        if self.smtp is not None:
            with contextlib.suppress(smtplib.SMTPException, OSError):
                self.smtp.quit()
            self.smtp = None


class DevSender:
    """The embedded default: messages land in the dev mailbox, in the worker's transaction."""

    def __init__(self) -> None:
        self.mailer = DevMailer()

    def send(self, session: Session, message: Message) -> None:
        self.mailer.send(session, message)

    def close(self) -> None:
        return None


def sender_for(settings: Settings) -> SmtpSender | DevSender:
    return SmtpSender(settings) if settings.email_backend is EmailBackend.smtp else DevSender()
