"""Maps errors to HTTP at the edge: JSON for the API, a readable page for people."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, RedirectResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from accord.core.error_text import field_errors
from accord.core.errors import AccordError, RateLimited
from accord.core.web.error_body import error_body
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


def wants_json(request: Request) -> bool:
    return request.url.path.startswith("/api/") or "text/html" not in request.headers.get(
        "accept", ""
    )


def _respond(
    request: Request,
    status: int,
    name: str,
    detail: str,
    field: str | None,
    errors: Sequence[Mapping[str, str | None]] | None = None,
) -> Response:
    if wants_json(request):
        return JSONResponse(error_body(name, detail, field, errors), status_code=status)
    if status == 401:
        # A person who is not signed in is sent to sign in, not shown an error.
        target = "/console/signin" if request.url.path.startswith("/console") else "/signin"
        if request.method == "GET":  # after signing in, back to the page asked for
            target = sign_in_url(target, request.url.path, request.url.query)
        return RedirectResponse(target, status_code=303)
    context = {"status": status, "name": name, "detail": detail}
    return render(request, "error.html", context, status_code=status)


async def _accord_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, AccordError)
    response = _respond(request, exc.status, exc.name, exc.detail, exc.field, exc.errors)
    if isinstance(exc, RateLimited) and exc.retry_after:
        response.headers["Retry-After"] = str(exc.retry_after)
    return response


async def _validation_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, RequestValidationError)
    errors = field_errors(exc.errors()) or [{"field": None, "detail": "This request is not valid."}]
    if exc.errors() and exc.errors()[0].get("type") == "json_invalid":
        errors = [{"field": "body", "detail": "The request body is not valid JSON."}]
    first = errors[0]
    field, sentence = first["field"], str(first["detail"])
    detail = f"{field}: {sentence}" if field and field != "body" else sentence
    return _respond(request, 422, "InvalidInput", detail, field, errors)


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
