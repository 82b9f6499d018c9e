"""Validation errors of the API as sentences, never a library's wording.

The sentences are the ones people read on pages (`accord.core.plain_errors`), with a few
changes for an API: ids, listed choices and true/false rather than "choose from the list",
and Accord's own error types (its `PydanticCustomError`s: the text check, time zones,
languages, phone numbers) keep their message, which names the format expected.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, get_args

from pydantic_core import ErrorDetails
from pydantic_core.core_schema import ErrorType

from accord.core.plain_errors import plain_message

# Where FastAPI says a value came from; not part of the field's name.
_SOURCES = frozenset({"body", "query", "path", "header", "cookie"})
# Pydantic's own error types; any other type was raised by Accord with its own sentence.
_PYDANTIC_TYPES = frozenset(get_args(ErrorType))

_ID = "Give an id like 123e4567-e89b-12d3-a456-426614174000."
_API_BY_TYPE = {
    "missing": "Fill this in: it is required.",
    "uuid_parsing": _ID,
    "uuid_type": _ID,
    "uuid_version": _ID,
    "bool_parsing": "Give true or false.",
    "bool_type": "Give true or false.",
    "dict_type": "Give an object (a JSON {...}) here.",
    "model_type": "Give an object (a JSON {...}) here.",
    "model_attributes_type": "Give an object (a JSON {...}) here.",
    "extra_forbidden": "Leave this out: it is not a field here.",
    "json_invalid": "The request body is not valid JSON.",
    "string_unicode": "Remove the invalid characters: this must be text.",
    "datetime_parsing": "Give a date and time like 2030-01-31T18:00:00Z.",
    "datetime_from_date_parsing": "Give a date and time like 2030-01-31T18:00:00Z.",
    "datetime_type": "Give a date and time like 2030-01-31T18:00:00Z.",
}


def field_path(loc: Sequence[Any]) -> str | None:
    """`("body", "evidence", "ip")` -> `"evidence.ip"`; a whole body or query is its source."""
    parts = [str(p) for p in loc if p not in _SOURCES and p != "[key]"]
    return ".".join(parts) or (str(loc[0]) if loc else None)


def _capitalised(text: str) -> str:
    text = text.strip()
    if not text:
        return "This value is not valid."
    text = text[0].upper() + text[1:]
    return text if text.endswith((".", "?", "!")) else text + "."


def sentence(error: Mapping[str, Any]) -> str:
    """One pydantic error (an item of `ValidationError.errors()`) as a sentence."""
    kind = str(error.get("type", ""))
    if kind and kind not in _PYDANTIC_TYPES:
        return _capitalised(str(error.get("msg", "")))
    if kind in _API_BY_TYPE:
        return _API_BY_TYPE[kind]
    if kind in {"enum", "literal_error"}:
        expected = str((error.get("ctx") or {}).get("expected", "")).replace("'", "")
        return f"Choose one of: {expected}." if expected else "Choose one of the listed values."
    details: ErrorDetails = dict(error)  # type: ignore[assignment]
    return plain_message(details)


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
