"""The inbound SMTP server for what comes back: bounces (DSN), complaints (ARF) and mailto
unsubscribes, and mail for the addresses other domains own (routes, such as the reply
addresses of conversation threads). Point the MX (or the bounce, unsubscribe and reply
addresses) of the sending domain here.

Each message is parsed and applied in its own transaction. A message that reports nothing is
accepted and dropped (never bounced back: bouncing a bounce makes loops); a database failure
answers 451 so the sending server tries again later. A route may refuse a recipient at RCPT TO
or a message at DATA with a 5xx reply: the sending server then bounces it, and nothing of it is
stored.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Sequence
from typing import Any, Protocol

from aiosmtpd.controller import Controller
from sqlalchemy.orm import Session

from accord.core.db import Database
from accord.core.settings import Settings
from accord.delivery import feedback

log = logging.getLogger("accord.inbound_smtp")
MAX_MESSAGE_BYTES = 10 * 1024 * 1024


class MailRoute(Protocol):
    """Mail for addresses a domain owns. The composition root passes the routes in; this
    module never imports the domains behind them."""

    def claims(self, address: str) -> bool:
        """Whether the address is this route's (its form, not whether it is valid)."""

    def check_recipient(self, address: str) -> str | None:
        """None to accept the recipient, else the SMTP reply refusing it (a 5xx)."""

    def deliver(self, session: Session, raw: bytes, recipient: str) -> str | None:
        """Take the message in `session`; None when taken, else the SMTP reply refusing it
        (the transaction is then rolled back)."""


class _Refused(Exception):
    def __init__(self, reply: str) -> None:
        super().__init__(reply)
        self.reply = reply


class FeedbackHandler:
    """aiosmtpd handler: parse and apply every message it is given."""

    def __init__(self, db: Database, settings: Settings, routes: Sequence[MailRoute] = ()) -> None:
        self.db = db
        self.settings = settings
        self.routes = tuple(routes)

    def route_of(self, address: str) -> MailRoute | None:
        return next((r for r in self.routes if r.claims(address)), None)

    async def handle_RCPT(
        self, server: Any, session: Any, envelope: Any, address: str, rcpt_options: list[str]
    ) -> str:
        route = self.route_of(address)
        if route is not None:
            refusal = route.check_recipient(address)
            if refusal is not None:
                return refusal
        envelope.rcpt_tos.append(address)
        return "250 OK"

    def deliver(self, route: MailRoute, raw: bytes, recipient: str) -> str | None:
        try:
            with self.db.transaction() as session:
                refusal = route.deliver(session, raw, recipient)
                if refusal is not None:
                    raise _Refused(refusal)  # rolls the transaction back
        except _Refused as refused:
            return refused.reply
        return None

    def process(self, raw: bytes, recipients: list[str]) -> list[str]:
        """Routed recipients first (one may refuse the message), then feedback for the rest.
        Raises _Refused with the reply when a route refuses."""
        rest = []
        done = []
        for recipient in recipients:
            route = self.route_of(recipient)
            if route is None:
                rest.append(recipient)
                continue
            refusal = self.deliver(route, raw, recipient)
            if refusal is not None:
                raise _Refused(refusal)
            done.append("routed")
        if done and not rest:
            return done
        with self.db.transaction() as session:
            return done + feedback.process(session, self.settings, raw, rest)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        raw = envelope.original_content or envelope.content
        if isinstance(raw, str):
            raw = raw.encode("utf-8", "surrogateescape")
        recipients = [str(r) for r in envelope.rcpt_tos]
        try:
            # The database work runs off the event loop, so other connections are not held up.
            await asyncio.to_thread(self.process, raw, recipients)
        except _Refused as refused:
            return refused.reply
        except Exception:
            log.exception("inbound message from %s could not be applied", envelope.mail_from)
            return "451 4.3.0 Temporary failure, try again later"
        return "250 OK"


def controller(
    settings: Settings,
    host: str,
    port: int,
    db: Database | None = None,
    routes: Sequence[MailRoute] = (),
) -> Controller:
    handler = FeedbackHandler(db or Database.from_settings(settings), settings, routes)
    return Controller(handler, hostname=host, port=port, data_size_limit=MAX_MESSAGE_BYTES)


def serve(
    settings: Settings,
    host: str,
    port: int,
    *,
    stop: threading.Event | None = None,
    routes: Sequence[MailRoute] = (),
) -> None:
    """Run until interrupted (or until `stop` is set)."""
    db = Database.from_settings(settings)
    server = controller(settings, host, port, db, routes)
    server.start()
    log.info("inbound SMTP listening on %s:%s", host, port)
    waiter = stop or threading.Event()
    try:
        while not waiter.wait(1.0):
            pass
    except KeyboardInterrupt:
        pass
    finally:
        server.stop()
        db.engine.dispose()
