"""The signed-in person, from the session cookie."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import Depends, Request

from accord.core.errors import NotAuthenticated
from accord.core.principals import PersonCaller
from accord.core.web.csrf import HEADER as CSRF_HEADER
from accord.core.web.csrf import SAFE_METHODS, check_token


def current_person(request: Request) -> PersonCaller:
    raw = request.session.get("person_id")
    if not raw:
        raise NotAuthenticated("Sign in to continue.")
    try:
        person_id = uuid.UUID(str(raw))
    except ValueError:
        request.session.clear()
        raise NotAuthenticated("Sign in to continue.") from None
    if request.url.path.startswith("/api/") and request.method not in SAFE_METHODS:
        # A cookie-authenticated API write needs the CSRF header, like a form needs its field.
        check_token(request, request.headers.get(CSRF_HEADER))
    return PersonCaller(person_id=person_id)


PersonDep = Annotated[PersonCaller, Depends(current_person)]
