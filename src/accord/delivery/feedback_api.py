"""`POST /hooks/feedback`: bounces and complaints from an e-mail provider's webhook.

Authenticated by `Authorization: Bearer <ACCORD_BOUNCE_WEBHOOK_TOKEN>`; with no token configured
every call is a 401. No CSRF: no browser and no cookie are involved.
"""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Security
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import BaseModel, ConfigDict, Field

from accord.core.errors import NotAuthenticated
from accord.core.security import constant_time_equal, normalise_email
from accord.core.validation import Email, Line
from accord.core.web.deps import SessionDep, SettingsDep
from accord.delivery import feedback

router = APIRouter(tags=["feedback"])


class FeedbackIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    kind: Literal["bounce", "complaint"]
    message_id: Annotated[Line, Field(min_length=3, max_length=998)] = Field(
        pattern=r"^<?[^<>@\s]+@[^<>@\s]+>?$"
    )
    recipient: Email
    status: Annotated[Line, Field(max_length=16)] | None = Field(
        default=None,
        pattern=r"^[245]\.\d{1,3}\.\d{1,3}$",
        description="The SMTP enhanced status; a bounce without one counts as permanent.",
    )


class FeedbackResult(BaseModel):
    result: str


WEBHOOK_TOKEN = HTTPBearer(
    auto_error=False,
    scheme_name="WebhookToken",
    description="`Authorization: Bearer <ACCORD_BOUNCE_WEBHOOK_TOKEN>`.",
)


def require_token(
    settings: SettingsDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Security(WEBHOOK_TOKEN)],
) -> None:
    expected = settings.bounce_webhook_token.get_secret_value()
    supplied = credentials.credentials.strip() if credentials is not None else ""
    if not expected or not supplied or not constant_time_equal(expected, supplied):
        raise NotAuthenticated("A valid webhook token is required.", field="Authorization")


@router.post(
    "/hooks/feedback", response_model=FeedbackResult, dependencies=[Depends(require_token)]
)
def receive(data: FeedbackIn, session: SessionDep, settings: SettingsDep) -> FeedbackResult:
    """Apply one bounce or complaint. A message Accord did not send is answered `unmatched`."""
    kind: feedback.Kind = data.kind
    if data.kind == "bounce" and data.status is not None and not data.status.startswith("5."):
        kind = "soft_bounce"
    item = feedback.Feedback(
        kind=kind,
        recipients=(normalise_email(data.recipient),),
        message_id=data.message_id,
        status=data.status or ("5.0.0" if data.kind == "bounce" else None),
    )
    return FeedbackResult(result=feedback.apply(session, settings, item))
