"""Signed unsubscribe tokens: they need no cookie or login, and cannot be forged or altered."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from itsdangerous import BadSignature, URLSafeSerializer

from accord.core.errors import InvalidInput

SALT = "accord-unsubscribe"


@dataclass(frozen=True)
class UnsubscribeToken:
    message: int
    person: uuid.UUID
    brand: uuid.UUID
    topic: uuid.UUID
    campaign: uuid.UUID | None


def _serializer(secret: str) -> URLSafeSerializer:
    return URLSafeSerializer(secret, salt=SALT)


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
