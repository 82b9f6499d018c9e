"""Posting callbacks to Accord the way each provider does, signed with the provider's code."""

from __future__ import annotations

import json
import uuid

from fastapi.testclient import TestClient
from httpx import Response

from tests.sms.providers import SID, TOKEN, Provider, generic_headers, twilio_signature

BASE = "http://testserver"


def inbound(
    client: TestClient,
    provider: Provider,
    *,
    frm: str,
    to: str,
    text: str,
    sid: str | None = None,
    signed: bool = True,
    token: str = TOKEN,
) -> Response:
    sid = sid or ("SM" + uuid.uuid4().hex if provider.kind == "twilio" else uuid.uuid4().hex)
    if provider.kind == "twilio":
        params = {
            "MessageSid": sid,
            "SmsSid": sid,
            "AccountSid": SID,
            "From": frm,
            "To": to,
            "Body": text,
            "NumSegments": "1",
        }
        path = "/hooks/sms/twilio/inbound"
        headers = {"X-Twilio-Signature": twilio_signature(token, BASE + path, params)}
        return client.post(path, data=params, headers=headers if signed else {})
    body = json.dumps({"id": sid, "from": frm, "to": to, "text": text}).encode()
    headers = generic_headers(body) if signed else {"content-type": "application/json"}
    return client.post("/hooks/sms/generic/inbound", content=body, headers=headers)


def status(
    client: TestClient,
    provider: Provider,
    provider_id: str,
    value: str,
    code: str | None = None,
    *,
    extra: dict[str, object] | None = None,
    signed: bool = True,
) -> Response:
    if provider.kind == "twilio":
        params = {
            "MessageSid": provider_id,
            "AccountSid": SID,
            "MessageStatus": value,
            "ErrorCode": code or "",
            **{k: str(v) for k, v in (extra or {}).items()},
        }
        path = "/hooks/sms/twilio/status"
        headers = {"X-Twilio-Signature": twilio_signature(TOKEN, BASE + path, params)}
        return client.post(path, data=params, headers=headers if signed else {})
    payload: dict[str, object] = {"id": provider_id, "status": value, "error_code": code}
    payload.update(extra or {})
    body = json.dumps(payload).encode()
    headers = generic_headers(body) if signed else {"content-type": "application/json"}
    return client.post("/hooks/sms/generic/status", content=body, headers=headers)
