"""CSRF protection: a per-session token in every form, checked on every unsafe request."""

from __future__ import annotations

import secrets

from fastapi import Request

from accord.core.errors import PermissionDenied
from accord.core.security import constant_time_equal

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
FORM_FIELD = "csrf_token"
HEADER = "x-csrf-token"


def csrf_token(request: Request) -> str:
    token = request.session.get("csrf")
    if not token:
        token = secrets.token_urlsafe(32)
        request.session["csrf"] = token
    return str(token)


class CsrfFailed(PermissionDenied):
    pass


def token_ok(request: Request, supplied: str | None) -> bool:
    """Is `supplied` the session's CSRF token?"""
    expected = request.session.get("csrf")
    return bool(expected and supplied and constant_time_equal(str(expected), supplied))


def check_token(request: Request, supplied: str | None) -> None:
    if not token_ok(request, supplied):
        raise CsrfFailed(
            "This form has expired or did not come from Accord. Reload the page and try again.",
            field=FORM_FIELD,
        )


async def csrf_protect(request: Request) -> None:
    """Router dependency for HTML forms: the token comes in the form or the header."""
    if request.method in SAFE_METHODS:
        return
    supplied = request.headers.get(HEADER)
    if supplied is None:
        form = await request.form()
        value = form.get(FORM_FIELD)
        supplied = value if isinstance(value, str) else None
    check_token(request, supplied)
