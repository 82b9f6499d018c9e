"""Brands' Ed25519 signing keys: made with the brand, kept wrapped, published as JWKs.

The instance signs receipts and agreements with its own key (`accord.core.signing`); an
agreement a brand accepts is signed by the brand too, so each party's copy carries both
signatures. The brand's private key is wrapped with AES-GCM under a key derived (HKDF) from the
instance secret, with the brand's id as associated data: a wrapped key copied onto another
brand's row does not unwrap."""

from __future__ import annotations

import os
import uuid

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from sqlalchemy import Uuid, bindparam, select
from sqlalchemy.orm import Session

from accord.brands.models import BrandKey
from accord.core.db import utcnow
from accord.core.direct import Direct
from accord.core.errors import Conflict
from accord.core.signing import ALG, b64url, b64url_decode, key_id, public_key_jwk

_WRAP_INFO = b"accord brand signing keys v1"
_NONCE = 12


def _wrapping_key(secret: str) -> AESGCM:
    derived = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=_WRAP_INFO).derive(
        secret.encode()
    )
    return AESGCM(derived)


def new_key(session: Session, brand_id: uuid.UUID, secret: str) -> BrandKey:
    """Generate the brand's signing key and retire the one it had (if any)."""
    private = Ed25519PrivateKey.generate()
    raw = private.private_bytes(
        serialization.Encoding.Raw, serialization.PrivateFormat.Raw, serialization.NoEncryption()
    )
    nonce = os.urandom(_NONCE)
    wrapped = nonce + _wrapping_key(secret).encrypt(nonce, raw, brand_id.bytes)
    for old in session.scalars(
        select(BrandKey).where(BrandKey.brand_id == brand_id, BrandKey.retired_at.is_(None))
    ):
        old.retired_at = utcnow()
    key = BrandKey(
        brand_id=brand_id,
        kid=key_id(private),
        public_key=public_key_jwk(private)["x"],
        wrapped_private_key=b64url(wrapped),
    )
    session.add(key)
    session.flush()
    return key


def current_key(session: Session, brand_id: uuid.UUID) -> BrandKey | None:
    return session.scalars(
        select(BrandKey)
        .where(BrandKey.brand_id == brand_id, BrandKey.retired_at.is_(None))
        .order_by(BrandKey.created_at.desc())
        .limit(1)
    ).first()


def private_key(
    session: Session, brand_id: uuid.UUID, secret: str
) -> tuple[str, Ed25519PrivateKey]:
    """(kid, private key) of the brand's current key. A brand made before brands had keys
    gets its key now."""
    key = current_key(session, brand_id) or new_key(session, brand_id, secret)
    wrapped = b64url_decode(key.wrapped_private_key) or b""
    nonce, sealed = wrapped[:_NONCE], wrapped[_NONCE:]
    try:
        raw = _wrapping_key(secret).decrypt(nonce, sealed, brand_id.bytes)
    except InvalidTag:
        raise Conflict(
            "The brand's signing key cannot be unwrapped: ACCORD_SECRET_KEY changed since the "
            "key was made. Restore the secret, or make a new key with `accord brand rotate-key`."
        ) from None
    return key.kid, Ed25519PrivateKey.from_private_bytes(raw)


# Built once and run on the session's cursor (`core.direct`): the console's terms page and the
# published terms documents show the brand's public keys on every view.
_K = BrandKey.__table__.c
_PUBLIC = Direct(
    select(_K.public_key, _K.kid)
    .where(_K.brand_id == bindparam("brand", type_=Uuid()))
    .order_by(_K.retired_at.is_not(None), _K.created_at.desc())
)


def public_jwks(session: Session, brand_id: uuid.UUID) -> list[dict[str, str]]:
    """Every key the brand ever signed with (current first), as JWKs (RFC 8037)."""
    return [
        {"kty": "OKP", "crv": "Ed25519", "x": k.public_key, "kid": k.kid, "use": "sig", "alg": ALG}
        for k in _PUBLIC.all(session, brand=brand_id)
    ]
