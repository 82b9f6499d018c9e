"""Handing e-mail over: to an SMTP server over one connection kept open while there is work,
or (the embedded default) to the dev mailbox in the worker's transaction.

A hand-over has two steps: `start` sends the envelope and the message up to its last line,
`finish` reads the server's verdict. The worker composes the next message between the two,
while the server is still busy with this one.

When the server offers PIPELINING (RFC 2920; most do) the envelope (MAIL, RCPT, DATA) goes out
in one write, and the next message's envelope goes out (`announce`) before the verdict on the
one before is read: the message's data is the first "command" of a group, DATA the last. A
message then costs one wait for the server instead of four. The data itself still waits for
the 354 to DATA, and every reply is read, in order, before the message's outcome is known.
"""

from __future__ import annotations

import contextlib
import email
import email.policy
import re
import smtplib
import ssl
from collections.abc import Iterator

from sqlalchemy.orm import Session

from accord.core.settings import Settings
from accord.delivery.email_channel import Outgoing, domain_of
from accord.mail.service import DevMailer

LEADING_DOT = re.compile(rb"(?m)^\.")  # a line starting with "." gets another (RFC 5321 4.5.2)
# An address smtplib's quoteaddr() would only wrap in <>: ASCII, no space, quote or bracket.
PLAIN = re.compile(r"[!#-'*+\-/-9=?A-Z^-~.]+@[A-Za-z0-9.\-]+")


class SendError(Exception):
    """A hand-over that did not work; `code` is the server's reply code, if it gave one."""

    def __init__(self, detail: str, code: int | None = None) -> None:
        super().__init__(detail)
        self.code = code


class TransientError(SendError):
    """Try again later (connection trouble, 4xx)."""


class Unreachable(TransientError):
    """No connection to the server at all: nothing else can go now either."""


class PermanentError(SendError):
    """Do not try again (5xx for this recipient)."""


class SMTPVerdict(smtplib.SMTPResponseException):
    """The server refused a message after its data: the connection stays usable."""


def _size(smtp: smtplib.SMTP, message: Outgoing) -> str:
    """The MAIL command's SIZE parameter (with its leading space), if the server takes one."""
    return f" size={len(message.raw)}" if smtp.does_esmtp and smtp.has_extn("size") else ""


def _by_code(exc: smtplib.SMTPResponseException) -> SendError:
    detail = exc.smtp_error
    text = detail.decode(errors="replace") if isinstance(detail, bytes) else str(detail)
    kind = PermanentError if exc.smtp_code >= 500 else TransientError
    return kind(f"{exc.smtp_code} {text}", exc.smtp_code)


class SmtpSender:
    """One SMTP connection, reused for every message until the worker goes idle."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.smtp: smtplib.SMTP | None = None
        # The message whose envelope went out ahead (`announce`), and on which connection.
        self.announced: tuple[Outgoing, smtplib.SMTP] | None = None
        # Bounces must come back to Accord (inbound SMTP), not to the brand's sender address.
        self.bounces = f"bounces@{domain_of(settings)}"

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
            raise Unreachable(f"cannot reach the SMTP server: {exc}") from exc
        return smtp

    @contextlib.contextmanager
    def _errors(self) -> Iterator[smtplib.SMTP]:
        """The connection, and smtplib's errors as ours; after a broken exchange the connection
        is dropped (the next message opens another)."""
        if self.smtp is None:
            self.smtp = self._connect()
        try:
            yield self.smtp
        except smtplib.SMTPRecipientsRefused as exc:
            codes = [code for code, _ in exc.recipients.values()]
            if all(code >= 500 for code in codes):
                raise PermanentError(f"recipient refused: {codes}", codes[0]) from exc
            raise TransientError(f"recipient deferred: {codes}", codes[0]) from exc
        except SMTPVerdict as exc:
            raise _by_code(exc) from exc
        except smtplib.SMTPResponseException as exc:
            self.close()
            raise _by_code(exc) from exc
        except (TimeoutError, smtplib.SMTPException, OSError) as exc:
            self.close()
            raise TransientError(str(exc)) from exc

    def _envelope(self, smtp: smtplib.SMTP, message: Outgoing) -> bytes | None:
        """MAIL, RCPT and DATA as one write, if the server takes them so and the address is
        plain (what smtplib's mail() and rcpt() send for it)."""
        if not (smtp.does_esmtp and smtp.has_extn("pipelining") and PLAIN.fullmatch(message.to)):
            return None
        size = _size(smtp, message)
        return f"mail FROM:<{self.bounces}>{size}\r\nrcpt TO:<{message.to}>\r\ndata\r\n".encode()

    def announce(self, message: Outgoing) -> None:
        """Send `message`'s envelope ahead, while the verdict on the message before is still
        unread (pipelining only; else nothing). Its `start` then reads the replies."""
        if self.smtp is None or self.announced is not None:
            return
        commands = self._envelope(self.smtp, message)
        if commands is None:
            return
        try:
            self.smtp.send(commands)
        except (OSError, smtplib.SMTPException):
            self.drop()  # the verdict on the message before is lost with the connection
            return
        self.announced = (message, self.smtp)

    def start(self, session: Session, message: Outgoing) -> None:
        """MAIL, RCPT, DATA and the message, as smtplib's sendmail sends them (the three
        commands in one write when pipelining)."""
        announced, self.announced = self.announced, None
        with self._errors() as smtp:
            smtp.ehlo_or_helo_if_needed()
            if announced is not None and announced[1] is not smtp:
                announced = None  # announced on a connection since dropped: not sent
            if announced is not None and announced[0] is not message:
                raise RuntimeError("start() after announce() of another message")
            pipelined = announced is not None
            if not pipelined and (commands := self._envelope(smtp, message)) is not None:
                smtp.send(commands)
                pipelined = True
            if pipelined:
                self._pipelined(smtp, message)
                return
            size = _size(smtp, message)
            if PLAIN.fullmatch(message.to):
                # What smtplib's mail() and rcpt() send for a plain address, without parsing
                # both addresses again for every message.
                smtp.putcmd("mail", f"FROM:<{self.bounces}>{size}")
                code, reply = smtp.getreply()
            else:  # as smtplib's send_message asks for an address beyond ASCII
                options = [size.strip()] if size else []
                options += [] if message.to.isascii() else ["SMTPUTF8", "BODY=8BITMIME"]
                code, reply = smtp.mail(self.bounces, options)
            if code != 250:
                self._rset(smtp, code)
                raise smtplib.SMTPSenderRefused(code, reply, self.bounces)
            if PLAIN.fullmatch(message.to):
                smtp.putcmd("rcpt", f"TO:<{message.to}>")
                code, reply = smtp.getreply()
            else:
                code, reply = smtp.rcpt(message.to)
            if code not in (250, 251):
                self._rset(smtp, code)
                raise smtplib.SMTPRecipientsRefused({message.to: (code, reply)})
            smtp.putcmd("data")
            code, reply = smtp.getreply()
            if code != 354:
                self._rset(smtp, code)
                raise smtplib.SMTPDataError(code, reply)
            self._data(smtp, message)

    def _pipelined(self, smtp: smtplib.SMTP, message: Outgoing) -> None:
        """The replies to a pipelined MAIL, RCPT and DATA, all three read whatever they say
        (RFC 2920), then the data if DATA was accepted."""
        (mail, mail_reply), (rcpt, rcpt_reply), (data, data_reply) = (
            smtp.getreply(),
            smtp.getreply(),
            smtp.getreply(),
        )
        if mail == 250 and rcpt in (250, 251) and data == 354:
            self._data(smtp, message)
            return
        if data == 354:  # a server that takes DATA after refusing the envelope: hang up
            self.drop()
        elif 421 not in (mail, rcpt, data):
            self._rset(smtp, 250)
        else:
            self.close()
        if mail != 250:
            raise smtplib.SMTPSenderRefused(mail, mail_reply, self.bounces)
        if rcpt not in (250, 251):
            raise smtplib.SMTPRecipientsRefused({message.to: (rcpt, rcpt_reply)})
        raise smtplib.SMTPDataError(data, data_reply)

    @staticmethod
    def _data(smtp: smtplib.SMTP, message: Outgoing) -> None:
        body = LEADING_DOT.sub(b"..", message.raw)
        smtp.send(body + (b".\r\n" if body.endswith(b"\r\n") else b"\r\n.\r\n"))

    def finish(self) -> None:
        """The server's verdict on the message `start` sent: 250, or an error. The mail
        transaction ends with this reply either way (RFC 5321 4.1.1.4), so no RSET follows: a
        next envelope may already be on its way (`announce`)."""
        if self.smtp is None:
            raise TransientError("the connection was lost before the server's verdict")
        with self._errors() as smtp:
            code, reply = smtp.getreply()
            if code != 250:
                if code == 421:
                    self.close()
                raise SMTPVerdict(code, reply)

    def _rset(self, smtp: smtplib.SMTP, code: int) -> None:
        if code == 421:  # the server is closing the connection
            self.close()
        else:
            with contextlib.suppress(smtplib.SMTPServerDisconnected):
                smtp.rset()

    def drop(self) -> None:
        """Close the connection without QUIT (the server may be waiting for data)."""
        self.announced = None
        if self.smtp is not None:
            with contextlib.suppress(OSError):
                self.smtp.close()
            self.smtp = None

    def close(self) -> None:
        self.announced = None
        if self.smtp is not None:
            with contextlib.suppress(smtplib.SMTPException, OSError):
                self.smtp.quit()
            self.smtp = None


class DevSender:
    """The embedded default: messages land in the dev mailbox, in the worker's transaction."""

    def __init__(self) -> None:
        self.mailer = DevMailer()

    def start(self, session: Session, message: Outgoing) -> None:
        # The dev mailbox shows headers decoded, so it reads the bytes with the modern policy.
        parsed = email.message_from_bytes(message.raw, policy=email.policy.default)
        self.mailer.send(session, parsed)

    def announce(self, message: Outgoing) -> None:
        return None

    def finish(self) -> None:
        return None

    def close(self) -> None:
        return None
