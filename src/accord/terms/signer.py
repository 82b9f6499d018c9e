"""What signs agreement records: the instance's key and the brand's, with the public URL."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy.orm import Session

from accord.brands import service as brands
from accord.core.settings import Settings
from accord.core.signing import load_signing_key


@dataclass(frozen=True)
class Signer:
    instance_key: Ed25519PrivateKey
    secret: str
    base_url: str

    @classmethod
    def from_settings(
        cls, settings: Settings, instance_key: Ed25519PrivateKey | None = None
    ) -> Signer:
        return cls(
            instance_key=instance_key or load_signing_key(settings),
            secret=settings.resolved_secret_key(),
            base_url=settings.base_url,
        )

    def brand_key(self, session: Session, brand_id: uuid.UUID) -> Ed25519PrivateKey:
        return brands.signing_key(session, brand_id, self.secret)
