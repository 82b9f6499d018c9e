"""The SMS domain's public face: numbers, texts, inbound replies, receipts, segments.

The composition root builds the texter (`build_texter`, kept as `app.state.texter`) and
registers reply handlers (`add_reply_handler`): a domain that threads replies (conversations)
is handed each non-keyword reply in the inbound request's transaction, without this domain
importing it."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

from fastapi import FastAPI
from sqlalchemy import Uuid, bindparam, delete, select
from sqlalchemy.orm import Session

from accord.core.db import Database
from accord.core.direct import Direct
from accord.core.settings import Settings
from accord.sms import numbers
from accord.sms.adapters import build_gateway
from accord.sms.callbacks import GenericStatus, TwilioStatus, checked, generic_body, twilio_form
from accord.sms.compose import measure
from accord.sms.gateway import Gateway, Result, Text
from accord.sms.inbound import Inbound, Received, Reply, ReplyHandler, receive
from accord.sms.models import DevPhoneText, InboundSms, SendingNumber
from accord.sms.receipts import PERMANENT_CODES, STATUSES, Status, permanent, suppress_number
from accord.sms.receipts import apply as apply_status
from accord.sms.segments import MAX_SEGMENTS, Count, count
from accord.sms.texts import Texter

__all__ = [
    "MAX_SEGMENTS",
    "STATUSES",
    "Count",
    "Gateway",
    "GenericStatus",
    "Inbound",
    "Received",
    "Reply",
    "ReplyHandler",
    "Result",
    "SendingNumber",
    "Status",
    "Text",
    "Texter",
    "TwilioStatus",
    "add_reply_handler",
    "apply_status",
    "build_gateway",
    "build_texter",
    "checked",
    "count",
    "forget_numbers",
    "generic_body",
    "measure",
    "number_is_dead",
    "numbers",
    "permanent",
    "receive",
    "replies",
    "suppress_number",
    "twilio_form",
]


def number_is_dead(code: str | None) -> bool:
    """A provider's error code that says the number itself cannot take texts."""
    return code is not None and code in PERMANENT_CODES


def build_texter(db: Database, settings: Settings) -> Texter:
    return Texter(db, settings, build_gateway(settings))


def add_reply_handler(app: FastAPI, handler: ReplyHandler) -> None:
    """Hand every inbound reply that is not a keyword to `handler(session, reply)`."""
    app.state.sms_reply_handlers.append(handler)


def forget_numbers(session: Session, addresses: Sequence[str]) -> None:
    """An erasure: the dev phone forgets every text to or from these numbers."""
    if addresses:
        session.execute(delete(DevPhoneText).where(DevPhoneText.number.in_(list(addresses))))


def replies(
    session: Session, brand_id: uuid.UUID, *, before: int | None = None, limit: int = 50
) -> Sequence[InboundSms]:
    """The brand's inbound texts, newest first (keywords included, with what they did)."""
    query = select(InboundSms).where(InboundSms.brand_id == brand_id)
    if before is not None:
        query = query.where(InboundSms.id < before)
    return session.scalars(query.order_by(InboundSms.id.desc()).limit(limit)).all()


# The console's Texts page: the latest replies as the columns it shows, built once with the brand
# bound and read on the session's cursor (`core.direct`), in `replies`' order.
_I = InboundSms.__table__.c
_REPLIES_SHOWN = Direct(
    select(_I.received_at, _I.from_number, _I.body, _I.kind, _I.outcome)
    .where(_I.brand_id == bindparam("brand", type_=Uuid()))
    .order_by(_I.id.desc())
    .limit(50)
)


def replies_shown(session: Session, brand_id: uuid.UUID) -> list[Any]:
    """`replies`' first page, as (received_at, from_number, body, kind, outcome)."""
    return _REPLIES_SHOWN.all(session, brand=brand_id)
