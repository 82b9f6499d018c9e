"""The instance key and detached Ed25519 signatures over RFC 8785 canonical JSON."""

from __future__ import annotations

import base64
import hashlib
import stat
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
import rfc8785
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from hypothesis import given
from hypothesis import strategies as st

from accord.core.settings import Settings
from accord.core.signing import (
    SigningKeyError,
    b64url,
    b64url_decode,
    load_signing_key,
    public_key_jwk,
    sign_document,
    verify_document,
)

KEY = Ed25519PrivateKey.generate()
OTHER = Ed25519PrivateKey.generate()
JWKS = [public_key_jwk(KEY)]
ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"

json_leaves = st.none() | st.booleans() | st.integers(-(2**53) + 1, 2**53 - 1) | st.text()
json_values = st.recursive(
    json_leaves,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
    max_leaves=12,
)
documents = st.dictionaries(
    st.text().filter(lambda name: name != "signature"), json_values, max_size=6
)


def raw_public(key: Ed25519PrivateKey) -> bytes:
    return key.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def test_key_is_created_once_private_and_reloaded(tmp_path: Path) -> None:
    settings = Settings(var_dir=tmp_path / "var")
    first = load_signing_key(settings)
    path = tmp_path / "var" / "signing_key.pem"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert path.read_bytes().startswith(b"-----BEGIN PRIVATE KEY-----")
    assert raw_public(load_signing_key(settings)) == raw_public(first)
    assert [p.name for p in path.parent.iterdir()] == ["signing_key.pem"]


def test_processes_starting_together_agree_on_one_key(tmp_path: Path) -> None:
    settings = Settings(var_dir=tmp_path)
    with ThreadPoolExecutor(8) as pool:
        keys = list(pool.map(lambda _: raw_public(load_signing_key(settings)), range(32)))
    assert len(set(keys)) == 1
    assert [p.name for p in tmp_path.iterdir()] == ["signing_key.pem"]


def test_a_file_that_is_not_an_ed25519_key_is_refused(tmp_path: Path) -> None:
    (tmp_path / "signing_key.pem").write_text("not a key")
    with pytest.raises(SigningKeyError, match="not an unencrypted PEM private key"):
        load_signing_key(Settings(var_dir=tmp_path))


def test_jwk_names_the_key_by_the_hash_of_its_raw_bytes() -> None:
    raw = raw_public(KEY)
    jwk = public_key_jwk(KEY)
    assert jwk == {
        "kty": "OKP",
        "crv": "Ed25519",
        "x": base64.urlsafe_b64encode(raw).rstrip(b"=").decode(),
        "kid": hashlib.sha256(raw).hexdigest()[:16],
        "use": "sig",
        "alg": "EdDSA",
    }
    assert public_key_jwk(KEY.public_key()) == jwk


def test_signature_is_over_the_canonical_document_without_the_signature() -> None:
    doc: dict[str, Any] = {"b": [1, "two"], "a": {"z": None, "y": True}}
    signed = sign_document(doc, KEY)
    assert doc == {"b": [1, "two"], "a": {"z": None, "y": True}}  # input untouched
    assert signed["signature"]["alg"] == "EdDSA"
    assert signed["signature"]["kid"] == JWKS[0]["kid"]
    value = b64url_decode(signed["signature"]["value"])
    assert value is not None and "=" not in signed["signature"]["value"]
    KEY.public_key().verify(value, rfc8785.dumps(doc))  # raises if not over these bytes
    assert verify_document(signed, JWKS)


def test_resigning_replaces_the_signature() -> None:
    twice = sign_document(sign_document({"a": 1}, OTHER), KEY)
    assert twice == sign_document({"a": 1}, KEY)
    assert verify_document(twice, JWKS)


@given(documents)
def test_sign_then_verify(doc: dict[str, Any]) -> None:
    assert verify_document(sign_document(doc, KEY), JWKS)


@given(documents, st.text(min_size=1).filter(lambda n: n != "signature"), json_values)
def test_any_change_to_the_document_breaks_the_signature(
    doc: dict[str, Any], name: str, value: Any
) -> None:
    signed = sign_document(doc, KEY)
    if name in doc and rfc8785.dumps(doc[name]) == rfc8785.dumps(value):
        return
    signed[name] = value
    assert not verify_document(signed, JWKS)


def test_wrong_or_unknown_kid_fails() -> None:
    signed = sign_document({"a": 1}, KEY)
    wrong = {**signed, "signature": {**signed["signature"], "kid": "0000000000000000"}}
    assert not verify_document(wrong, JWKS)
    assert not verify_document(signed, [public_key_jwk(OTHER)])
    # Another key published under this key's kid is still another key.
    impostor = {**public_key_jwk(OTHER), "kid": JWKS[0]["kid"]}
    assert not verify_document(signed, [impostor])
    assert verify_document(signed, [impostor, *JWKS])


def test_signature_spelling_is_strict() -> None:
    signed = sign_document({"a": 1}, KEY)
    value = signed["signature"]["value"]
    raw = b64url_decode(value)
    assert raw is not None
    # 64 bytes leave 4 unused bits in the last character; a lenient decoder ignores them.
    sibling = value[:-1] + ALPHABET[ALPHABET.index(value[-1]) + 1]
    assert base64.urlsafe_b64decode(sibling + "==") == raw
    variants = [value + "=", value + "A", value[:-1], " " + value, "+" + value[1:], sibling]
    for variant in variants:
        forged = {**signed, "signature": {**signed["signature"], "value": variant}}
        assert not verify_document(forged, JWKS), variant


@pytest.mark.parametrize(
    ("doc", "jwks"),
    [
        (None, JWKS),
        ([], JWKS),
        ("text", JWKS),
        ({"a": 1}, JWKS),
        ({"a": 1, "signature": "x"}, JWKS),
        ({"a": 1, "signature": {"alg": "RS256", "kid": "k", "value": "AA"}}, JWKS),
        ({"a": 1, "signature": {"alg": "EdDSA", "kid": 3, "value": "AA"}}, JWKS),
        ({"a": float("nan"), "signature": {"alg": "EdDSA", "kid": "k", "value": "A" * 86}}, JWKS),
        ({"a": 2**80, "signature": {"alg": "EdDSA", "kid": "k", "value": "A" * 86}}, JWKS),
        ({"a": object(), "signature": {"alg": "EdDSA", "kid": "k", "value": "A" * 86}}, JWKS),
        (sign_document({"a": 1}, KEY), None),
        (sign_document({"a": 1}, KEY), {"keys": JWKS}),
        (sign_document({"a": 1}, KEY), [None, 3, "k", {"kid": JWKS[0]["kid"]}]),
        (sign_document({"a": 1}, KEY), [{**JWKS[0], "x": "not base64!"}]),
        (sign_document({"a": 1}, KEY), [{**JWKS[0], "x": b64url(b"short")}]),
        (sign_document({"a": 1}, KEY), [{**JWKS[0], "crv": "X25519"}]),
        (sign_document({"a": 1}, KEY), [{**JWKS[0], "alg": "ES256"}]),
    ],
)
def test_bad_input_is_false_never_an_exception(doc: Any, jwks: Any) -> None:
    assert verify_document(doc, jwks) is False


@given(st.from_type(object), st.from_type(object))
def test_arbitrary_garbage_never_raises(doc: object, jwks: object) -> None:
    assert verify_document(doc, jwks) is False
