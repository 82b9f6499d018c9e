"""One endpoint's own rules, shared by the service and the dispatcher: whether its URL may be
called, and turning it on or off."""

from __future__ import annotations

from accord.core.db import utcnow
from accord.core.settings import Settings
from accord.webhooks import ssrf
from accord.webhooks.models import WebhookEndpoint


def check_url(settings: Settings, url: str) -> ssrf.Target:
    return ssrf.check(url, allow_private=settings.is_dev)


def set_enabled(endpoint: WebhookEndpoint, enabled: bool, *, reason: str) -> None:
    if enabled:
        endpoint.enabled, endpoint.disabled_at, endpoint.disabled_reason = True, None, None
        endpoint.failing_since = None
    elif endpoint.enabled:
        endpoint.enabled, endpoint.disabled_at, endpoint.disabled_reason = (
            False,
            utcnow(),
            reason[:300],
        )
