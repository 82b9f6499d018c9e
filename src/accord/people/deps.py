"""The signed-in person, from the session cookie."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.orm import Session

from accord.core.dates import Viewer
from accord.core.errors import NotAuthenticated
from accord.core.loop_reads import LoopReads
from accord.core.principals import PersonCaller
from accord.core.web import sign_in
from accord.core.web.csrf import HEADER as CSRF_HEADER
from accord.core.web.csrf import SAFE_METHODS, check_token
from accord.core.web.deps import SESSION_COOKIE, SessionDep
from accord.core.web.openapi import declares_security
from accord.core.web.request_slots import RequestSlots
from accord.people.service import find_person


@declares_security(SESSION_COOKIE)
async def current_person(request: Request, session: SessionDep) -> PersonCaller:
    """The person this request is signed in as (a session the server still holds).

    On the event loop, sparing a trip to a thread before the route's own: on SQLite one
    indexed read of a local file, which never waits (SQLite's readers do not wait for its
    writer); on PostgreSQL, for an API call, on an async connection (`accord.core.loop_reads`,
    as `accord.brands.deps.brand_caller` looks up an API key). A page, which reads the person
    too, or a session already in a transaction (the tests' outer one) reads in a thread."""
    if session.get_bind().dialect.name == "sqlite":
        return _current_person(request, session)
    reads: LoopReads = request.app.state.loop_reads
    if request.scope["path"].startswith("/api/") and reads.serves(session):
        return _caller(request, await sign_in.current_on_loop(request, reads, sign_in.PERSON))
    slots: RequestSlots = request.app.state.request_slots
    return await slots.run(_current_person, request, session)


def _caller(request: Request, person_id: uuid.UUID | None) -> PersonCaller:
    if person_id is None:
        raise NotAuthenticated("Sign in to continue.")
    if request.scope["path"].startswith("/api/") and request.method not in SAFE_METHODS:
        # A cookie-authenticated API write needs the CSRF header, like a form needs its field.
        check_token(request, request.headers.get(CSRF_HEADER))
    return PersonCaller(person_id=person_id)


def _current_person(request: Request, session: Session) -> PersonCaller:
    caller = _caller(request, sign_in.current(request, session, sign_in.PERSON))
    if not request.scope["path"].startswith("/api/"):
        # Pages show times in the person's zone and format (the `when` filter reads this);
        # most pages read the person anyway, and then from the request's read memo.
        me = find_person(session, caller.person_id)
        if me is not None:
            request.state.viewer = Viewer(zone=me.time_zone, locale=me.locale)
    return caller


PersonDep = Annotated[PersonCaller, Depends(current_person)]
