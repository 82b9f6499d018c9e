"""Tokens, hashes, keyed hashes and passwords. One place, so every caller does it the same way."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from functools import lru_cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

_hasher = PasswordHasher()


def new_token(nbytes: int = 32) -> str:
    """A URL-safe random secret (magic links, confirmation links, API keys)."""
    return secrets.token_urlsafe(nbytes)


def token_hash(token: str) -> str:
    """What we store of a high-entropy token: SHA-256 suffices when guessing is hopeless."""
    return hashlib.sha256(token.encode()).hexdigest()


def keyed_hash(secret_key: str, value: str, *, purpose: str) -> str:
    """HMAC-SHA256 of low-entropy personal data (an e-mail, an IP) under the server key."""
    # One-shot HMAC under the purpose's key derived once: bulk imports hash every row's
    # address, IP and form URL, and two HMAC objects per call cost most of that.
    return hmac.digest(_purpose_key(secret_key, purpose), value.encode(), "sha256").hex()


@lru_cache(maxsize=64)
def _purpose_key(secret_key: str, purpose: str) -> bytes:
    return hmac.digest(secret_key.encode(), purpose.encode(), "sha256")


def constant_time_equal(a: str, b: str) -> bool:
    return hmac.compare_digest(a.encode(), b.encode())


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    if not password_hash:
        # Spend the same time as a real check so a missing password is not observable.
        _hasher.hash(password)
        return False
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def normalise_email(address: str) -> str:
    """Lower-cased, trimmed: how addresses are compared and hashed everywhere."""
    return address.strip().lower()
