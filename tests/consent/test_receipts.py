"""Consent receipts: built from one ledger event, signed, checkable offline and by the CLI."""

from __future__ import annotations

import copy
import hashlib
import json
import re
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import rfc8785
import typer
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from fastapi import FastAPI
from fastapi.testclient import TestClient
from hypothesis import given
from hypothesis import strategies as st
from typer.testing import CliRunner

from accord.cli import build
from accord.consent.keys_api import router
from accord.consent.receipts import (
    EVENT_STATES,
    ControllerInfo,
    build_receipt,
    ledger_link_ok,
    receipt_id,
    signed_receipt,
)
from accord.core.errors import InvalidInput
from accord.core.settings import Settings
from accord.core.signing import load_signing_key, public_key_jwk, sign_document, verify_document

BRAND = uuid.UUID("6f1c3c9e-8a55-4d7e-9a43-1f2a3b4c5d6e")
SUBJECT = "0b8e4a52-3c1d-4f6e-8a9b-7c6d5e4f3a21"
TOPIC = "c3d2e1f0-a9b8-4c7d-8e6f-5a4b3c2d1e0f"
CONTROLLER = ControllerInfo(
    name="Northwind Books",
    contact_email="privacy@northwind.example",
    postal_address="1 Harbour Street, Bristol BS1 4AA, UK",
    brand_id=BRAND,
)
INSTANCE = "https://accord.example"
POLICY = "https://northwind.example/privacy/v3"
KEY = Ed25519PrivateKey.generate()
JWKS = [public_key_jwk(KEY)]
KNOWN_ACTIONS = [
    "grant", "withdraw", "request", "confirm", "follow", "invite", "accept", "pause", "resume",
    "end", "set_cap", "set_quiet_hours", "set_global_cap", "pause_all", "resume_all", "share",
    "suppress", "erase", "terms_agreed",
]  # fmt: skip


def event_of(
    action: str = "grant",
    *,
    purpose: str | None = "marketing",
    channel: str | None = "email",
    topic: str | None = TOPIC,
    source: str = "portal",
    seq: int = 3,
    value: dict[str, Any] | None = None,
    brand: uuid.UUID | None = BRAND,
) -> tuple[dict[str, Any], str]:
    """A ledger event body as the ledger writes it, with its hash."""
    body: dict[str, Any] = {
        "v": 1,
        "subject": SUBJECT,
        "seq": seq,
        "prev": hashlib.sha256(b"previous").hexdigest(),
        "at": "2026-11-25T14:00:00.123456Z",
        "brand": str(brand) if brand else None,
        "action": action,
        "scope": {"purpose": purpose, "channel": channel, "topic": topic},
        "source": source,
        "policy": "notice-2026-03",
        "evidence": {"ip": hashlib.sha256(b"ip").hexdigest()},
        "value": value or {},
    }
    return body, hashlib.sha256(rfc8785.dumps(body)).hexdigest()


def receipt_for(action: str = "grant", **kwargs: Any) -> dict[str, Any]:
    event, event_hash = event_of(action, **kwargs)
    return build_receipt(
        event, event_hash, controller=CONTROLLER, instance_url=INSTANCE, policy_url=POLICY
    )


def signed_for(action: str = "grant", **kwargs: Any) -> dict[str, Any]:
    event, event_hash = event_of(action, **kwargs)
    return signed_receipt(
        event, event_hash, controller=CONTROLLER, instance_url=INSTANCE, policy_url=POLICY, key=KEY
    )


def leaves(node: Any, path: tuple[Any, ...] = ()) -> Iterator[tuple[tuple[Any, ...], Any]]:
    if isinstance(node, dict):
        for name, value in node.items():
            yield from leaves(value, (*path, name))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from leaves(value, (*path, index))
    else:
        yield path, node


def put(doc: Any, path: tuple[Any, ...], value: Any) -> None:
    for step in path[:-1]:
        doc = doc[step]
    doc[path[-1]] = value


# --- building -------------------------------------------------------------------------------


def test_receipt_carries_kantara_and_27560_fields() -> None:
    receipt = receipt_for()
    event, event_hash = event_of()
    assert receipt["version"] == "KI-CR-v1.1.0"
    assert receipt["consentTimestamp"] == 1795615200  # 2026-11-25T14:00:00Z, whole seconds
    assert receipt["consentReceiptID"] == str(uuid.UUID(receipt["consentReceiptID"]))
    assert receipt["piiPrincipalId"] == SUBJECT
    assert receipt["publicKey"] == f"{INSTANCE}/.well-known/accord-keys.json"
    assert receipt["policyUrl"] == POLICY and receipt["language"] == "en"
    assert receipt["collectionMethod"].startswith("The person's own choice")
    controller = receipt["piiControllers"][0]
    assert controller["piiController"] == "Northwind Books"
    assert controller["email"] == "privacy@northwind.example"
    assert controller["address"] == CONTROLLER.postal_address
    [purpose] = receipt["services"][0]["purposes"]
    assert purpose["purposeCategory"] == ["6 - Marketing"]
    assert purpose["consentType"] == "EXPLICIT" and purpose["thirdPartyDisclosure"] is False
    assert receipt["sensitive"] is False and receipt["spiCat"] == []
    assert receipt["header"]["record_id"] == receipt["consentReceiptID"]
    assert receipt["processing"]["scope"] == {"purpose": "marketing", "channel": "email",
                                              "topic": TOPIC}  # fmt: skip
    assert receipt["processing"]["privacy_notice"] == {"version": "notice-2026-03", "url": POLICY}
    assert [p["role"] for p in receipt["parties"]] == ["pii_principal", "pii_controller"]
    [happened] = receipt["events"]
    assert happened["event_state"] == "given" and happened["event_by"] == "pii_principal"
    assert happened["event_time"] == event["at"] and happened["evidence"] == ["ip"]
    assert receipt["ledger"] == {
        "instance": INSTANCE,
        "subject": SUBJECT,
        "seq": 3,
        "prev": event["prev"],
        "hash": event_hash,
        "hash_alg": receipt["ledger"]["hash_alg"],
        "event": event,
    }
    assert json.loads(json.dumps(receipt)) == receipt
    assert ledger_link_ok(receipt)


def test_withdrawal_method_points_to_the_relationships_page() -> None:
    marketing = receipt_for()["processing"]["withdrawal_method"]
    assert marketing["url"] == f"{INSTANCE}/relationships"
    assert f"{INSTANCE}/relationships" in marketing["description"]
    assert "one-click unsubscribe link in every message" in marketing["description"]
    profiling = receipt_for(purpose="profiling", channel=None, topic=None)
    assert "one-click" not in profiling["processing"]["withdrawal_method"]["description"]
    sms = receipt_for(channel="sms")["processing"]["withdrawal_method"]["description"]
    assert "STOP" in sms


def test_trailing_slash_on_the_instance_url_is_ignored() -> None:
    event, event_hash = event_of()
    slashed = build_receipt(
        event, event_hash, controller=CONTROLLER, instance_url=INSTANCE + "/", policy_url=POLICY
    )
    assert slashed == receipt_for()


@pytest.mark.parametrize("action", KNOWN_ACTIONS)
def test_every_action_maps_to_a_27560_state(action: str) -> None:
    state = receipt_for(action)["events"][0]["event_state"]
    expected = {
        "grant": "given", "confirm": "given", "accept": "given", "follow": "given",
        "resume": "given", "resume_all": "given", "request": "requested", "invite": "requested",
        "withdraw": "withdrawn", "end": "withdrawn", "pause": "paused", "pause_all": "paused",
        "erase": "erased",
    }.get(action, "recorded")  # fmt: skip
    assert state == expected == EVENT_STATES.get(action, "recorded")


def test_unknown_action_and_source_are_recorded_gracefully() -> None:
    receipt = receipt_for("frobnicate", purpose=None, channel=None, topic=None, source="carrier")
    assert receipt["events"][0]["event_state"] == "recorded"
    assert receipt["events"][0]["event_by"] == "unknown"
    assert "carrier" in receipt["collectionMethod"]
    names = [p["purpose"] for p in receipt["processing"]["purposes"]]
    assert names == ["transactional", "marketing", "profiling", "sharing"]


def test_relationship_wide_actions_name_their_purposes() -> None:
    follow = receipt_for("follow", purpose=None, channel=None, topic=None)
    assert [p["purpose"] for p in follow["processing"]["purposes"]] == ["transactional"]
    assert follow["services"][0]["purposes"][0]["primaryPurpose"] is True
    end = receipt_for("end", purpose=None, channel=None, topic=None, value={"erase": False})
    assert len(end["services"][0]["purposes"]) == 4
    assert end["events"][0]["details"] == {"erase": False}
    sharing = receipt_for(purpose="sharing", channel=None, topic=None)
    assert sharing["services"][0]["purposes"][0]["thirdPartyDisclosure"] is True


def test_global_actions_name_the_operator_as_controller() -> None:
    operator = ControllerInfo("Accord operator", "dpo@accord.example", None, None)
    event, event_hash = event_of("pause_all", purpose=None, channel=None, topic=None, brand=None)
    receipt = build_receipt(
        event, event_hash, controller=operator, instance_url=INSTANCE, policy_url=None
    )
    assert receipt["processing"]["controllers"] == [INSTANCE]
    assert receipt["events"][0]["event_state"] == "paused"
    assert receipt["policyUrl"] is None


def test_receipts_are_deterministic_for_one_event() -> None:
    assert receipt_for() == receipt_for()
    assert rfc8785.dumps(signed_for()) == rfc8785.dumps(signed_for())
    assert receipt_for()["consentReceiptID"] == receipt_id(event_of()[1])
    assert receipt_for(seq=4)["consentReceiptID"] != receipt_for()["consentReceiptID"]


def test_building_does_not_alias_the_event() -> None:
    event, event_hash = event_of(value={"channels": ["email"]})
    receipt = build_receipt(
        event, event_hash, controller=CONTROLLER, instance_url=INSTANCE, policy_url=POLICY
    )
    receipt["ledger"]["event"]["value"]["channels"].append("sms")
    receipt["events"][0]["details"]["x"] = 1
    assert event["value"] == {"channels": ["email"]}


def test_no_personal_data_in_clear() -> None:
    """Only the controller's published address may hold an '@'; the person is an opaque id."""
    for action in KNOWN_ACTIONS:
        receipt = signed_for(action, source="email_link")
        for path, value in leaves(receipt):
            if isinstance(value, str) and "@" in value:
                assert path == ("piiControllers", 0, "email"), path
        people = [p for p in receipt["parties"] if p["role"] == "pii_principal"]
        assert people == [{"party_id": SUBJECT, "role": "pii_principal"}]


def test_every_string_comes_from_the_event_the_controller_or_accord() -> None:
    """No input other than the event, the controller and the instance reaches the receipt."""
    receipt = receipt_for()
    event, event_hash = event_of()
    allowed = {s for _, s in leaves(event) if isinstance(s, str)} | {event_hash}
    allowed |= {CONTROLLER.name, CONTROLLER.contact_email, str(CONTROLLER.postal_address), POLICY}
    hexes = re.compile(r"[0-9a-f]{64}|[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
    for path, value in leaves(receipt):
        if isinstance(value, str) and hexes.fullmatch(value):
            assert value in allowed or value == receipt["consentReceiptID"], path


@pytest.mark.parametrize(
    ("change", "field"),
    [
        (lambda e: e.pop("subject"), "subject"),
        (lambda e: e.update(seq="3"), "seq"),
        (lambda e: e.update(scope=None), "scope"),
        (lambda e: e.update(at="yesterday"), "at"),
        (lambda e: e.update(at="2026-11-25T14:00:00"), "at"),
    ],
)
def test_malformed_events_are_refused(change: Any, field: str) -> None:
    event, _ = event_of()
    change(event)
    event_hash = hashlib.sha256(rfc8785.dumps(event)).hexdigest()
    with pytest.raises(InvalidInput) as caught:
        build_receipt(
            event, event_hash, controller=CONTROLLER, instance_url=INSTANCE, policy_url=POLICY
        )
    assert caught.value.field == field


def test_hash_and_controller_must_fit_the_event() -> None:
    event, event_hash = event_of()
    with pytest.raises(InvalidInput, match="hash"):
        build_receipt(event, "0" * 64, controller=CONTROLLER, instance_url=INSTANCE,
                      policy_url=POLICY)  # fmt: skip
    stranger = ControllerInfo("Other", "x@other.example", None, uuid.uuid4())
    with pytest.raises(InvalidInput, match="controller"):
        build_receipt(event, event_hash, controller=stranger, instance_url=INSTANCE,
                      policy_url=POLICY)  # fmt: skip


# --- signing --------------------------------------------------------------------------------


def test_signed_receipt_verifies() -> None:
    receipt = signed_for()
    assert receipt["signature"]["kid"] == JWKS[0]["kid"]
    assert verify_document(receipt, JWKS)
    assert {k: v for k, v in receipt.items() if k != "signature"} == receipt_for()


SIGNED = signed_for(value={"channels": ["email", "sms"], "topics": [TOPIC]})
STRING_PATHS = [p for p, v in leaves(SIGNED) if isinstance(v, str) and p[0] != "signature"]
NUMBER_PATHS = [p for p, v in leaves(SIGNED) if type(v) is int and p[0] != "signature"]


@given(st.sampled_from(STRING_PATHS), st.integers(min_value=0), st.characters())
def test_changing_one_character_anywhere_breaks_the_signature(
    path: tuple[Any, ...], position: int, char: str
) -> None:
    receipt = copy.deepcopy(SIGNED)
    original: str = dict(leaves(receipt))[path]
    if not original:
        changed = char
    else:
        index = position % len(original)
        if original[index] == char:
            char = "x" if char != "x" else "y"
        changed = original[:index] + char + original[index + 1 :]
    put(receipt, path, changed)
    assert not verify_document(receipt, JWKS)


@given(st.sampled_from(NUMBER_PATHS), st.integers(min_value=1, max_value=2**40))
def test_changing_a_number_breaks_the_signature(path: tuple[Any, ...], delta: int) -> None:
    receipt = copy.deepcopy(SIGNED)
    put(receipt, path, dict(leaves(receipt))[path] + delta)
    assert not verify_document(receipt, JWKS)


def test_wrong_kid_fails() -> None:
    receipt = copy.deepcopy(SIGNED)
    receipt["signature"]["kid"] = public_key_jwk(Ed25519PrivateKey.generate())["kid"]
    assert not verify_document(receipt, JWKS)


# --- the CLI --------------------------------------------------------------------------------

runner = CliRunner()


def cli() -> typer.Typer:
    return build()


def run(tmp_path: Path, *args: str) -> tuple[int, str]:
    result = runner.invoke(cli(), ["receipt", "verify", *args],
                           env={"ACCORD_VAR_DIR": str(tmp_path)})  # fmt: skip
    assert result.exception is None or isinstance(result.exception, SystemExit)
    assert "Traceback" not in result.output
    return result.exit_code, " ".join(result.output.split())


def local_receipt(tmp_path: Path, action: str = "confirm") -> dict[str, Any]:
    key = load_signing_key(Settings(var_dir=tmp_path))
    event, event_hash = event_of(action, value={"channels": ["email"], "topics": [TOPIC]})
    return signed_receipt(
        event, event_hash, controller=CONTROLLER, instance_url=INSTANCE, policy_url=POLICY, key=key
    )


def write(path: Path, doc: Any) -> Path:
    path.write_text(json.dumps(doc, indent=2))
    return path


def test_cli_accepts_a_good_receipt_with_the_local_key(tmp_path: Path) -> None:
    receipt = local_receipt(tmp_path)
    code, output = run(tmp_path, str(write(tmp_path / "r.json", receipt)))
    assert code == 0, output
    assert f"Valid receipt {receipt['consentReceiptID']}" in output
    assert SUBJECT in output and "confirm → given" in output
    assert "2026-11-25T14:00:00.123456Z" in output


def test_cli_rejects_a_tampered_receipt(tmp_path: Path) -> None:
    receipt = local_receipt(tmp_path)
    receipt["events"][0]["event_state"] = "withdrawn"
    code, output = run(tmp_path, str(write(tmp_path / "r.json", receipt)))
    assert code == 1
    assert "does not match its signature: it was changed after signing" in output


def test_cli_uses_a_keys_document(tmp_path: Path) -> None:
    receipt = local_receipt(tmp_path / "issuer")
    keys = write(tmp_path / "keys.json", {"keys": [public_key_jwk(KEY), *[
        public_key_jwk(load_signing_key(Settings(var_dir=tmp_path / "issuer")))]]})  # fmt: skip
    code, output = run(tmp_path / "elsewhere", str(write(tmp_path / "r.json", receipt)),
                       "--keys", str(keys))  # fmt: skip
    assert code == 0, output


@pytest.mark.parametrize(
    ("setup", "message"),
    [
        ("missing", "No such file"),
        ("not_json", "is not valid JSON"),
        ("array", "is not a receipt: expected a JSON object"),
        ("unsigned", 'is not signed: it has no "signature" member'),
        ("unknown_key", "which is not among the trusted keys"),
        ("bad_keys", 'is not a keys document: expected {"keys": [...]}'),
        ("no_local_key", "No signing key at"),
        ("broken_link", "its ledger event does not hash to its ledger hash"),
        ("unreachable_url", "Cannot fetch http://127.0.0.1:9/"),
    ],
)
def test_cli_errors_are_one_clear_line(tmp_path: Path, setup: str, message: str) -> None:
    var = tmp_path / "var"
    receipt = local_receipt(var)
    target = tmp_path / "r.json"
    extra: list[str] = []
    if setup == "missing":
        pass
    elif setup == "not_json":
        target.write_text('{"version": ')
    elif setup == "array":
        write(target, [receipt])
    elif setup == "unsigned":
        write(target, {k: v for k, v in receipt.items() if k != "signature"})
    elif setup == "unknown_key":
        write(target, receipt)
        extra = ["--keys", str(write(tmp_path / "k.json", {"keys": JWKS}))]
    elif setup == "bad_keys":
        write(target, receipt)
        extra = ["--keys", str(write(tmp_path / "k.json", JWKS))]
    elif setup == "no_local_key":
        write(target, receipt)
        var = tmp_path / "empty"
    elif setup == "unreachable_url":
        write(target, receipt)
        extra = ["--keys", "http://127.0.0.1:9/.well-known/accord-keys.json"]
    elif setup == "broken_link":
        receipt["ledger"]["event"]["seq"] = 99
        write(target, sign_document(receipt, load_signing_key(Settings(var_dir=var))))
    code, output = run(var, str(target), *extra)
    assert code == 1
    assert output.startswith("Error:") and message in output
    assert not (tmp_path / "empty" / "signing_key.pem").exists()  # verifying never makes a key


# --- the well-known keys document -----------------------------------------------------------


def test_well_known_keys_verify_a_receipt(tmp_path: Path) -> None:
    app = FastAPI()
    app.include_router(router)
    app.state.settings = Settings(var_dir=tmp_path)
    with TestClient(app) as client:
        response = client.get("/.well-known/accord-keys.json")
        again = client.get("/.well-known/accord-keys.json").json()
    assert response.status_code == 200
    assert response.headers["cache-control"] == "public, max-age=3600"
    document = response.json()
    assert again == document and len(document["keys"]) == 1
    assert document["keys"][0]["kty"] == "OKP" and "d" not in document["keys"][0]
    assert isinstance(app.state.signing_key, Ed25519PrivateKey)
    receipt = local_receipt(tmp_path)
    assert verify_document(receipt, document["keys"])
    assert not verify_document(SIGNED, document["keys"])
