"""The brand-scoped caller: an API key (Authorization: Bearer) or a signed-in member."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from accord.brands import service
from accord.core.errors import NotAuthenticated
from accord.core.principals import BrandCaller
from accord.core.web import sign_in
from accord.core.web.csrf import HEADER as CSRF_HEADER
from accord.core.web.csrf import SAFE_METHODS, check_token
from accord.core.web.deps import ApiKeyScheme, SessionDep, SessionScheme

# The OpenAPI tag of every route that acts for a brand (its API key or a member's session).
BRAND_SCOPED = "brand-scoped"


def brand_caller(
    request: Request, session: SessionDep, _key: ApiKeyScheme, _cookie: SessionScheme
) -> BrandCaller:
    """An API key opens the API only; the console's pages need a signed-in member."""
    api = request.url.path.startswith("/api/")
    auth = request.headers.get("authorization")
    if auth is not None and api:
        scheme, _, secret = auth.partition(" ")
        if scheme.lower() != "bearer" or not secret.strip():
            raise NotAuthenticated(service.BAD_CREDENTIALS)
        return service.authenticate_api_key(session, secret.strip())
    member_id = sign_in.current(request, session, sign_in.MEMBER)
    if member_id is None:
        raise NotAuthenticated(service.BAD_CREDENTIALS)
    if api and request.method not in SAFE_METHODS:
        check_token(request, request.headers.get(CSRF_HEADER))
    return service.member_caller(session, member_id)


BrandDep = Annotated[BrandCaller, Depends(brand_caller)]
