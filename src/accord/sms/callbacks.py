"""The gateways' callbacks as Accord reads them: each verified by its provider's signature
(`X-Twilio-Signature`, or the generic gateway's Standard Webhooks HMAC) and parsed into a
checked model. A bad or missing signature is a 401; an adapter that is not configured answers
404; a signed request missing a field is a 422 naming it."""

from __future__ import annotations

from typing import Annotated, Any, TypeVar
from urllib.parse import parse_qsl

from fastapi import Request
from pydantic import BaseModel, ConfigDict, Field, StringConstraints, ValidationError

from accord.core.errors import InvalidInput, NotAuthenticated, NotFound
from accord.core.settings import Settings
from accord.sms import generic, twilio

BAD_SIGNATURE = "The request's signature is missing or wrong."
Number = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=32)]
ProviderId = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=64)]
M = TypeVar("M", bound=BaseModel)


class TwilioInbound(BaseModel):
    model_config = ConfigDict(extra="ignore")

    MessageSid: ProviderId
    From: Number
    To: Number
    Body: Annotated[str, StringConstraints(max_length=2000)] = ""


class TwilioStatus(BaseModel):
    model_config = ConfigDict(extra="ignore")

    MessageSid: ProviderId
    MessageStatus: Annotated[str, StringConstraints(max_length=32)]
    ErrorCode: Annotated[str, StringConstraints(max_length=32)] | None = None


class GenericInbound(BaseModel):
    model_config = ConfigDict(extra="ignore", populate_by_name=True)

    id: ProviderId
    from_: Number = Field(alias="from")
    to: Number
    text: Annotated[str, StringConstraints(max_length=2000)] = ""


class GenericStatus(BaseModel):
    model_config = ConfigDict(extra="ignore")

    id: ProviderId
    status: Annotated[str, StringConstraints(max_length=32)]
    error_code: Annotated[str, StringConstraints(max_length=32)] | None = None
    permanent: bool | None = None


def checked(model: type[M], data: dict[str, Any]) -> M:
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        error = exc.errors()[0]
        field = ".".join(str(p) for p in error["loc"]) or None
        message = "is missing" if error["type"] == "missing" else str(error["msg"])
        raise InvalidInput(f"{field}: {message}.", field=field) from None


async def twilio_form(request: Request, settings: Settings) -> dict[str, str]:
    """The form Twilio posted, once its signature over Accord's URL checks out."""
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


async def generic_body(request: Request, settings: Settings) -> dict[str, Any]:
    """The JSON the generic gateway posted, once its signature checks out (and is recent)."""
    secret = settings.sms_gateway_secret.get_secret_value()
    if not secret:
        raise NotFound("The generic SMS gateway is not configured.")
    data = generic.verified(secret, await request.body(), request.headers)
    if data is None:
        raise NotAuthenticated(BAD_SIGNATURE, field="webhook-signature")
    return data
