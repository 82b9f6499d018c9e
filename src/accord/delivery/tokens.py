"""Signed unsubscribe tokens: they need no cookie or login, and cannot be forged or altered.

Each carries the time it was issued and works for `MAX_AGE` (a year) after it: long enough
for any mail a person still reads, short enough that an old forwarded or leaked mail stops
acting for them. An expired link's page asks the person to sign in instead. Tokens issued
before the time was added carry none and keep working."""

from __future__ import annotations

import time
import uuid
import zlib
from dataclasses import dataclass
from datetime import timedelta
from functools import lru_cache
from typing import Any

from itsdangerous import BadSignature, Serializer, URLSafeSerializer
from itsdangerous.encoding import base64_encode

from accord.core.errors import InvalidInput

SALT = "accord-unsubscribe"
MAX_AGE = timedelta(days=365)


@dataclass(frozen=True)
class UnsubscribeToken:
    message: int
    person: uuid.UUID
    brand: uuid.UUID
    topic: uuid.UUID
    campaign: uuid.UUID | None
    # Seconds since the epoch; None for tokens issued before the time was carried.
    issued: int | None = None


class ExpiredLink(InvalidInput):
    """A genuine token, too old to act on."""


class _Serializer(URLSafeSerializer):
    """itsdangerous' URL-safe tokens, compressed with a 512-byte window: `zlib.compress` sets
    up 256 KB of state for a 150-byte payload, which cost more than the rest of the token.
    The output is the same format (any reader decompresses it), a few bytes longer."""

    def dump_payload(self, obj: Any) -> bytes:
        raw = Serializer.dump_payload(self, obj)  # compact JSON, not yet compressed
        packer = zlib.compressobj(6, zlib.DEFLATED, 9, 1)
        packed = packer.compress(raw) + packer.flush()
        if len(packed) < len(raw) - 1:
            return b"." + base64_encode(packed)
        return base64_encode(raw)


@lru_cache(maxsize=4)
def _serializer(secret: str) -> URLSafeSerializer:
    return _Serializer(secret, salt=SALT)


def make(secret: str, token: UnsubscribeToken) -> str:
    payload = [
        token.message,
        token.person.hex,
        token.brand.hex,
        token.topic.hex,
        token.campaign.hex if token.campaign else None,
        token.issued if token.issued is not None else int(time.time()),
    ]
    return str(_serializer(secret).dumps(payload))


def read(secret: str, raw: str, *, now: float | None = None) -> UnsubscribeToken:
    """The token; InvalidInput when forged, altered or cut, ExpiredLink when over a year old."""
    try:
        message, person, brand, topic, campaign, *rest = _serializer(secret).loads(raw)
        issued = int(rest[0]) if rest else None
        found = UnsubscribeToken(
            message=int(message),
            person=uuid.UUID(person),
            brand=uuid.UUID(brand),
            topic=uuid.UUID(topic),
            campaign=uuid.UUID(campaign) if campaign else None,
            issued=issued,
        )
    except (BadSignature, ValueError, TypeError):
        raise InvalidInput("This unsubscribe link is not valid.", field="token") from None
    age = (time.time() if now is None else now) - (issued or 0)
    if issued is not None and age > MAX_AGE.total_seconds():
        raise ExpiredLink("This unsubscribe link is more than a year old.", field="token")
    return found
