"""The one interface every SMS gateway adapter offers, and the adapter the settings choose.

An adapter hands one text to its provider and says what happened: accepted (with the
provider's id for the text, which its status callbacks name), to be tried again later (429,
5xx, a timeout or a broken connection; `Retry-After` honoured), or refused for good (any other
4xx, with the provider's error code). It never raises for a provider's answer.

`dev` keeps texts in the database for the dev phone (`/dev/phone`), in the caller's
transaction; `twilio` and `generic` speak HTTP and keep their connections open.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import timedelta
from email.utils import parsedate_to_datetime
from typing import Any, Protocol

import httpx
from sqlalchemy.orm import Session

ACCEPTED, RETRY, FAILED = "accepted", "retry", "failed"
RETRY_STATUSES = frozenset({408, 425, 429, 500, 502, 503, 504})


@dataclass(frozen=True)
class Text:
    """One text on its way out: to and from (E.164), the body, and our reference for it."""

    to: str
    sender: str
    body: str
    reference: str


@dataclass(frozen=True)
class Result:
    verdict: str
    provider_id: str | None = None
    # The provider's status for an accepted text (queued, sent, delivered).
    status: str = "queued"
    # The provider's error code for a refusal or a retry (e.g. Twilio's 21211).
    code: str | None = None
    detail: str = ""
    retry_after: timedelta | None = None
    # A retry because the provider asked us to slow down (HTTP 429), not because it failed.
    throttled: bool = False

    @property
    def accepted(self) -> bool:
        return self.verdict == ACCEPTED


class Gateway(Protocol):
    name: str
    # True when `send` writes to the caller's session (the dev phone) rather than the network.
    in_transaction: bool

    def send(self, session: Session | None, text: Text) -> Result: ...

    def close(self) -> None: ...


def retry_after(value: str | None) -> timedelta | None:
    """A `Retry-After` header (seconds or an HTTP date) as a delay, at most a day."""
    if not value:
        return None
    if value.strip().isdigit():
        return timedelta(seconds=min(int(value), 86400))
    try:
        moment = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return timedelta(seconds=max(0.0, min(86400.0, moment.timestamp() - time.time())))


def read_answer(response: httpx.Response, id_key: str) -> Result:
    """A provider's JSON answer to a text: accepted (its id under `id_key`), to be tried again
    (429, 5xx; throttled for 429), or refused with its error code (any other 4xx)."""
    try:
        body: Any = response.json()
    except ValueError:
        body = {}
    if not isinstance(body, dict):
        body = {}
    if isinstance(body.get("error"), dict):
        body = body["error"]
    if response.is_success and body.get(id_key):
        return Result(ACCEPTED, str(body[id_key]), str(body.get("status") or "queued"))
    code = str(body["code"]) if body.get("code") is not None else None
    detail = f"{response.status_code} {str(body.get('message') or response.text)[:300]}"
    if response.status_code in RETRY_STATUSES or response.is_success:
        after = retry_after(response.headers.get("retry-after"))
        throttled = response.status_code == 429
        return Result(RETRY, code=code, detail=detail, retry_after=after, throttled=throttled)
    return Result(FAILED, code=code or str(response.status_code), detail=detail)
