"""Request-scoped dependencies: the database session (the request commits), settings, mailer."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, Request, Security
from fastapi.security import APIKeyCookie, APIKeyHeader, HTTPBearer
from sqlalchemy.orm import Session

from accord.core.settings import Settings


def get_session(request: Request) -> Iterator[Session]:
    """One session per request; the request is the unit of work, so it commits here."""
    session: Session = request.app.state.db.session()
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


def client_ip(request: Request) -> str | None:
    """The caller's IP as the ASGI server gives it (behind a proxy, run uvicorn with
    --proxy-headers and --forwarded-allow-ips so that this is the client's, not the proxy's)."""
    return request.client.host if request.client else None


def get_settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


# scope="function": commit before the response is sent, so a failed commit is an error response.
SessionDep = Annotated[Session, Depends(get_session, scope="function")]
SettingsDep = Annotated[Settings, Depends(get_settings)]


# How callers authenticate, for the OpenAPI document (the dependencies read the request
# themselves; these only declare the schemes, and never refuse on their own).
API_KEY = HTTPBearer(
    auto_error=False,
    scheme_name="ApiKey",
    description="A brand's API key: `Authorization: Bearer acc_…`.",
)
SESSION_COOKIE = APIKeyCookie(
    name="accord_session",
    auto_error=False,
    scheme_name="Session",
    description="A signed-in person's or member's session cookie; writes also need the page's "
    "CSRF token in `X-CSRF-Token`.",
)
ApiKeyScheme = Annotated[object, Security(API_KEY)]
SessionScheme = Annotated[object, Security(SESSION_COOKIE)]
# Providers' callbacks, verified by a signature header the route checks itself.
TWILIO_SIGNATURE = APIKeyHeader(
    name="X-Twilio-Signature", auto_error=False, scheme_name="TwilioSignature"
)
WEBHOOK_SIGNATURE = APIKeyHeader(
    name="webhook-signature", auto_error=False, scheme_name="WebhookSignature"
)
TwilioSigned = [Security(TWILIO_SIGNATURE)]
WebhookSigned = [Security(WEBHOOK_SIGNATURE)]
