"""The one error shape of the API, for handlers and middlewares alike."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any


def error_body(
    name: str,
    detail: str,
    field: str | None,
    errors: Sequence[Mapping[str, str | None]] | None = None,
) -> dict[str, Any]:
    """`{"error", "detail", "field"}` of the first problem, and in `errors` every problem
    found, each `{"field", "detail"}` (the first one included)."""
    listed = [dict(e) for e in errors] if errors else [{"field": field, "detail": detail}]
    return {"error": name, "detail": detail, "field": field, "errors": listed}
