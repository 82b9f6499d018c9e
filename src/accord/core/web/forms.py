"""HTML forms: read fields as typed, validate with Pydantic, re-render with errors by field."""

from __future__ import annotations

from typing import Any, TypeVar

from fastapi import Request
from fastapi.responses import HTMLResponse
from pydantic import BaseModel, ValidationError

from accord.core.web.templates import form_errors, render

M = TypeVar("M", bound=BaseModel)


async def read_form(request: Request, fields: list[str]) -> dict[str, str]:
    """The named fields as typed (missing ones as ""), so a re-rendered form keeps them."""
    form = await request.form()
    values: dict[str, str] = {}
    for name in fields:
        value = form.get(name, "")
        values[name] = value if isinstance(value, str) else ""
    return values


def parse_form(model: type[M], values: dict[str, Any]) -> M | dict[str, str]:
    """The validated model, or the errors keyed by field."""
    try:
        return model.model_validate(values)
    except ValidationError as exc:
        return form_errors(exc)


def form_page(
    request: Request, template: str, values: dict[str, Any], errors: dict[str, str], **extra: Any
) -> HTMLResponse:
    """The same form again, with what was typed and each error beside its field."""
    context = {"values": values, "errors": errors, **extra}
    return render(request, template, context, status_code=422)
