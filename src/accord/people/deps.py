"""The signed-in person, from the session cookie."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Annotated, Any, cast

from fastapi import Depends, Request
from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from accord.core.auth_models import AuthSession
from accord.core.dates import Viewer
from accord.core.errors import NotAuthenticated
from accord.core.loop_reads import LoopReads
from accord.core.prepared import Prepared
from accord.core.principals import PersonCaller
from accord.core.web import sign_in
from accord.core.web.csrf import HEADER as CSRF_HEADER
from accord.core.web.csrf import SAFE_METHODS, check_token, token_ok
from accord.core.web.deps import SESSION_COOKIE, SessionDep
from accord.core.web.lean_route import inputs_valid
from accord.core.web.openapi import declares_security
from accord.core.web.request_slots import RequestSlots
from accord.people.models import Person


@declares_security(SESSION_COOKIE)
async def current_person(request: Request, session: SessionDep) -> PersonCaller:
    """The person this request is signed in as (a session the server still holds).

    On the event loop, sparing a trip to a thread before the route's own: on SQLite one
    indexed read of a local file, which never waits (SQLite's readers do not wait for its
    writer); on PostgreSQL on an async connection (`accord.core.loop_reads`, as
    `accord.brands.deps.brand_caller` looks up an API key). A session already in a transaction
    (the tests' outer one) reads in it, in a thread."""
    if session.get_bind().dialect.name == "sqlite":
        if request.method not in SAFE_METHODS:
            # A write uses the session's connection anyway: the check reads on it too, sparing
            # a pooled connection of its own (a checkout, and a rollback when given back).
            session.connection()
        return _current_person(request, session)
    reads: LoopReads = request.app.state.loop_reads
    if reads.serves(session):
        if request.scope["path"].startswith("/api/"):
            return _caller(request, await sign_in.current_on_loop(request, reads, sign_in.PERSON))
        read = sign_in.current_row_on_loop(request, reads, sign_in.PERSON, _SIGNED_IN_VIEWER)
        return _viewing(request, await read)
    slots: RequestSlots = request.app.state.request_slots
    return await slots.run(_current_person, request, session)


def _caller(request: Request, person_id: uuid.UUID | None) -> PersonCaller:
    if person_id is None:
        raise NotAuthenticated("Sign in to continue.")
    if request.scope["path"].startswith("/api/") and request.method not in SAFE_METHODS:
        # A cookie-authenticated API write needs the CSRF header, like a form needs its field.
        check_token(request, request.headers.get(CSRF_HEADER))
    return PersonCaller(person_id=person_id)


# A page's sign-in check, with the person's zone and format read beside it (the `when` filter
# shows times in them): one statement on the DBAPI cursor, where the person's ORM object, read
# for them, cost more than the rest of a small page's reads (a page that shows the person reads
# it itself).
_SIGNED_IN_VIEWER = Prepared(
    sign_in.signed_in(
        cast(
            "Select[Any]",
            select(AuthSession.subject_id, Person.time_zone, Person.locale).outerjoin(
                Person, Person.id == AuthSession.subject_id
            ),
        )
    )
)


def _current_person(request: Request, session: Session) -> PersonCaller:
    if request.scope["path"].startswith("/api/"):
        return _caller(request, sign_in.current(request, session, sign_in.PERSON))
    row = sign_in.current_row(request, session, sign_in.PERSON, _SIGNED_IN_VIEWER)
    return _viewing(request, row)


def _viewing(request: Request, row: Any) -> PersonCaller:
    """The caller of a page, whose times show in the person's zone and format."""
    caller = _caller(request, None if row is None else row.subject_id)
    if row.time_zone is not None:  # None: no such person any more
        request.state.viewer = Viewer(zone=row.time_zone, locale=row.locale)
    return caller


PersonDep = Annotated[PersonCaller, Depends(current_person)]


@dataclass(frozen=True)
class PersonToCheck:
    """The caller of a person's API write whose own first statement checks the sign-in
    (`sign_in`, a `sign_in.Unchecked`; None: already checked, as `current_person` does)."""

    person_id: uuid.UUID
    sign_in: sign_in.Unchecked | None


@declares_security(SESSION_COOKIE)
async def person_to_check(request: Request, session: SessionDep) -> PersonToCheck:
    """`current_person`, for an API write whose work checks the sign-in in the statement that
    begins it (a preference change: the check's read, a round trip on PostgreSQL, was a sixth
    of the change's CPU time: bench/preference_write.py). The work must check it before it
    writes or refuses anything else (`sign_in.Unchecked`).

    Only where a failed check's 401 is the answer FastAPI's order gives: the body and path
    already valid (`lean_route.inputs_valid`: FastAPI answers a dependency's refusal before
    theirs) and the CSRF header right (its 403 comes only after a sign-in that holds).
    Anything else is checked here first, as `current_person` does."""
    if (
        inputs_valid(request)
        and request.method not in SAFE_METHODS
        and request.scope["path"].startswith("/api/")
    ):
        found = sign_in.unchecked(request, sign_in.PERSON)
        if found is not None and token_ok(request, request.headers.get(CSRF_HEADER)):
            return PersonToCheck(found.subject_id, found)
    caller = await current_person(request, session)
    return PersonToCheck(caller.person_id, None)


PersonToCheckDep = Annotated[PersonToCheck, Depends(person_to_check)]
