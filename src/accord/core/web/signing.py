"""The instance's signing key for request handlers, read once per app and kept on app.state."""

from __future__ import annotations

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from fastapi import Request

from accord.core.signing import load_signing_key


def instance_key(request: Request) -> Ed25519PrivateKey:
    state = request.app.state
    key: Ed25519PrivateKey | None = getattr(state, "signing_key", None)
    if key is None:
        key = load_signing_key(state.settings)
        state.signing_key = key
    return key
