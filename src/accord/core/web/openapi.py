"""The OpenAPI document states the real error shape and every status an operation answers.

FastAPI documents the success answer and a 422 of its own shape. Accord's errors all have one
shape (`Error`: `error`, `detail`, `field`, `errors`), and which of them an operation can
answer follows from what it takes, read from the document itself, so that a route added later
is described without anyone listing its errors:

- every operation: 400 (a request Accord cannot use) and 422 (a field or the body is invalid);
- with a security requirement (an API key or a session cookie): 401 and 403 (role, CSRF);
- with a path parameter or a security requirement: 404 (another brand's object is a 404);
- with a body (declared, or read by the route itself): 413 (over `ACCORD_MAX_BODY_BYTES`);
- writes (POST, PUT, PATCH, DELETE): 409 (taken, or an idempotent request still running) and
  429 (rate limits).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any, TypeVar

from fastapi import FastAPI
from fastapi.encoders import jsonable_encoder
from fastapi.openapi.utils import get_openapi
from fastapi.routing import APIRoute, iter_route_contexts
from fastapi.security.base import SecurityBase
from pydantic import BaseModel, Field
from starlette.routing import BaseRoute

ERROR = "Error"
_WRITES = frozenset({"post", "put", "patch", "delete"})
# Methods whose body a route may read itself (a provider's form post), undeclared.
_BODIES = frozenset({"post", "put", "patch"})
_DESCRIPTIONS = {
    400: "The request cannot be used.",
    401: "Missing, wrong, revoked or expired credentials.",
    403: "Your role may not do this, or a cookie-authenticated write without its CSRF token.",
    404: "No such object for you.",
    409: "It exists already, or a request with this Idempotency-Key is still running.",
    413: "The body is larger than the instance accepts.",
    422: "A field or the body is invalid; `errors` lists every problem.",
    429: "Too many requests of this kind; Retry-After says when to try again.",
}


class FieldError(BaseModel):
    field: str | None = Field(description="The field's dotted path, or null.")
    detail: str = Field(description="What is wrong, in a sentence.")


class ErrorOut(BaseModel):
    """Every error answer of Accord."""

    error: str = Field(description="The error's name, e.g. InvalidInput or NotFound.")
    detail: str = Field(description="The first problem, in a sentence.")
    field: str | None = Field(description="The field the first problem is about, or null.")
    errors: list[FieldError] = Field(description="Every problem found, the first included.")


def _statuses(method: str, operation: dict[str, Any]) -> set[int]:
    parameters = operation.get("parameters", [])
    found = {400, 422}
    if operation.get("security"):
        found |= {401, 403, 404}
    if any(p.get("in") == "path" for p in parameters):
        found.add(404)
    if "requestBody" in operation or method in _BODIES:
        found.add(413)
    if method in _WRITES:
        found |= {409, 429}
    return found


def describe_errors(document: dict[str, Any]) -> dict[str, Any]:
    """`document` with the Error schema and each operation's error answers (in place)."""
    schemas = document.setdefault("components", {}).setdefault("schemas", {})
    for name, schema in _error_schemas().items():
        schemas[name] = schema
    for name in ("HTTPValidationError", "ValidationError"):
        schemas.pop(name, None)
    reference = {"$ref": f"#/components/schemas/{ERROR}"}
    for path_item in document.get("paths", {}).values():
        for method, operation in path_item.items():
            if not isinstance(operation, dict) or "responses" not in operation:
                continue
            responses = operation["responses"]
            for status in sorted(_statuses(method, operation)):
                responses[str(status)] = {
                    "description": _DESCRIPTIONS[status],
                    "content": {"application/json": {"schema": reference}},
                }
    return document


def _error_schemas() -> dict[str, Any]:
    schema = ErrorOut.model_json_schema(ref_template="#/components/schemas/{model}")
    definitions = schema.pop("$defs", {})
    schema["title"] = ERROR
    return {ERROR: schema, **definitions}


_F = TypeVar("_F", bound=Callable[..., Any])
_DECLARED = "accord_security_schemes"


def declares_security(*schemes: SecurityBase) -> Callable[[_F], _F]:
    """Mark a dependency that authenticates by reading the request itself: the document lists
    `schemes` for every operation that depends on it, as if it took `Security(scheme)`
    parameters. Such parameters would cost every request one more dependency each (FastAPI
    solves and runs them) only to be ignored."""

    def mark(dependency: _F) -> _F:
        setattr(dependency, _DECLARED, schemes)
        return dependency

    return mark


def _declared(dependant: Any) -> list[SecurityBase]:
    """The declared schemes in FastAPI's order: depth first, a dependency's after its own."""
    found: list[SecurityBase] = []
    for sub in dependant.dependencies:
        found += _declared(sub)
        found += getattr(sub.call, _DECLARED, ())
    return found


def add_declared_security(document: dict[str, Any], routes: Iterable[BaseRoute]) -> None:
    """Each operation's declared schemes (`declares_security`), after those FastAPI found."""
    schemes = document.setdefault("components", {}).setdefault("securitySchemes", {})
    for context in iter_route_contexts(list(routes)):
        if not isinstance(context.original_route, APIRoute) or not context.include_in_schema:
            continue
        declared = _declared(context.dependant)
        path_item = document.get("paths", {}).get(context.path_format)
        if not declared or path_item is None:
            continue
        for method in sorted(context.methods or ()):
            operation = path_item.get(method.lower())
            if operation is None:
                continue
            security = operation.setdefault("security", [])
            named = {name for requirement in security for name in requirement}
            for scheme in declared:
                schemes[scheme.scheme_name] = jsonable_encoder(
                    scheme.model, by_alias=True, exclude_none=True
                )
                if scheme.scheme_name not in named:
                    named.add(scheme.scheme_name)
                    security.append({scheme.scheme_name: []})


def install(app: FastAPI) -> None:
    """Build `app`'s OpenAPI document once, with the errors described."""

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            document = get_openapi(
                title=app.title,
                version=app.version,
                description=app.description,
                routes=app.routes,
            )
            add_declared_security(document, app.routes)
            app.openapi_schema = describe_errors(document)
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
