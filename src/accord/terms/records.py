"""The signed record of an agreement: one JSON document that both parties keep.

It names the agreement (roster id, version, a digest of its text and its machine-readable
form), both parties (the person by their opaque id, the brand by id, slug and name), the times,
the effects, and both public keys; it carries two Ed25519 signatures, the instance's and the
brand's, each over the RFC 8785 canonical JSON of everything but `signatures`. Anyone can
check it offline (`accord terms verify FILE`); `--keys` pins the keys to the published ones
(`/.well-known/accord-keys.json`, `/.well-known/accord-terms/<brand>.json`), since keys inside
the record prove only that it was not changed after signing.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import rfc8785
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from accord.core.signing import ALG, b64url, b64url_decode, jwk_public_key, key_id

KIND = "accord-terms-agreement"
VERSION = 1
SIGNATURES = "signatures"
SIGNERS = ("instance", "brand")


def text_digest(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def payload(document: Mapping[str, Any]) -> bytes:
    return rfc8785.dumps({k: v for k, v in document.items() if k != SIGNATURES})


def sign(
    document: Mapping[str, Any], *, instance: Ed25519PrivateKey, brand: Ed25519PrivateKey
) -> dict[str, Any]:
    """The document with both signatures. Ed25519 is deterministic: signing the same document
    with the same keys again gives the same bytes."""
    body = {k: v for k, v in document.items() if k != SIGNATURES}
    data = rfc8785.dumps(body)
    signatures = [
        {"signer": signer, "alg": ALG, "kid": key_id(key), "value": b64url(key.sign(data))}
        for signer, key in (("instance", instance), ("brand", brand))
    ]
    return {**body, SIGNATURES: signatures}


@dataclass(frozen=True)
class Verdict:
    ok: bool
    message: str
    kids: Mapping[str, str] | None = None


def verify(document: Any, trusted: Sequence[Any] | None = None) -> Verdict:
    """Check both signatures. With `trusted` keys (JWKs), each signature must be by one of
    them; without, by the keys the record carries (which proves integrity, not authorship).
    Input of any shape gives a verdict, never an exception."""
    if not isinstance(document, Mapping) or document.get("type") != KIND:
        return Verdict(False, f"not an agreement record (expected type '{KIND}')")
    signatures = document.get(SIGNATURES)
    if not isinstance(signatures, list):
        return Verdict(False, "the record is not signed (no signatures)")
    keys = trusted if trusted is not None else document.get("keys")
    if not isinstance(keys, list | tuple):
        return Verdict(False, "the record carries no public keys; pass --keys")
    try:
        data = payload(document)
    except Exception:  # rfc8785 refuses NaN, huge integers, non-JSON values: all mean invalid
        return Verdict(False, "the record is not canonical JSON")
    by_signer = {s.get("signer"): s for s in signatures if isinstance(s, Mapping)}
    kids: dict[str, str] = {}
    for signer in SIGNERS:
        signature = by_signer.get(signer)
        if signature is None:
            return Verdict(False, f"the {signer}'s signature is missing")
        kid, value = signature.get("kid"), signature.get("value")
        if signature.get("alg") != ALG or not isinstance(kid, str) or not isinstance(value, str):
            return Verdict(False, f"the {signer}'s signature is malformed")
        raw = b64url_decode(value)
        matching = [k for k in keys if isinstance(k, Mapping) and k.get("kid") == kid]
        public_keys = [p for p in map(jwk_public_key, matching) if p is not None]
        if not public_keys:
            return Verdict(False, f"the {signer}'s key {kid} is not among the trusted keys")
        if raw is None or len(raw) != 64 or not _any_verifies(public_keys, raw, data):
            return Verdict(False, f"the {signer}'s signature does not match: the record changed")
        kids[signer] = kid
    return Verdict(True, "both signatures are valid", kids)


def _any_verifies(keys: list[Ed25519PublicKey], signature: bytes, data: bytes) -> bool:
    for key in keys:
        try:
            key.verify(signature, data)
        except InvalidSignature:
            continue
        return True
    return False
