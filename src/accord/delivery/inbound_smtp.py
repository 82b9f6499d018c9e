"""The inbound SMTP server for what comes back: bounces (DSN), complaints (ARF) and mailto
unsubscribes. Point the MX (or the bounce and unsubscribe addresses) of the sending domain here.

Each message is parsed and applied in its own transaction. A message that reports nothing is
accepted and dropped (never bounced back: bouncing a bounce makes loops); a database failure
answers 451 so the sending server tries again later.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from typing import Any

from aiosmtpd.controller import Controller

from accord.core.db import Database
from accord.core.settings import Settings
from accord.delivery import feedback

log = logging.getLogger("accord.inbound_smtp")
MAX_MESSAGE_BYTES = 10 * 1024 * 1024


class FeedbackHandler:
    """aiosmtpd handler: parse and apply every message it is given."""

    def __init__(self, db: Database, settings: Settings) -> None:
        self.db = db
        self.settings = settings

    def process(self, raw: bytes, recipients: list[str]) -> list[str]:
        with self.db.transaction() as session:
            return feedback.process(session, self.settings, raw, recipients)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        raw = envelope.original_content or envelope.content
        if isinstance(raw, str):
            raw = raw.encode("utf-8", "surrogateescape")
        recipients = [str(r) for r in envelope.rcpt_tos]
        try:
            # The database work runs off the event loop, so other connections are not held up.
            await asyncio.to_thread(self.process, raw, recipients)
        except Exception:
            log.exception("inbound message from %s could not be applied", envelope.mail_from)
            return "451 4.3.0 Temporary failure, try again later"
        return "250 OK"


def controller(settings: Settings, host: str, port: int, db: Database | None = None) -> Controller:
    handler = FeedbackHandler(db or Database.from_settings(settings), settings)
    return Controller(handler, hostname=host, port=port, data_size_limit=MAX_MESSAGE_BYTES)


def serve(settings: Settings, host: str, port: int, *, stop: threading.Event | None = None) -> None:
    """Run until interrupted (or until `stop` is set)."""
    db = Database.from_settings(settings)
    server = controller(settings, host, port, db)
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
