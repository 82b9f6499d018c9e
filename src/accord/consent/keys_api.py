"""`/.well-known/accord-keys.json`: the public keys that check this instance's signatures."""

from __future__ import annotations

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from fastapi import APIRouter, Request, Response

from accord.core.signing import load_signing_key, public_key_jwk

KEYS_PATH = "/.well-known/accord-keys.json"

router = APIRouter(tags=["keys"])


def instance_signing_key(request: Request) -> Ed25519PrivateKey:
    """The instance key, read (or created) once per app and kept on `app.state`."""
    state = request.app.state
    key: Ed25519PrivateKey | None = getattr(state, "signing_key", None)
    if key is None:
        key = load_signing_key(state.settings)
        state.signing_key = key
    return key


@router.get(KEYS_PATH, summary="Public keys of this instance (JWK set)")
def accord_keys(request: Request, response: Response) -> dict[str, list[dict[str, str]]]:
    # Short caching: verifiers may hold a copy, yet learn of a rotated key within the hour.
    response.headers["Cache-Control"] = "public, max-age=3600"
    return {"keys": [public_key_jwk(instance_signing_key(request))]}
