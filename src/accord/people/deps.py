"""The signed-in person, from the session cookie."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.orm import Session

from accord.core.dates import Viewer
from accord.core.errors import NotAuthenticated
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

    On SQLite on the event loop (one indexed read of a local file, which never waits: SQLite's
    readers do not wait for its writer), sparing a trip to the thread pool before the route's
    own; on PostgreSQL in the request slots' own threads, so that the server's round trip stays
    off the loop (as `accord.brands.deps.brand_caller` looks up an API key)."""
    if session.get_bind().dialect.name == "sqlite":
        return _current_person(request, session)
    slots: RequestSlots = request.app.state.request_slots
    return await slots.run(_current_person, request, session)


def _current_person(request: Request, session: Session) -> PersonCaller:
    person_id = sign_in.current(request, session, sign_in.PERSON)
    if person_id is None:
        raise NotAuthenticated("Sign in to continue.")
    # The scope's path, not `request.url` (which builds the whole URL on every request).
    api = request.scope["path"].startswith("/api/")
    if api and request.method not in SAFE_METHODS:
        # A cookie-authenticated API write needs the CSRF header, like a form needs its field.
        check_token(request, request.headers.get(CSRF_HEADER))
    if not api:
        # Pages show times in the person's zone and format (the `when` filter reads this);
        # most pages read the person anyway, and then from the request's read memo.
        me = find_person(session, person_id)
        if me is not None:
            request.state.viewer = Viewer(zone=me.time_zone, locale=me.locale)
    return PersonCaller(person_id=person_id)


PersonDep = Annotated[PersonCaller, Depends(current_person)]
