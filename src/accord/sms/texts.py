"""Texts Accord sends outside campaigns: verification codes, STOP/START confirmations, HELP
answers. Each is recorded (`SmsMessage`, for its delivery status) and goes once the caller's
transaction commits, so a text never announces a change that did not land. The dev phone keeps
its text in that same transaction instead."""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass

from sqlalchemy import update
from sqlalchemy.orm import Session

from accord.core.db import Database, after_commit, utcnow
from accord.core.settings import Settings
from accord.sms.gateway import Gateway, Result, Text
from accord.sms.models import SmsMessage
from accord.sms.segments import count

log = logging.getLogger("accord.sms")


@dataclass
class Texter:
    """Sends one text now (after commit) through the configured gateway."""

    # For recording a provider's answer after the commit (not needed by the dev phone).
    db: Database | None
    settings: Settings
    gateway: Gateway

    def send(
        self,
        session: Session,
        *,
        to: str,
        text: str,
        kind: str = "code",
        sender: str | None = None,
        brand_id: uuid.UUID | None = None,
        person_id: uuid.UUID | None = None,
    ) -> SmsMessage:
        sender = sender if sender is not None else self.settings.sms_from
        counted = count(text)
        row = SmsMessage(
            brand_id=brand_id,
            person_id=person_id,
            kind=kind,
            to_number=to,
            from_number=sender,
            segments=counted.segments,
            encoding=counted.encoding,
            provider=self.gateway.name,
            status="queued",
        )
        session.add(row)
        session.flush()
        message = Text(to=to, sender=sender, body=text, reference=f"sms-{row.id}")
        if self.gateway.in_transaction:
            record(row, self.gateway.send(session, message))
            session.flush()
        else:
            row_id = row.id
            after_commit(session, lambda: self._deliver(row_id, message))
        return row

    def _deliver(self, row_id: int, message: Text) -> None:
        """After the commit: hand the text over, then record the provider's answer in a
        transaction of its own (a failure is recorded, never raised into the request)."""
        try:
            result = self.gateway.send(None, message)
        except Exception:  # an adapter bug must not turn a committed request into an error
            log.exception("sending text %s failed", row_id)
            return
        assert self.db is not None, "an HTTP gateway records its answers in the database"
        with self.db.transaction() as session:
            row = session.get(SmsMessage, row_id)
            if row is not None:
                record(row, result)


def record(row: SmsMessage, result: Result) -> None:
    row.status_at = utcnow()
    if result.accepted:
        row.provider_id, row.status = result.provider_id, _status(result.status)
    else:
        row.status, row.error_code = "failed", result.code or result.verdict


def _status(provider_status: str) -> str:
    return (
        "delivered"
        if provider_status == "delivered"
        else "sent"
        if provider_status == "sent"
        else "queued"
    )


def mark(session: Session, row_id: int, status: str, code: str | None) -> None:
    session.execute(
        update(SmsMessage)
        .where(SmsMessage.id == row_id)
        .values(status=status, error_code=code, status_at=utcnow())
    )
