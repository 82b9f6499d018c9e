"""The instance's Ed25519 key, and detached signatures over RFC 8785 canonical JSON documents.

A signed document carries its signature as one extra member, `"signature"`, so it stays plain
JSON that anyone can check offline with the public key (a JWK) and any RFC 8785 implementation.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import copy
import hashlib
import os
import re
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import rfc8785
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from accord.core.settings import Settings

KEY_FILE = "signing_key.pem"
SIGNATURE = "signature"
ALG = "EdDSA"

_B64URL = re.compile(r"[A-Za-z0-9_-]*")


class SigningKeyError(Exception):
    """The key file exists but does not hold an Ed25519 private key."""


def signing_key_path(settings: Settings) -> Path:
    return settings.var_dir / KEY_FILE


def load_signing_key(settings: Settings) -> Ed25519PrivateKey:
    """The instance key from var/signing_key.pem, created (mode 0600) on first use."""
    path = signing_key_path(settings)
    if not path.exists():
        _create(path)
    return read_signing_key(path)


def read_signing_key(path: Path) -> Ed25519PrivateKey:
    try:
        key = serialization.load_pem_private_key(path.read_bytes(), password=None)
    except (ValueError, TypeError) as exc:
        raise SigningKeyError(f"{path} is not an unencrypted PEM private key.") from exc
    if not isinstance(key, Ed25519PrivateKey):
        raise SigningKeyError(f"{path} holds a {type(key).__name__}, not an Ed25519 key.")
    return key


def _create(path: Path) -> None:
    """Write a fresh key to a private temp file, then link it into place.

    `os.link` fails if the file exists, so when two processes start at once exactly one key
    wins and nobody ever reads a half-written file.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    pem = Ed25519PrivateKey.generate().private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".signing_key.")  # created 0600
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(pem)
            handle.flush()
            os.fsync(handle.fileno())
        with contextlib.suppress(FileExistsError):  # another process won: use its key
            os.link(tmp, path)
    finally:
        os.unlink(tmp)


def _public(key: Ed25519PrivateKey | Ed25519PublicKey) -> Ed25519PublicKey:
    return key.public_key() if isinstance(key, Ed25519PrivateKey) else key


def _raw(key: Ed25519PrivateKey | Ed25519PublicKey) -> bytes:
    return _public(key).public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def b64url_decode(text: str) -> bytes | None:
    """Strict decoding: only the canonical unpadded form of some bytes is accepted, so one
    signature has exactly one spelling."""
    if not _B64URL.fullmatch(text) or len(text) % 4 == 1:
        return None
    try:
        data = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (binascii.Error, ValueError):
        return None
    return data if b64url(data) == text else None


def key_id(key: Ed25519PrivateKey | Ed25519PublicKey) -> str:
    return hashlib.sha256(_raw(key)).hexdigest()[:16]


def public_key_jwk(key: Ed25519PrivateKey | Ed25519PublicKey) -> dict[str, str]:
    """The public half as an OKP JWK (RFC 8037)."""
    return {
        "kty": "OKP",
        "crv": "Ed25519",
        "x": b64url(_raw(key)),
        "kid": key_id(key),
        "use": "sig",
        "alg": ALG,
    }


def unsigned(doc: Mapping[str, Any]) -> dict[str, Any]:
    return {name: value for name, value in doc.items() if name != SIGNATURE}


def sign_document(doc: Mapping[str, Any], key: Ed25519PrivateKey) -> dict[str, Any]:
    """A deep copy of `doc` with a `signature` member over the canonical JSON of the rest.

    An existing signature is replaced, never signed over.
    """
    body = copy.deepcopy(unsigned(doc))
    value = key.sign(rfc8785.dumps(body))
    return {**body, SIGNATURE: {"alg": ALG, "kid": key_id(key), "value": b64url(value)}}


def jwk_public_key(jwk: Any) -> Ed25519PublicKey | None:
    if not isinstance(jwk, Mapping) or jwk.get("kty") != "OKP" or jwk.get("crv") != "Ed25519":
        return None
    x = jwk.get("x")
    raw = b64url_decode(x) if isinstance(x, str) else None
    if raw is None or len(raw) != 32:
        return None
    try:
        return Ed25519PublicKey.from_public_bytes(raw)
    except ValueError:
        return None


def verify_document(doc: Any, jwks: Any) -> bool:
    """True only if `doc` carries a valid EdDSA signature by a key in `jwks` with its kid.

    Untrusted input of any shape gives False, never an exception.
    """
    if not isinstance(doc, Mapping) or not isinstance(jwks, list | tuple):
        return False
    signature = doc.get(SIGNATURE)
    if not isinstance(signature, Mapping) or signature.get("alg") != ALG:
        return False
    kid, value = signature.get("kid"), signature.get("value")
    if not isinstance(kid, str) or not isinstance(value, str):
        return False
    sig = b64url_decode(value)
    if sig is None or len(sig) != 64:
        return False
    try:
        payload = rfc8785.dumps(unsigned(doc))
    except Exception:  # rfc8785 rejects NaN, huge integers, non-JSON types: all mean "invalid"
        return False
    return any(_signed_by(jwk, kid, sig, payload) for jwk in jwks)


def _signed_by(jwk: Any, kid: str, sig: bytes, payload: bytes) -> bool:
    """True if `jwk` is the signing key `kid` and `sig` is its signature of `payload`."""
    if not isinstance(jwk, Mapping) or jwk.get("kid") != kid:
        return False
    if jwk.get("alg", ALG) != ALG or jwk.get("use", "sig") != "sig":
        return False
    public = jwk_public_key(jwk)
    if public is None:
        return False
    try:
        public.verify(sig, payload)
    except InvalidSignature:
        return False
    return True
