"""The gateways' callbacks: one inbound endpoint and one status endpoint per adapter.

Not under /api/v1 and without CSRF (a provider calls them, not a browser): each is verified by
its provider's signature, `X-Twilio-Signature` or the generic gateway's Standard Webhooks HMAC.
A request with a bad or missing signature is a 401 and changes nothing; an adapter that is not
configured answers 404. A text from or to a number Accord does not know is answered 200 (the
provider must not retry it) and kept with its outcome; a status for a text Accord did not send
is a 404.
"""

from __future__ import annotations

from typing import Annotated, Literal
from urllib.parse import parse_qsl

from fastapi import APIRouter, Request, Security
from fastapi.responses import Response
from fastapi.security import APIKeyHeader
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from accord.core.error_text import field_path, sentence
from accord.core.errors import InvalidInput, NotAuthenticated, NotFound
from accord.core.validation import Line, Text
from accord.core.web.deps import SessionDep, SettingsDep
from accord.sms import generic, receipts, twilio
from accord.sms.inbound import Inbound, Received, receive
from accord.sms.receipts import Status

router = APIRouter(tags=["sms hooks"])

EMPTY_TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response></Response>'
BAD_SIGNATURE = "The request's signature is missing or wrong."
Number = Annotated[Line, Field(min_length=1, max_length=32)]
ProviderId = Annotated[Line, Field(min_length=1, max_length=64)]
Code = Annotated[Line, Field(max_length=32)]
SmsText = Annotated[Text, Field(max_length=2000)]
# The signatures that authenticate the callers, declared so the API document lists their 401s
# (and the 404 of a gateway that is not configured); the routes check them themselves.
TWILIO_SIGNATURE = APIKeyHeader(
    name="X-Twilio-Signature", auto_error=False, scheme_name="TwilioSignature"
)
GATEWAY_SIGNATURE = APIKeyHeader(
    name="webhook-signature", auto_error=False, scheme_name="GatewaySignature"
)
TwilioSigned = [Security(TWILIO_SIGNATURE)]
GatewaySigned = [Security(GATEWAY_SIGNATURE)]


class Result(BaseModel):
    result: str


def _first_error(exc: ValidationError) -> InvalidInput:
    error = exc.errors()[0]
    field = field_path(error["loc"])
    return InvalidInput(f"{field}: {sentence(error)}", field=field)


# --- Twilio-compatible ---------------------------------------------------------------------


class TwilioInbound(BaseModel):
    model_config = ConfigDict(extra="ignore")

    MessageSid: ProviderId
    From: Number
    To: Number
    Body: SmsText = ""


class TwilioStatus(BaseModel):
    model_config = ConfigDict(extra="ignore")

    MessageSid: ProviderId
    MessageStatus: Code
    ErrorCode: Code | None = None


async def _twilio_form(request: Request, settings: SettingsDep) -> dict[str, str]:
    token = settings.twilio_auth_token.get_secret_value()
    if not token:
        raise NotFound("The Twilio gateway is not configured.")
    pairs = parse_qsl((await request.body()).decode("utf-8", "replace"), keep_blank_values=True)
    url = settings.base_url + request.url.path
    if request.url.query:
        url += "?" + request.url.query
    if not twilio.valid(token, url, pairs, request.headers.get("x-twilio-signature")):
        raise NotAuthenticated(BAD_SIGNATURE, field="X-Twilio-Signature")
    return dict(pairs)


@router.post("/hooks/sms/twilio/inbound", response_class=Response, dependencies=TwilioSigned)
async def twilio_inbound(request: Request, session: SessionDep, settings: SettingsDep) -> Response:
    """A text to one of Accord's numbers, as Twilio posts it. Answered with empty TwiML: any
    confirmation goes out through the API, recorded like every other text."""
    form = await _twilio_form(request, settings)
    try:
        data = TwilioInbound.model_validate(form)
    except ValidationError as exc:
        raise _first_error(exc) from None
    inbound = Inbound("twilio", data.MessageSid, data.From, data.To, data.Body)
    _receive(request, session, settings, inbound)
    return Response(EMPTY_TWIML, media_type="text/xml")


@router.post("/hooks/sms/twilio/status", response_model=Result, dependencies=TwilioSigned)
async def twilio_status(request: Request, session: SessionDep, settings: SettingsDep) -> Result:
    form = await _twilio_form(request, settings)
    try:
        data = TwilioStatus.model_validate(form)
    except ValidationError as exc:
        raise _first_error(exc) from None
    return _status(session, settings, "twilio", data.MessageSid, data.MessageStatus, data.ErrorCode)


# --- generic JSON ----------------------------------------------------------------------------


class GenericInbound(BaseModel):
    model_config = ConfigDict(extra="ignore", populate_by_name=True)

    id: ProviderId
    from_: Number = Field(alias="from")
    to: Number
    text: SmsText = ""


class GenericStatus(BaseModel):
    model_config = ConfigDict(extra="ignore")

    id: ProviderId
    status: Code
    error_code: Code | None = None
    permanent: bool | None = None


async def _generic_body(request: Request, settings: SettingsDep) -> dict[str, object]:
    secret = settings.sms_gateway_secret.get_secret_value()
    if not secret:
        raise NotFound("The generic SMS gateway is not configured.")
    data = generic.verified(secret, await request.body(), request.headers)
    if data is None:
        raise NotAuthenticated(BAD_SIGNATURE, field="webhook-signature")
    return data


@router.post("/hooks/sms/generic/inbound", response_model=Result, dependencies=GatewaySigned)
async def generic_inbound(request: Request, session: SessionDep, settings: SettingsDep) -> Result:
    body = await _generic_body(request, settings)
    try:
        data = GenericInbound.model_validate(body)
    except ValidationError as exc:
        raise _first_error(exc) from None
    inbound = Inbound("generic", data.id, data.from_, data.to, data.text)
    received = _receive(request, session, settings, inbound)
    return Result(result=received.outcome)


@router.post("/hooks/sms/generic/status", response_model=Result, dependencies=GatewaySigned)
async def generic_status(request: Request, session: SessionDep, settings: SettingsDep) -> Result:
    body = await _generic_body(request, settings)
    try:
        data = GenericStatus.model_validate(body)
    except ValidationError as exc:
        raise _first_error(exc) from None
    return _status(
        session, settings, "generic", data.id, data.status, data.error_code, data.permanent
    )


# --- shared ----------------------------------------------------------------------------------


def _receive(
    request: Request, session: SessionDep, settings: SettingsDep, inbound: Inbound
) -> Received:
    state = request.app.state
    return receive(session, settings, state.texter, inbound, state.sms_reply_handlers)


def _status(
    session: SessionDep,
    settings: SettingsDep,
    provider: Literal["twilio", "generic"],
    provider_id: str,
    status: str,
    code: str | None,
    permanent: bool | None = None,
) -> Result:
    if not receipts.known_status(status):
        raise InvalidInput(f"'{status}' is not a status Accord knows.", field="status")
    report = Status(provider, provider_id, status, code or None, permanent)
    return Result(result=receipts.apply(session, settings, report))
