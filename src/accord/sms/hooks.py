"""The gateways' inbound endpoints: one per adapter, for texts people send to Accord's numbers.

Not under /api/v1 and without CSRF (a provider calls them, not a browser): each is verified by
its provider's signature (`accord.sms.callbacks`). A text from or to a number Accord does not
know is answered 200 (the provider must not retry it) and kept with its outcome. The status
callbacks (delivery receipts) are the delivery domain's (`accord.delivery.sms_receipts`).
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response
from pydantic import BaseModel

from accord.core.web.deps import SessionDep, SettingsDep, TwilioSigned, WebhookSigned
from accord.sms.callbacks import (
    GenericInbound,
    TwilioInbound,
    checked,
    generic_body,
    twilio_form,
)
from accord.sms.inbound import Inbound, Received, receive

router = APIRouter(tags=["sms hooks"])

EMPTY_TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response></Response>'


class Result(BaseModel):
    result: str


@router.post("/hooks/sms/twilio/inbound", response_class=Response, dependencies=TwilioSigned)
async def twilio_inbound(request: Request, session: SessionDep, settings: SettingsDep) -> Response:
    """A text to one of Accord's numbers, as Twilio posts it. Answered with empty TwiML: any
    confirmation goes out through the API, recorded like every other text."""
    data = checked(TwilioInbound, await twilio_form(request, settings))
    inbound = Inbound("twilio", data.MessageSid, data.From, data.To, data.Body)
    _receive(request, session, settings, inbound)
    return Response(EMPTY_TWIML, media_type="text/xml")


@router.post("/hooks/sms/generic/inbound", response_model=Result, dependencies=WebhookSigned)
async def generic_inbound(request: Request, session: SessionDep, settings: SettingsDep) -> Result:
    data = checked(GenericInbound, await generic_body(request, settings))
    inbound = Inbound("generic", data.id, data.from_, data.to, data.text)
    return Result(result=_receive(request, session, settings, inbound).outcome)


def _receive(
    request: Request, session: SessionDep, settings: SettingsDep, inbound: Inbound
) -> Received:
    state = request.app.state
    return receive(session, settings, state.texter, inbound, state.sms_reply_handlers)
