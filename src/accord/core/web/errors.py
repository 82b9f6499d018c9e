"""Maps errors to HTTP at the edge: JSON for the API, a readable page for people."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, RedirectResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from accord.core.errors import AccordError
from accord.core.web.next_page import sign_in_url
from accord.core.web.templates import render

_HTTP_NAMES = {
    400: "BadRequest",
    401: "NotAuthenticated",
    403: "PermissionDenied",
    404: "NotFound",
    405: "MethodNotAllowed",
    409: "Conflict",
    413: "PayloadTooLarge",
    415: "UnsupportedMediaType",
    422: "InvalidInput",
    429: "RateLimited",
}


def error_body(name: str, detail: str, field: str | None) -> dict[str, Any]:
    return {"error": name, "detail": detail, "field": field}


def wants_json(request: Request) -> bool:
    return request.url.path.startswith("/api/") or "text/html" not in request.headers.get(
        "accept", ""
    )


def _respond(request: Request, status: int, name: str, detail: str, field: str | None) -> Response:
    if wants_json(request):
        return JSONResponse(error_body(name, detail, field), status_code=status)
    if status == 401:
        # A person who is not signed in is sent to sign in, not shown an error.
        target = "/console/signin" if request.url.path.startswith("/console") else "/signin"
        if request.method == "GET":  # after signing in, back to the page asked for
            target = sign_in_url(target, request.url.path, request.url.query)
        return RedirectResponse(target, status_code=303)
    context = {"status": status, "name": name, "detail": detail}
    return render(request, "error.html", context, status_code=status)


def _field_path(loc: Sequence[Any]) -> str | None:
    parts = [str(p) for p in loc if p not in ("body", "query", "path", "header", "cookie")]
    return ".".join(parts) or (str(loc[0]) if loc else None)


async def _accord_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, AccordError)
    return _respond(request, exc.status, exc.name, exc.detail, exc.field)


async def _validation_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, RequestValidationError)
    errors = exc.errors()
    first = errors[0] if errors else {"loc": (), "msg": "Invalid input", "type": ""}
    field = _field_path(first.get("loc", ()))
    if first.get("type") == "json_invalid":
        detail, field = "The request body is not valid JSON.", "body"
    else:
        detail = f"{field}: {first['msg']}" if field else str(first["msg"])
    return _respond(request, 422, "InvalidInput", detail, field)


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, StarletteHTTPException)
    name = _HTTP_NAMES.get(exc.status_code, "HTTPError")
    detail = exc.detail if isinstance(exc.detail, str) else name
    response = _respond(request, exc.status_code, name, detail, None)
    if exc.headers:
        response.headers.update(exc.headers)
    return response


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(AccordError, _accord_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
