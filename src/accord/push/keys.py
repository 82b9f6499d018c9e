"""The instance's VAPID key pair (RFC 8292): generated once and kept like the secret key.

Push services tie every subscription to the public key the browser was given when it
subscribed, so the key must outlive restarts and be the same in every web and worker process:
set `ACCORD_VAPID_PRIVATE_KEY_FILE` in production, or let Accord generate
`var/vapid_private_key.pem` once (mode 0600)."""

from __future__ import annotations

import base64
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from py_vapid import Vapid02

from accord.core.settings import Settings

KEY_FILE = "vapid_private_key.pem"


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def b64url_decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


@dataclass(frozen=True)
class VapidKeys:
    private_pem: bytes
    # The uncompressed P-256 point, base64url: the browser's `applicationServerKey`.
    public_key: str

    def signer(self) -> Vapid02:
        return Vapid02.from_pem(self.private_pem)


def key_path(settings: Settings) -> Path:
    return settings.vapid_private_key_file or settings.var_dir / KEY_FILE


def vapid_keys(settings: Settings) -> VapidKeys:
    """The configured key pair, or one generated once under var/."""
    path = key_path(settings)
    if not path.exists():
        if settings.vapid_private_key_file is not None:
            raise FileNotFoundError(f"ACCORD_VAPID_PRIVATE_KEY_FILE {path} does not exist")
        path.parent.mkdir(parents=True, exist_ok=True)
        key = ec.generate_private_key(ec.SECP256R1())
        pem = key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        path.write_bytes(pem)
        path.chmod(0o600)
    return _load(path.read_bytes())


@cache
def _load(pem: bytes) -> VapidKeys:
    key = serialization.load_pem_private_key(pem, password=None)
    if not isinstance(key, ec.EllipticCurvePrivateKey) or key.curve.name != "secp256r1":
        raise ValueError("the VAPID key must be a P-256 (prime256v1) EC private key")
    point = key.public_key().public_bytes(
        serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
    )
    return VapidKeys(private_pem=pem, public_key=b64url(point))


def subject(settings: Settings) -> str:
    """The `sub` claim: who the push service can contact about this sender."""
    if settings.vapid_subject:
        return settings.vapid_subject
    address = settings.email_from.rpartition("<")[2].rstrip(">").strip()
    return f"mailto:{address}"
