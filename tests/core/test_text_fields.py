"""Every text input is checked as text (no NUL, no control characters; one line where it must
be), with a 422 naming the field, and the same answer on SQLite and PostgreSQL."""

from __future__ import annotations

import math
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from accord.analytics import validation as analytics_rules
from accord.brands.models import Brand
from accord.core import text
from accord.core.validation import JSON_MARK
from accord.core.web.params import BIGINT
from accord.people.models import Person
from accord.relationships.models import Topic
from tests.builders import make_api_key, make_brand

# Strings these formats are parsed into something else (or uploaded files): not stored as text.
PARSED_FORMATS = {"uuid", "date-time", "date", "time", "duration", "binary", "uri"}


Leaf = tuple[str, dict[str, Any]]


def _walk(components: dict[str, Any], schema: dict[str, Any], where: str) -> Iterator[Leaf]:
    """Every schema inside `schema` (itself included), by place; each reference once."""
    stack: list[tuple[dict[str, Any], str, frozenset[str]]] = [(schema, where, frozenset())]
    while stack:
        schema, where, seen = stack.pop()
        if "$ref" in schema:
            name = schema["$ref"].rsplit("/", 1)[-1]
            if name in seen:
                continue
            seen, schema = seen | {name}, components[name]
        yield where, schema
        subs = [(sub, where) for key in ("anyOf", "oneOf", "allOf") for sub in schema.get(key, [])]
        subs += [(sub, f"{where}.{name}") for name, sub in schema.get("properties", {}).items()]
        if isinstance(schema.get("additionalProperties"), dict):
            subs.append((schema["additionalProperties"], f"{where}.*"))
            subs.append((schema.get("propertyNames", {"type": "string"}), f"{where}.<key>"))
        if schema.get("type") == "array" and "items" in schema:
            subs.append((schema["items"], f"{where}[]"))
        stack += [(sub, place, seen) for sub, place in reversed(subs)]


def _inputs(spec: dict[str, Any]) -> Iterator[Leaf]:
    """Every schema of a request (parameter, body, nested field, dict key), by place."""
    components = spec.get("components", {}).get("schemas", {})
    for path, operations in spec["paths"].items():
        for method, operation in operations.items():
            here = f"{method.upper()} {path}"
            for parameter in operation.get("parameters", []):
                name = f"{here} {parameter['in']} {parameter['name']}"
                yield from _walk(components, parameter["schema"], name)
            for body in operation.get("requestBody", {}).get("content", {}).values():
                yield from _walk(components, body["schema"], f"{here} body")


def _anchored(pattern: object) -> bool:
    """A whole-value pattern (a decimal, a slug) decides the text itself."""
    return isinstance(pattern, str) and pattern.startswith("^") and pattern.endswith("$")


def _unchecked_text(schema: dict[str, Any]) -> bool:
    return schema.get("type") == "string" and not (
        JSON_MARK in schema
        or _anchored(schema.get("pattern"))
        or "enum" in schema
        or "const" in schema
        or "contentMediaType" in schema
        or schema.get("format") in PARSED_FORMATS
    )


def _unbounded_integer(schema: dict[str, Any]) -> bool:
    return schema.get("type") == "integer" and not (
        schema.get("minimum", -math.inf) >= -BIGINT - 1
        and schema.get("maximum", math.inf) <= BIGINT
    )


def _unchecked(spec: dict[str, Any], *, integers: bool = False) -> list[str]:
    """Every string in a request that is not checked as text; with `integers`, every integer
    instead that is not bounded to what the databases store."""
    wrong = _unbounded_integer if integers else _unchecked_text
    return [where for where, schema in _inputs(spec) if wrong(schema)]


def test_every_text_input_of_the_api_is_checked_as_text(app: FastAPI) -> None:
    """New routes are covered as they are added: use accord.core.validation's Line, Text,
    TrimmedText (or LINE/TEXT) for every string that is stored or echoed."""
    assert _unchecked(app.openapi()) == []


def test_every_integer_input_fits_the_databases(app: FastAPI) -> None:
    """An id of 2**63 is a 422 naming it, not an overflow in the database driver (a 500):
    use accord.core.web.params.RowId for integer ids in the path, bounds on every integer."""
    assert _unchecked(app.openapi(), integers=True) == []


def test_the_check_itself_finds_plain_strings() -> None:
    spec = {
        "paths": {
            "/x": {
                "post": {
                    "parameters": [{"in": "query", "name": "q", "schema": {"type": "string"}}],
                    "requestBody": {
                        "content": {
                            "application/json": {
                                "schema": {
                                    "type": "object",
                                    "properties": {
                                        "ok": {"type": "string", JSON_MARK: "line"},
                                        "tags": {
                                            "type": "object",
                                            "additionalProperties": {
                                                "type": "string",
                                                JSON_MARK: "text",
                                            },
                                        },
                                    },
                                }
                            }
                        }
                    },
                }
            }
        }
    }
    assert _unchecked(spec) == ["POST /x query q", "POST /x body.tags.<key>"]


@pytest.mark.parametrize(
    ("value", "one_line", "fine"),
    [
        ("plain words, ünïcödé and emoji 🎉", True, True),
        ("two\nlines\tand a tab\r\n", False, True),
        ("two\nlines", True, False),
        ("tab\there", True, False),
        ("nul\x00", False, False),
        ("bell\x07", False, False),
        ("del\x7f", False, False),
        ("c1\x85", False, False),
        ("separator\u2028", True, False),
        ("surrogate\ud800", False, False),
    ],
)
def test_what_counts_as_text(value: str, one_line: bool, fine: bool) -> None:
    assert (text.problem(value, one_line=one_line) is None) is fine
    assert text.has_problem(value, one_line=one_line) is not fine


def bearer(secret: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {secret}"}


def test_nul_in_a_sign_up_is_a_422_naming_the_field_and_writes_nothing(
    client: TestClient, session: Session
) -> None:
    body = {"email": "nul@example.com", "display_name": "Ann\x00"}
    response = client.post("/api/v1/people", json=body)
    assert response.status_code == 422, response.text
    payload = response.json()
    assert payload["error"] == "InvalidInput"
    assert payload["field"] == "display_name"
    assert "U+0000" in payload["detail"]
    assert session.scalar(select(func.count()).where(Person.email == "nul@example.com")) == 0


def test_a_line_break_in_a_header_bound_field_is_refused(
    client: TestClient, session: Session
) -> None:
    brand = make_brand(session)
    _, secret = make_api_key(session, brand=brand)
    response = client.patch(
        "/api/v1/brand", json={"sender_name": "Shop\r\nBcc: x@y.z"}, headers=bearer(secret)
    )
    assert response.status_code == 422
    assert response.json()["field"] == "sender_name"
    assert "single line" in response.json()["detail"]
    session.expire_all()
    assert session.get(Brand, brand.id).sender_name != "Shop\r\nBcc: x@y.z"  # type: ignore[union-attr]


def test_multi_line_text_keeps_its_line_breaks_but_not_control_characters(
    client: TestClient, session: Session
) -> None:
    brand = make_brand(session)
    _, secret = make_api_key(session, brand=brand)
    topic = {"slug": "news", "name": "News", "purpose": "marketing"}
    fine = client.post(
        "/api/v1/topics",
        json={**topic, "description": "First line.\nSecond line."},
        headers=bearer(secret),
    )
    assert fine.status_code == 201, fine.text
    assert fine.json()["description"] == "First line.\nSecond line."
    bad = client.post(
        "/api/v1/topics",
        json={**topic, "slug": "other", "description": "Sneaky\x00byte"},
        headers=bearer(secret),
    )
    assert bad.status_code == 422
    assert bad.json()["field"] == "description"
    count = select(func.count()).where(Topic.brand_id == brand.id)
    assert session.scalar(count) == 1


def test_nested_fields_dict_keys_and_values_are_named(client: TestClient, session: Session) -> None:
    brand = make_brand(session)
    _, secret = make_api_key(session, brand=brand)
    evidence = {
        "collected_at": "2025-01-01T00:00:00Z",
        "method": "web\x1bform",
        "notice_version": "v1",
        "form_url": "https://shop.example/signup",
        "ip": "192.0.2.1",
    }
    body = {"email": "a@example.com", "purpose": "marketing", "evidence": evidence}
    response = client.post("/api/v1/consent/records", json=body, headers=bearer(secret))
    assert response.status_code == 422
    assert response.json()["field"] == "evidence.method"
    campaign = {
        "name": "x",
        "topic_id": "00000000-0000-0000-0000-000000000000",
        "subject": "s",
        "text": "t",
        "audience": {"kind": "filter", "filter": {"cit\x00y": "Berlin"}},
    }
    response = client.post("/api/v1/campaigns", json=campaign, headers=bearer(secret))
    assert response.status_code == 422
    assert response.json()["field"].startswith("audience.filter")


def test_every_field_error_is_listed_the_first_one_on_top(
    client: TestClient, session: Session
) -> None:
    body = {"email": "not-an-address", "display_name": "x" * 200, "time_zone": "Mars/Base"}
    response = client.post("/api/v1/people", json=body)
    assert response.status_code == 422
    payload = response.json()
    fields = [e["field"] for e in payload["errors"]]
    assert fields == ["email", "display_name", "time_zone"]
    assert payload["field"] == "email"
    assert payload["detail"] == f"email: {payload['errors'][0]['detail']}"
    sentences = {e["field"]: e["detail"] for e in payload["errors"]}
    assert sentences["email"] == "Enter an e-mail address like name@example.com."
    assert sentences["display_name"] == "Use 120 characters or fewer."
    assert "Mars/Base" in sentences["time_zone"]
    for sentence in sentences.values():
        # A sentence for people, not pydantic's wording.
        assert "should" not in sentence and "Value error" not in sentence
        assert sentence.lstrip("'")[0].isupper() and sentence.endswith(".")


def test_other_errors_list_themselves(client: TestClient) -> None:
    response = client.get("/api/v1/brand")
    assert response.status_code == 401
    payload = response.json()
    assert payload["errors"] == [{"field": payload["field"], "detail": payload["detail"]}]


def test_control_characters_in_query_and_header_parameters(
    client: TestClient, session: Session
) -> None:
    brand = make_brand(session)
    _, secret = make_api_key(session, brand=brand)
    cursor = client.get("/api/v1/members", params={"cursor": "a\x00b"}, headers=bearer(secret))
    assert cursor.status_code == 422 and cursor.json()["field"] == "cursor"
    headers = {**bearer(secret), "Idempotency-Key": "k\x01"}
    keyed = client.post("/api/v1/api-keys", json={"name": "k"}, headers=headers)
    assert keyed.status_code == 422 and keyed.json()["field"] == "Idempotency-Key"


def test_imported_ids_are_checked_as_text() -> None:
    with pytest.raises(ValueError, match="U\\+0000"):
        analytics_rules.text_id("cust\x00omer", "customer")
    with pytest.raises(ValueError, match="single line"):
        analytics_rules.optional_text("two\nlines", "product", 120)
    assert analytics_rules.text_id(" c-1 ", "customer") == "c-1"
