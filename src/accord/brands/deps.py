"""The brand-scoped caller: an API key (Authorization: Bearer) or a signed-in member."""

from __future__ import annotations

from typing import Annotated, Any, cast

from fastapi import Depends, Request
from sqlalchemy import Select, select
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from accord.brands import service
from accord.brands.models import Brand, Member
from accord.core.auth_models import AuthSession
from accord.core.errors import NotAuthenticated
from accord.core.loop_reads import LoopReads
from accord.core.prepared import Prepared
from accord.core.principals import BrandCaller
from accord.core.web import sign_in
from accord.core.web.csrf import HEADER as CSRF_HEADER
from accord.core.web.csrf import SAFE_METHODS, check_token
from accord.core.web.deps import API_KEY, SESSION_COOKIE, SessionDep
from accord.core.web.openapi import declares_security
from accord.core.web.request_slots import RequestSlots

# The OpenAPI tag of every route that acts for a brand (its API key or a member's session).
BRAND_SCOPED = "brand-scoped"


@declares_security(API_KEY, SESSION_COOKIE)
async def brand_caller(request: Request, session: SessionDep) -> BrandCaller:
    """An API key opens the API only; the console's pages need a signed-in member.

    An API key is looked up on the event loop: on SQLite one indexed read of a local file,
    which never waits for a lock (SQLite's readers do not wait for its writer); on PostgreSQL
    on an async connection (`accord.core.loop_reads`), the loop serving others while the server
    answers; a member's session the same way, read with the member and the brand. The rare
    write of a key's last use runs in a thread. A session already in a transaction (the tests'
    outer one) reads in it, in a thread."""
    api = request.scope["path"].startswith("/api/")  # request.url would build a whole URL
    auth = request.headers.get("authorization")
    if auth is not None and api:
        scheme, _, secret = auth.partition(" ")
        if scheme.lower() != "bearer" or not secret.strip():
            raise NotAuthenticated(service.BAD_CREDENTIALS)
        slots: RequestSlots = request.app.state.request_slots
        reads: LoopReads = request.app.state.loop_reads
        if reads.serves(session):
            caller, stale = await service.find_api_key_on_loop(reads, secret.strip())
        elif session.get_bind().dialect.name == "sqlite":
            caller, stale = service.find_api_key(session, secret.strip())
        else:
            return await slots.run(service.authenticate_api_key, session, secret.strip())
        if stale and caller.api_key_id is not None:
            await slots.run(service.touch_api_key, session, caller.api_key_id)
        return caller
    if session.get_bind().dialect.name == "sqlite":
        return _member_caller(request, session, api)
    reads = request.app.state.loop_reads
    if reads.serves(session):
        row = await sign_in.current_row_on_loop(request, reads, sign_in.MEMBER, _SIGNED_IN_MEMBER)
        return _member(request, row, api)
    return await run_in_threadpool(_member_caller, request, session, api)


# The session's check and the member's caller (its role, address and brand) in one statement
# on the DBAPI cursor (`accord.core.prepared`), outer joined: a member removed since signing in
# is refused as before, their cookie's session left as it is.
_SIGNED_IN_MEMBER = Prepared(
    sign_in.signed_in(
        cast(
            "Select[Any]",
            select(AuthSession.subject_id, *service.MEMBER_CALLER_COLUMNS)
            .select_from(AuthSession)
            .outerjoin(Member, Member.id == AuthSession.subject_id)
            .outerjoin(Brand, Brand.id == Member.brand_id),
        )
    )
)


def _member_caller(request: Request, session: Session, api: bool) -> BrandCaller:
    row = sign_in.current_row(request, session, sign_in.MEMBER, _SIGNED_IN_MEMBER)
    return _member(request, row, api)


def _member(request: Request, row: Any, api: bool) -> BrandCaller:
    if row is None:
        raise NotAuthenticated(service.BAD_CREDENTIALS)
    if api and request.method not in SAFE_METHODS:
        check_token(request, request.headers.get(CSRF_HEADER))
    return service.member_caller_of(row[0], tuple(row[1:]))


BrandDep = Annotated[BrandCaller, Depends(brand_caller)]
