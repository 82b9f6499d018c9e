"""HTML forms: one way to take a posted form from typed values to a done action or an error page.

`handle_form` reads the fields as typed, validates them (a Pydantic model or a parser of the
page's own), runs the action, and on any error rolls the request back and shows the same page
again: every error beside its field in a sentence a person reads, and what was typed kept.
Every pages module uses it; a new form needs a template, a model and an action, nothing else.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from functools import lru_cache
from typing import Any, TypeVar, overload

from fastapi import Request
from fastapi.responses import HTMLResponse, Response
from pydantic import BaseModel, ValidationError
from sqlalchemy.orm import Session

from accord.core.errors import AccordError
from accord.core.plain_errors import plain_errors
from accord.core.web.templates import render

M = TypeVar("M")
B = TypeVar("B", bound=BaseModel)
# Errors that are about the page, not a field: shown as their own page (404, 403), not the form.
_NOT_A_FORM_ERROR = (403, 404)


class FormInvalid(Exception):
    """Raised inside an action to send the form back with these errors (by form field)."""

    def __init__(self, errors: Mapping[str, str]) -> None:
        super().__init__(next(iter(errors.values()), ""))
        self.errors = dict(errors)


async def read_form(request: Request, fields: Sequence[str]) -> dict[str, str]:
    """The named fields as typed (missing ones as ""), so a re-rendered form keeps them."""
    form = await request.form()
    values: dict[str, str] = {}
    for name in fields:
        value = form.get(name, "")
        values[name] = value if isinstance(value, str) else ""
    return values


def parse_form(model: type[B], values: Mapping[str, Any]) -> B | dict[str, str]:
    """The validated model, or a plain sentence per field."""
    try:
        return model.model_validate(values)
    except ValidationError as exc:
        return plain_errors(exc)


@lru_cache(maxsize=256)
def limits(model: type[BaseModel]) -> dict[str, dict[str, Any]]:
    """Per field, what the form's inputs can say up front: `required`, `maxlength`.

    Read from the model's JSON schema, so an optional field (`X | None`) that must not be empty
    when sent (min_length 1) counts as required too.
    """
    schema = model.model_json_schema()
    required = set(schema.get("required", []))
    found: dict[str, dict[str, Any]] = {}
    for name, prop in schema.get("properties", {}).items():
        branches = prop.get("anyOf", [prop])
        strings = [b for b in branches if b.get("type") == "string"]
        entry: dict[str, Any] = {}
        if name in required or any(b.get("minLength") == 1 for b in strings):
            entry["required"] = True
        lengths = [b["maxLength"] for b in strings if "maxLength" in b]
        if lengths:
            entry["maxlength"] = max(lengths)
        found[name] = entry
    return found


def show_form(
    request: Request,
    template: str,
    values: Mapping[str, Any],
    errors: Mapping[str, str] | None = None,
    *,
    model: type[BaseModel] | None = None,
    status_code: int | None = None,
    **context: Any,
) -> HTMLResponse:
    """A form page: the values shown, each error beside its field, the model's input limits."""
    full = {
        "limits": limits(model) if model is not None else {},
        **context,
        "values": dict(values),
        "errors": dict(errors or {}),
    }
    code = status_code if status_code is not None else (422 if errors else 200)
    return render(request, template, full, status_code=code)


def _field_for(
    exc: AccordError, fields: Sequence[str], field_of: Mapping[str, str], fallback: str
) -> str:
    if exc.field and exc.field in field_of:
        return field_of[exc.field]
    return exc.field if exc.field and exc.field in fields else fallback


@overload
async def handle_form(
    request: Request,
    session: Session,
    parse: type[B],
    act: Callable[[B], Response],
    *,
    template: str,
    context: Callable[[], Mapping[str, Any]] = ...,
    fields: Sequence[str] | None = ...,
    values: dict[str, str] | None = ...,
    field_of: Mapping[str, str] | None = ...,
    commit_on: tuple[type[AccordError], ...] = ...,
    model: type[BaseModel] | None = ...,
    fallback_field: str = ...,
) -> Response: ...


@overload
async def handle_form(
    request: Request,
    session: Session,
    parse: Callable[[dict[str, str]], M | dict[str, str]],
    act: Callable[[M], Response],
    *,
    template: str,
    context: Callable[[], Mapping[str, Any]] = ...,
    fields: Sequence[str] | None = ...,
    values: dict[str, str] | None = ...,
    field_of: Mapping[str, str] | None = ...,
    commit_on: tuple[type[AccordError], ...] = ...,
    model: type[BaseModel] | None = ...,
    fallback_field: str = ...,
) -> Response: ...


async def handle_form(
    request: Request,
    session: Session,
    parse: Any,
    act: Callable[[Any], Response],
    *,
    template: str,
    context: Callable[[], Mapping[str, Any]] = dict,
    fields: Sequence[str] | None = None,
    values: dict[str, str] | None = None,
    field_of: Mapping[str, str] | None = None,
    commit_on: tuple[type[AccordError], ...] = (),
    model: type[BaseModel] | None = None,
    fallback_field: str = "form",
) -> Response:
    """Validate a posted form and act on it, or show it again with the errors.

    - `parse`: a Pydantic model (its fields are the form's, unless `fields` says otherwise), or
      a function from the typed values to the parsed input or the errors by field.
    - `act`: does the work with the parsed input and returns the response (a redirect). An
      `AccordError` it raises (other than a bare 403/404) or a `FormInvalid` lands beside its
      field (`field_of` maps a service's field name to the form's; an error about no field of
      the form shows beside `fallback_field`, by default at the top of the form).
    - On every error the request is rolled back, except after the errors `commit_on` lists,
      whose writes must stay (a failed code attempt counts).
    - `context`: what else the page shows, computed after the rollback; its `values` (other
      forms on the page) are kept where this form typed nothing.
    - `model`: whose limits (`required`, `maxlength`) the inputs show when `parse` is a function.
    """
    is_model = isinstance(parse, type) and issubclass(parse, BaseModel)
    if is_model:
        model = parse
    if values is None:
        names = fields if fields is not None else list(model.model_fields) if model else []
        values = await read_form(request, names)
    status = 422
    parsed = parse_form(parse, values) if is_model else parse(values)
    if isinstance(parsed, dict):
        session.rollback()
        errors: dict[str, str] = parsed
    else:
        try:
            return act(parsed)
        except FormInvalid as exc:
            session.rollback()
            errors = exc.errors
        except AccordError as exc:
            if exc.status in _NOT_A_FORM_ERROR and exc.field is None:
                raise
            if isinstance(exc, commit_on):
                session.commit()
            else:
                session.rollback()
            field = _field_for(exc, list(values), field_of or {}, fallback_field)
            errors = {field: exc.detail}
            status = 429 if exc.status == 429 else 422
    extra = dict(context())
    shown = {**extra.pop("values", {}), **values}
    return show_form(request, template, shown, errors, model=model, status_code=status, **extra)


def act_or_fail(
    session: Session, act: Callable[[], Response], failed: Callable[[AccordError], Response]
) -> Response:
    """A button with no fields to re-show (a mailed link's "Confirm"): its action, or, after a
    rollback, the page that says why it could not be done."""
    try:
        return act()
    except AccordError as exc:
        session.rollback()
        return failed(exc)
