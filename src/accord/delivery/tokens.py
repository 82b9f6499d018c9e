"""Signed unsubscribe tokens: they need no cookie or login, and cannot be forged or altered."""

from __future__ import annotations

import uuid
import zlib
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from itsdangerous import BadSignature, Serializer, URLSafeSerializer
from itsdangerous.encoding import base64_encode

from accord.core.errors import InvalidInput

SALT = "accord-unsubscribe"


@dataclass(frozen=True)
class UnsubscribeToken:
    message: int
    person: uuid.UUID
    brand: uuid.UUID
    topic: uuid.UUID
    campaign: uuid.UUID | None


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
    ]
    return str(_serializer(secret).dumps(payload))


def read(secret: str, raw: str) -> UnsubscribeToken:
    try:
        message, person, brand, topic, campaign = _serializer(secret).loads(raw)
        return UnsubscribeToken(
            message=int(message),
            person=uuid.UUID(person),
            brand=uuid.UUID(brand),
            topic=uuid.UUID(topic),
            campaign=uuid.UUID(campaign) if campaign else None,
        )
    except (BadSignature, ValueError, TypeError):
        raise InvalidInput("This unsubscribe link is not valid.", field="token") from None
