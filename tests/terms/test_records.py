"""Agreement records: both signatures verify; any change, a dropped or swapped signature, or a
key that is not the published one is caught, in code and by `accord terms verify`."""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from accord.cli import build
from accord.core.settings import Settings
from accord.core.signing import public_key_jwk
from accord.terms import records
from accord.terms import service as terms
from accord.terms.service import Answer, Signer
from tests.builders import make_brand, make_person, make_relationship

runner = CliRunner()


@pytest.fixture
def record(session: Session, settings: Settings) -> dict[str, Any]:
    brand, person = make_brand(session), make_person(session)
    make_relationship(session, person=person, brand=brand)
    made = terms.proffer(session, person.id, "service-only-portable", None, brand.id)
    [row] = terms.my_terms(session, person.id).proffers[0].agreements
    found = terms.brand_agreement(session, brand.id, row.id)
    signer = Signer.from_settings(settings)
    terms.answer(session, brand.id, found.id, Answer.accept, signer=signer)
    assert made.id == found.proffer_id
    return terms.record_of(session, found, signer)


def leaves(value: Any, path: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    """The path of every scalar in the signed part of the record."""
    if isinstance(value, dict):
        for key, item in value.items():
            if path == () and key == records.SIGNATURES:
                continue
            yield from leaves(item, (*path, key))
    elif isinstance(value, list):
        for i, item in enumerate(value):
            yield from leaves(item, (*path, i))
    else:
        yield path


def changed(document: dict[str, Any], path: tuple[Any, ...]) -> dict[str, Any]:
    copied = copy.deepcopy(document)
    target: Any = copied
    for step in path[:-1]:
        target = target[step]
    old = target[path[-1]]
    if isinstance(old, bool):
        target[path[-1]] = not old
    elif isinstance(old, int):
        target[path[-1]] = old + 1
    elif old is None:
        target[path[-1]] = "x"
    else:
        target[path[-1]] = str(old) + "x"
    return copied


def test_a_record_verifies_with_its_own_and_the_published_keys(
    record: dict[str, Any], client: TestClient
) -> None:
    assert records.verify(record).ok
    slug = record["second_party"]["slug"]
    published = client.get(f"/.well-known/accord-terms/{slug}.json").json()["keys"]
    instance = client.get("/.well-known/accord-keys.json").json()["keys"]
    assert records.verify(record, [*published, *instance]).ok
    assert not records.verify(record, published).ok  # the instance's key is missing
    roster = client.get("/api/v1/terms/roster").json()
    [entry] = [e for e in roster if e["id"] == record["terms"]["id"]]
    assert record["terms"]["text_sha256"] == records.text_digest(entry["text"])


def test_changing_any_value_breaks_a_signature(record: dict[str, Any]) -> None:
    paths = list(leaves(record))
    assert len(paths) > 30
    for path in paths:
        verdict = records.verify(changed(record, path))
        assert not verdict.ok, path


@pytest.mark.parametrize(
    "tamper",
    [
        lambda r: r["signatures"].pop(),  # the brand's signature dropped
        lambda r: r["signatures"].reverse(),  # order does not matter: still valid (see below)
        lambda r: r["signatures"][0].update(value=r["signatures"][1]["value"]),
        lambda r: r["signatures"][1].update(kid=r["signatures"][0]["kid"]),
        lambda r: r["signatures"][0].update(alg="HS256"),
        lambda r: r.pop("signatures"),
        lambda r: r.update(type="something-else"),
        lambda r: r.update(extra="added after signing"),
    ],
)
def test_signature_tampering_is_caught(record: dict[str, Any], tamper: Any) -> None:
    copied = copy.deepcopy(record)
    tamper(copied)
    verdict = records.verify(copied)
    reordered = copied.get("signatures") == list(reversed(record["signatures"]))
    assert verdict.ok is reordered


def test_a_record_resigned_with_other_keys_fails_against_the_published_ones(
    record: dict[str, Any],
) -> None:
    forger_instance, forger_brand = Ed25519PrivateKey.generate(), Ed25519PrivateKey.generate()
    forged = {
        **record,
        "terms": {**record["terms"], "id": "no-sharing"},
        "keys": [public_key_jwk(forger_instance), public_key_jwk(forger_brand)],
    }
    forged = records.sign(forged, instance=forger_instance, brand=forger_brand)
    assert records.verify(forged).ok  # consistent with the keys it carries...
    assert not records.verify(forged, record["keys"]).ok  # ...but not signed by the parties


def run(tmp_path: Path, *args: str) -> tuple[int, str]:
    result = runner.invoke(
        build(), ["terms", "verify", *args], env={"ACCORD_VAR_DIR": str(tmp_path)}
    )
    assert result.exception is None or isinstance(result.exception, SystemExit)
    assert "Traceback" not in result.output
    return result.exit_code, " ".join(result.output.split())


def test_the_cli_verifies_offline_and_catches_tampering(
    record: dict[str, Any], tmp_path: Path
) -> None:
    good = tmp_path / "agreement.json"
    good.write_text(json.dumps(record))
    keys = tmp_path / "keys.json"
    keys.write_text(json.dumps({"keys": record["keys"]}))
    code, output = run(tmp_path, str(good))
    assert code == 0 and "Valid agreement" in output and "service-only-portable" in output
    code, output = run(tmp_path, str(good), "--keys", str(keys))
    assert code == 0 and "trusted keys given" in output
    bad = tmp_path / "tampered.json"
    bad.write_text(json.dumps(changed(record, ("accepted_at",))))
    code, output = run(tmp_path, str(bad))
    assert code == 1 and "does not match" in output
    other = tmp_path / "other-keys.json"
    other.write_text(json.dumps({"keys": [public_key_jwk(Ed25519PrivateKey.generate())]}))
    code, output = run(tmp_path, str(good), "--keys", str(other))
    assert code == 1 and "not among the trusted keys" in output
    for content, message in [
        ("not json", "not valid JSON"),
        ("[1, 2]", "not an agreement record"),
    ]:
        bad.write_text(content)
        code, output = run(tmp_path, str(bad))
        assert code == 1 and message in output, output
    code, output = run(tmp_path, str(tmp_path / "missing.json"))
    assert code == 1 and "No such file" in output
    code, output = run(tmp_path, str(good), "--keys", str(bad))
    assert code == 1 and "not a keys document" in output
