"""Handing one notification to a browser's push service (RFC 8030) with `pywebpush`: the
payload encrypted for that browser (RFC 8291, `aes128gcm`), signed with the instance's VAPID
key (RFC 8292).

The answer decides the message's fate: 201/202 sent; 404/410 the subscription is gone (the
contact point is suppressed, with a ledger event); 429, 5xx, a timeout or a broken
connection are tried again later (honouring `Retry-After`); any other refusal (400, 401, 403,
413) is final."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from datetime import timedelta
from email.utils import parsedate_to_datetime
from typing import Any

import requests
from pywebpush import WebPushException, webpush

from accord.core.settings import Settings
from accord.push.keys import subject, vapid_keys

SENT, GONE, RETRY, FAILED = "sent", "gone", "retry", "failed"
GONE_STATUSES = frozenset({404, 410})
RETRY_STATUSES = frozenset({408, 425, 429, 500, 502, 503, 504})
# A push service takes about 4 kB of ciphertext (RFC 8291's one record); we keep well under.
MAX_PAYLOAD = 3000


@dataclass(frozen=True)
class Subscription:
    endpoint: str
    p256dh: str
    auth: str

    def info(self) -> dict[str, Any]:
        return {"endpoint": self.endpoint, "keys": {"p256dh": self.p256dh, "auth": self.auth}}


@dataclass(frozen=True)
class PushResult:
    verdict: str
    status: int | None = None
    detail: str = ""
    retry_after: timedelta | None = None


def payload(title: str, body: str, url: str | None = None, tag: str | None = None) -> bytes:
    """The JSON the service worker shows as a notification, cut to what a push service takes."""
    message = {"title": title[:200], "body": body, "url": url, "tag": tag}
    raw = json.dumps(message, separators=(",", ":")).encode()
    while len(raw) > MAX_PAYLOAD and message["body"]:
        message["body"] = str(message["body"])[: -max(1, (len(raw) - MAX_PAYLOAD))]
        raw = json.dumps(message, separators=(",", ":")).encode()
    return raw


def _retry_after(response: requests.Response | None) -> timedelta | None:
    value = response.headers.get("retry-after") if response is not None else None
    if not value:
        return None
    if value.strip().isdigit():
        return timedelta(seconds=min(int(value), 86400))
    try:
        moment = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return timedelta(seconds=max(0.0, min(86400.0, moment.timestamp() - time.time())))


class PushSender:
    """One HTTP session (connections kept open) for a worker's push hand-overs."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.session = requests.Session()

    def send(
        self,
        subscription: Subscription,
        data: bytes,
        *,
        topic: str | None = None,
        urgency: str = "normal",
        ttl: int | None = None,
    ) -> PushResult:
        headers: dict[str, str | int | float] = {"Urgency": urgency}
        if topic:
            headers["Topic"] = topic[:32]
        keys = vapid_keys(self.settings)
        try:
            response = webpush(
                subscription.info(),
                data=data,  # bytes: encrypted as they are
                vapid_private_key=keys.signer(),
                vapid_claims={"sub": subject(self.settings)},
                ttl=self.settings.push_ttl_seconds if ttl is None else ttl,
                timeout=self.settings.push_timeout_seconds,
                headers=headers,
                requests_session=self.session,
            )
        except WebPushException as exc:
            response = exc.response
            if response is None:  # refused before sending (a subscription it cannot use)
                return PushResult(FAILED, None, str(exc)[:500])
            status, text = response.status_code, response.text[:500]
            if status in GONE_STATUSES:
                return PushResult(GONE, status, text)
            if status in RETRY_STATUSES:
                return PushResult(RETRY, status, text, _retry_after(response))
            return PushResult(FAILED, status, text)
        except (requests.RequestException, OSError) as exc:
            return PushResult(RETRY, None, f"push service unreachable: {type(exc).__name__}")
        except (ValueError, IndexError, TypeError) as exc:  # keys it cannot use
            return PushResult(FAILED, None, f"unusable subscription: {type(exc).__name__}")
        assert isinstance(response, requests.Response)
        return PushResult(SENT, response.status_code)

    def close(self) -> None:
        self.session.close()
