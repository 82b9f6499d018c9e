"""A generic JSON gateway: texts are POSTed as JSON to a configured URL with a bearer token;
the gateway's inbound and status callbacks are signed the Standard Webhooks way (HMAC-SHA256
over `{webhook-id}.{webhook-timestamp}.{raw body}` with the `whsec_` key, five minutes'
tolerance), verified with the `standardwebhooks` library.

Send:   POST {ACCORD_SMS_GATEWAY_URL}  {"to", "from", "text", "reference", "status_url"}
        2xx {"id": "<the gateway's id>", "status": "queued"}; 4xx/5xx {"code", "message"}
Inbound: POST /hooks/sms/generic/inbound  {"id", "from", "to", "text"}
Status:  POST /hooks/sms/generic/status   {"id", "status", "error_code", "permanent"}
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import httpx
from sqlalchemy.orm import Session
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

from accord.core.errors import InvalidInput
from accord.core.settings import Settings
from accord.sms.gateway import RETRY, Result, Text, read_answer

STATUS_PATH = "/hooks/sms/generic/status"


class GenericGateway:
    name = "generic"
    in_transaction = False

    def __init__(self, settings: Settings) -> None:
        if not settings.sms_gateway_url:
            raise InvalidInput(
                "ACCORD_SMS_GATEWAY=generic needs ACCORD_SMS_GATEWAY_URL.", field="sms_gateway"
            )
        token = settings.sms_gateway_token.get_secret_value()
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        self.url = settings.sms_gateway_url
        self.status_url = settings.base_url + STATUS_PATH
        self.client = httpx.Client(headers=headers, timeout=settings.sms_timeout_seconds)

    def body(self, text: Text) -> dict[str, str]:
        return {
            "to": text.to,
            "from": text.sender,
            "text": text.body,
            "reference": text.reference,
            "status_url": self.status_url,
        }

    def send(self, session: Session | None, text: Text) -> Result:
        try:
            response = self.client.post(self.url, json=self.body(text))
        except httpx.HTTPError as exc:
            return Result(RETRY, detail=f"SMS gateway unreachable: {type(exc).__name__}")
        return read_answer(response, "id")

    def close(self) -> None:
        self.client.close()


def verified(secret: str, body: bytes, headers: Mapping[str, str]) -> dict[str, Any] | None:
    """The callback's JSON if its signature is good (and recent), else None."""
    if not secret:
        return None
    wanted = {
        k: headers[k]
        for k in ("webhook-id", "webhook-timestamp", "webhook-signature")
        if k in headers
    }
    try:
        data = Webhook(secret).verify(body, wanted)
    except (WebhookVerificationError, ValueError, KeyError):
        return None
    return data if isinstance(data, dict) else None
