"""The SMS gateways' status callbacks (delivery receipts): one endpoint per adapter, verified
by the provider's signature (`accord.sms` checks it).

A status names a text by the provider's id. Accord's own texts (phone codes, STOP
confirmations, HELP answers) are the SMS domain's records; a campaign's or a transactional
message's text is its outbox row, found by (channel, provider reference) and moved on by
`accord.delivery.receipts`: delivered, or undelivered (the provider's `undelivered` and
`failed`); `queued` and `sent` change nothing. A text undelivered because of the number itself
(it does not exist, is a landline) suppresses the number, with a ledger event. A status for a
text Accord did not send is a 404; one Accord does not know the meaning of, a 422.
"""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter, Request
from pydantic import BaseModel
from sqlalchemy import select
from sqlalchemy.orm import Session

from accord.core.errors import InvalidInput, NotFound
from accord.core.settings import Settings
from accord.core.web.deps import SessionDep, SettingsDep, TwilioSigned, WebhookSigned
from accord.delivery import receipts
from accord.outbox.models import OutboxMessage
from accord.sms import service as sms

router = APIRouter(tags=["sms hooks"])


class Result(BaseModel):
    result: str


@router.post("/hooks/sms/twilio/status", response_model=Result, dependencies=TwilioSigned)
async def twilio_status(request: Request, session: SessionDep, settings: SettingsDep) -> Result:
    data = sms.checked(sms.TwilioStatus, await sms.twilio_form(request, settings))
    report = sms.Status("twilio", data.MessageSid, data.MessageStatus, data.ErrorCode or None)
    return Result(result=record(session, settings, report))


@router.post("/hooks/sms/generic/status", response_model=Result, dependencies=WebhookSigned)
async def generic_status(request: Request, session: SessionDep, settings: SettingsDep) -> Result:
    data = sms.checked(sms.GenericStatus, await sms.generic_body(request, settings))
    report = sms.Status("generic", data.id, data.status, data.error_code or None, data.permanent)
    return Result(result=record(session, settings, report))


def record(session: Session, settings: Settings, report: sms.Status) -> str:
    """Apply one status; the text's status after it."""
    new = sms.STATUSES.get(report.status.lower())
    if new is None:
        raise InvalidInput(f"'{report.status}' is not a status Accord knows.", field="status")
    try:
        return sms.apply_status(session, settings, report)
    except NotFound:
        pass  # not one of Accord's own texts: a message of the outbox, then
    row = session.execute(
        select(OutboxMessage.state, OutboxMessage.to_address).where(
            OutboxMessage.channel == "sms", OutboxMessage.provider_ref == report.provider_id
        )
    ).first()
    if row is None:
        raise NotFound(f"No text with id {report.provider_id!r}.", field="id")
    if new not in ("delivered", "undelivered", "failed"):
        return str(row.state)
    status: Literal["delivered", "undelivered"] = (
        "delivered" if new == "delivered" else "undelivered"
    )
    moved = receipts.apply(
        session, channel="sms", provider_ref=report.provider_id, status=status, code=report.code
    )
    if moved is None:  # a late or repeated receipt
        return str(row.state)
    if status == "undelivered" and row.to_address and sms.permanent(report):
        sms.suppress_number(session, settings, row.to_address)
    return status
