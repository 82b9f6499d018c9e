"""A Twilio-compatible gateway: the Messages API (form POST, Basic auth with the account SID
and auth token) for sending, and `X-Twilio-Signature` on the inbound and status callbacks.

The signature is Base64(HMAC-SHA1(auth token, the full URL Twilio requested + every POST
parameter's name and value, sorted by name)), compared in constant time.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Iterable
from urllib.parse import urlsplit, urlunsplit

import httpx
from sqlalchemy.orm import Session

from accord.core.errors import InvalidInput
from accord.core.settings import Settings
from accord.sms.gateway import RETRY, Result, Text, read_answer

STATUS_PATH = "/hooks/sms/twilio/status"


class TwilioGateway:
    name = "twilio"
    in_transaction = False

    def __init__(self, settings: Settings) -> None:
        sid, token = settings.twilio_account_sid, settings.twilio_auth_token.get_secret_value()
        if not sid or not token:
            raise InvalidInput(
                "ACCORD_SMS_GATEWAY=twilio needs ACCORD_TWILIO_ACCOUNT_SID and "
                "ACCORD_TWILIO_AUTH_TOKEN.",
                field="sms_gateway",
            )
        self.path = f"/2010-04-01/Accounts/{sid}/Messages.json"
        self.status_callback = settings.base_url + STATUS_PATH
        self.client = httpx.Client(
            base_url=settings.twilio_api_url.rstrip("/"),
            auth=(sid, token),
            timeout=settings.sms_timeout_seconds,
        )

    def send(self, session: Session | None, text: Text) -> Result:
        form = {
            "To": text.to,
            "From": text.sender,
            "Body": text.body,
            "StatusCallback": self.status_callback,
        }
        try:
            response = self.client.post(self.path, data=form)
        except httpx.HTTPError as exc:
            return Result(RETRY, detail=f"Twilio unreachable: {type(exc).__name__}")
        return read_answer(response, "sid")

    def close(self) -> None:
        self.client.close()


def signature(token: str, url: str, params: Iterable[tuple[str, str]]) -> str:
    data = url + "".join(name + value for name, value in sorted(params))
    digest = hmac.new(token.encode(), data.encode(), hashlib.sha1).digest()
    return base64.b64encode(digest).decode()


def _candidates(url: str) -> list[str]:
    """The URL without its port and with the scheme's default port, as Twilio's own libraries
    check it: Twilio signs the URL it called, which a proxy in front of Accord may rewrite."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    default = {"https": 443, "http": 80}.get(parts.scheme)
    without = urlunsplit((parts.scheme, host, parts.path, parts.query, parts.fragment))
    if parts.port is not None or default is None:
        with_port = url
    else:
        with_port = urlunsplit(
            (parts.scheme, f"{host}:{default}", parts.path, parts.query, parts.fragment)
        )
    return list(dict.fromkeys([without, with_port]))


def valid(token: str, url: str, params: Iterable[tuple[str, str]], given: str | None) -> bool:
    if not token or not given:
        return False
    pairs = list(params)
    return any(
        hmac.compare_digest(signature(token, candidate, pairs), given)
        for candidate in _candidates(url)
    )
