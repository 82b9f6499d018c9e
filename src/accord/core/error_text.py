"""Validation errors as sentences a person can act on, never a library's wording.

Pydantic names each problem by a type (`string_too_long`, `missing`, …) with its numbers in
`ctx`; this maps the type to a sentence. Messages Accord writes itself (its own `ValueError`s
and `accord.core.validation`'s text check) pass through as they are.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

# Where FastAPI says a value came from; not part of the field's name.
_SOURCES = frozenset({"body", "query", "path", "header", "cookie"})


def field_path(loc: Sequence[Any]) -> str | None:
    """`("body", "evidence", "ip")` -> `"evidence.ip"`; a whole body or query is its source."""
    parts = [str(p) for p in loc if p not in _SOURCES and p != "[key]"]
    return ".".join(parts) or (str(loc[0]) if loc else None)


def _count(n: Any, one: str, many: str) -> str:
    return f"{n} {one if n == 1 else many}"


def _length(error: Mapping[str, Any], ctx: Mapping[str, Any]) -> str:
    text = isinstance(error.get("input"), str)
    one, many = ("character", "characters") if text else ("item", "items")
    if "max_length" in ctx:
        return f"Use {_count(ctx['max_length'], one, many)} or fewer."
    minimum = ctx.get("min_length", 1)
    if text and minimum == 1:
        return "Fill this in: it cannot be empty."
    return f"Use at least {_count(minimum, one, many)}."


def _choices(ctx: Mapping[str, Any]) -> str:
    expected = str(ctx.get("expected", "")).replace("'", "")
    return f"Choose one of: {expected}." if expected else "Choose one of the listed values."


_BY_TYPE: dict[str, str] = {
    "missing": "Fill this in: it is required.",
    "extra_forbidden": "Leave this out: it is not a field here.",
    "string_type": "Give text here.",
    "string_unicode": "Remove the invalid characters: this must be text.",
    "string_pattern_mismatch": "This is not in the expected format.",
    "int_type": "Give a whole number.",
    "int_parsing": "Give a whole number.",
    "int_from_float": "Give a whole number.",
    "int_parsing_size": "This number is too large.",
    "float_type": "Give a number.",
    "float_parsing": "Give a number.",
    "decimal_type": "Give a number.",
    "decimal_parsing": "Give a number.",
    "finite_number": "Give a finite number.",
    "bool_type": "Give true or false.",
    "bool_parsing": "Give true or false.",
    "uuid_type": "Give an id like 123e4567-e89b-12d3-a456-426614174000.",
    "uuid_parsing": "Give an id like 123e4567-e89b-12d3-a456-426614174000.",
    "uuid_version": "Give an id like 123e4567-e89b-12d3-a456-426614174000.",
    "datetime_type": "Give a date and time like 2025-01-31T09:00:00Z.",
    "datetime_parsing": "Give a date and time like 2025-01-31T09:00:00Z.",
    "datetime_from_date_parsing": "Give a date and time like 2025-01-31T09:00:00Z.",
    "datetime_object_invalid": "Give a date and time like 2025-01-31T09:00:00Z.",
    "timezone_aware": "Give the time with its zone, like 2025-01-31T09:00:00Z.",
    "date_type": "Give a date like 2025-01-31.",
    "date_parsing": "Give a date like 2025-01-31.",
    "date_from_datetime_parsing": "Give a date like 2025-01-31.",
    "date_from_datetime_inexact": "Give a date like 2025-01-31, without a time.",
    "url_type": "Give a web address like https://example.com/page.",
    "url_parsing": "Give a web address like https://example.com/page.",
    "url_syntax_violation": "Give a web address like https://example.com/page.",
    "url_scheme": "Give a web address that starts with http:// or https://.",
    "url_too_long": "This web address is too long.",
    "list_type": "Give a list here.",
    "dict_type": "Give an object (a JSON {...}) here.",
    "model_type": "Give an object (a JSON {...}) here.",
    "model_attributes_type": "Give an object (a JSON {...}) here.",
    "json_invalid": "The request body is not valid JSON.",
    "json_type": "Give valid JSON here.",
    "union_tag_invalid": "Choose one of the listed kinds.",
    "is_instance_of": "This value is not valid here.",
}


def sentence(error: Mapping[str, Any]) -> str:
    """One pydantic error (an item of `ValidationError.errors()`) as a sentence."""
    kind = str(error.get("type", ""))
    ctx: Mapping[str, Any] = error.get("ctx") or {}
    message = str(error.get("msg", ""))
    if kind in {"value_error", "assertion_error"}:
        own = message.removeprefix("Value error, ").removeprefix("Assertion failed, ")
        if own.startswith("value is not a valid email address"):
            return "Give an e-mail address like name@example.com."
        return _capitalised(own)
    if kind in {"string_too_long", "string_too_short", "too_long", "too_short"}:
        return _length(error, ctx)
    if kind in {"enum", "literal_error"}:
        return _choices(ctx)
    bounds = {
        "greater_than": ("greater than", "gt"),
        "greater_than_equal": ("at least", "ge"),
        "less_than": ("less than", "lt"),
        "less_than_equal": ("at most", "le"),
    }
    if kind in bounds:
        words, key = bounds[kind]
        return f"Give a number {words} {ctx.get(key)}."
    if kind in {"decimal_max_digits", "decimal_whole_digits"}:
        return "This number has too many digits."
    if kind == "decimal_max_places":
        return f"Use at most {_count(ctx.get('decimal_places'), 'decimal place', 'places')}."
    if kind in _OWN:
        return _capitalised(message)
    return _BY_TYPE.get(kind, "This value is not valid.")


# Error types Accord raises itself (PydanticCustomError), with sentences written for people.
NOT_TEXT = "not_text"
_OWN = frozenset({NOT_TEXT})


def _capitalised(text: str) -> str:
    text = text.strip()
    if not text:
        return "This value is not valid."
    text = text[0].upper() + text[1:]
    return text if text.endswith((".", "?", "!")) else text + "."


def field_errors(errors: Sequence[Mapping[str, Any]]) -> list[dict[str, str | None]]:
    """Every error as `{"field", "detail"}`, in the order pydantic found them, once each."""
    seen: set[tuple[str | None, str]] = set()
    out: list[dict[str, str | None]] = []
    for error in errors:
        item = (field_path(error.get("loc", ())), sentence(error))
        if item not in seen:
            seen.add(item)
            out.append({"field": item[0], "detail": item[1]})
    return out
