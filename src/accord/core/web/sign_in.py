"""Signed-in sessions, kept on the server: the cookie names one, the database says if it holds.

The session cookie (signed, so it cannot be forged) carries who is signed in and a random
token; `AuthSession` keeps the token's hash. Every signed-in request checks the row, so
signing out, "sign out everywhere" and a password change end every copy of the cookie, not
only the one in the browser that asked.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, MutableMapping
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from fastapi import Request
from sqlalchemy import Select, bindparam, select, update
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement

from accord.core.auth_models import AuthSession
from accord.core.db import utcnow
from accord.core.errors import NotAuthenticated
from accord.core.loop_reads import LoopReads
from accord.core.prepared import Prepared
from accord.core.security import new_token, token_hash

PERSON = "person"
MEMBER = "member"
_TOKEN = "sid"


def _key(kind: str) -> str:
    return f"{kind}_id"


def begin(
    request: Request, session: Session, *, kind: str, subject_id: uuid.UUID, days: int
) -> None:
    """Sign `subject_id` in: a new session row, and a fresh cookie (nothing kept from before,
    so a session id planted before the sign-in is worthless after it)."""
    token = new_token()
    session.add(
        AuthSession(
            token_hash=token_hash(token),
            subject_kind=kind,
            subject_id=subject_id,
            expires_at=utcnow() + timedelta(days=days),
        )
    )
    session.flush()
    request.session.clear()
    request.session[_key(kind)] = str(subject_id)
    request.session[_TOKEN] = token


def _holding(prefix: str) -> tuple[ColumnElement[bool], ...]:
    """The session row the cookie names (its token's hash, of its kind), while it holds: not
    revoked, not expired; bound as `{prefix}token_hash`, `{prefix}kind` and `{prefix}now`."""
    return (
        AuthSession.token_hash == bindparam(f"{prefix}token_hash"),
        AuthSession.subject_kind == bindparam(f"{prefix}kind"),
        AuthSession.revoked_at.is_(None),
        AuthSession.expires_at > bindparam(f"{prefix}now"),
    )


def signed_in(query: Select[Any]) -> Select[Any]:
    """`query` (its first column `AuthSession.subject_id`, perhaps with what the caller reads
    beside it, joined) limited to the session the cookie names, while it holds: run it with
    `current_row`."""
    return query.where(*_holding(""))


# Every signed-in request runs it (compiled once, on the DBAPI cursor: `accord.core.prepared`).
_SIGNED_IN = Prepared(signed_in(select(AuthSession.subject_id)))


def current(request: Request, session: Session, kind: str) -> uuid.UUID | None:
    """Who of `kind` this request is signed in as, if the session still holds."""
    row = current_row(request, session, kind, _SIGNED_IN)
    return None if row is None else row.subject_id


def current_row(request: Request, session: Session, kind: str, read: Prepared) -> Any:
    """`read`'s row (a `signed_in` query) for this request's session of `kind`, if it holds:
    a caller that reads its person's or member's columns with it makes one statement of two."""
    token = _token(request, kind)
    if token is None:
        return None
    row = read.first(session, token_hash=token_hash(token), kind=kind, now=utcnow())
    return None if _holds(request, kind, row) is None else row


async def current_on_loop(request: Request, reads: LoopReads, kind: str) -> uuid.UUID | None:
    """`current`, read on the event loop (PostgreSQL, a request session not yet begun:
    `LoopReads.serves`)."""
    row = await current_row_on_loop(request, reads, kind, _SIGNED_IN)
    return None if row is None else row.subject_id


async def current_row_on_loop(request: Request, reads: LoopReads, kind: str, read: Prepared) -> Any:
    """`current_row`, read on the event loop (as `current_on_loop`)."""
    token = _token(request, kind)
    if token is None:
        return None
    row = await reads.first(read, token_hash=token_hash(token), kind=kind, now=utcnow())
    return None if _holds(request, kind, row) is None else row


# What `current` checks, as a column a statement of the request's own can carry (`Unchecked`):
# whether the session the cookie names still holds, for the subject the cookie names.
# (Its parameters are prefixed: they sit beside the statement's own.)
HOLDS = (
    select(AuthSession.subject_id)
    .where(*_holding("signin_"), AuthSession.subject_id == bindparam("signin_subject"))
    .exists()
    .label("signed_in")
)
_HOLDS = Prepared(select(HOLDS))


@dataclass(frozen=True)
class Unchecked:
    """A request's sign-in as its signed cookie names it, not yet checked against the sessions
    the server holds: checked by a statement the request makes anyway, which carries `HOLDS`
    bound with `values` (one round trip fewer than a read of its own), or by `check`. Until
    then `subject_id` is only who the cookie says; nothing may be written or answered for them
    before the check (`accord.people.deps.person_to_check`)."""

    subject_id: uuid.UUID
    values: Mapping[str, Any]
    cookie: MutableMapping[str, Any]  # the request's session, emptied if the check fails

    def refused(self) -> NotAuthenticated:
        """The answer to a failed check, as `current`'s callers give it (the cookie's session
        emptied)."""
        self.cookie.clear()
        return NotAuthenticated("Sign in to continue.")

    def check(self, session: Session) -> None:
        """The check on its own, for work whose statements cannot carry it."""
        if not _HOLDS.first(session, **self.values).signed_in:
            raise self.refused()


def unchecked(request: Request, kind: str) -> Unchecked | None:
    """The sign-in of `kind` this request's cookie names, to be checked (`Unchecked`); None when
    it names none (`current` says who, or why not)."""
    token = _token(request, kind)
    if token is None:
        return None
    named = request.session[_key(kind)]
    try:
        subject = uuid.UUID(str(named))
    except ValueError:
        return None
    if str(subject) != str(named):  # as `current` compares them
        return None
    values = {"signin_token_hash": token_hash(token), "signin_kind": kind,
              "signin_subject": subject, "signin_now": utcnow()}  # fmt: skip
    return Unchecked(subject, values, request.session)


def _token(request: Request, kind: str) -> str | None:
    token = request.session.get(_TOKEN)
    if not request.session.get(_key(kind)) or not isinstance(token, str):
        return None
    return token


def _holds(request: Request, kind: str, row: Any) -> uuid.UUID | None:
    found: uuid.UUID | None = None if row is None else row.subject_id
    if found is None or str(found) != str(request.session.get(_key(kind))):
        request.session.clear()
        return None
    return found


def end(request: Request, session: Session) -> None:
    """Sign out this session: the cookie is cleared and its row revoked, so a copy fails too."""
    token = request.session.get(_TOKEN)
    if isinstance(token, str):
        session.execute(
            update(AuthSession)
            .where(AuthSession.token_hash == token_hash(token), AuthSession.revoked_at.is_(None))
            .values(revoked_at=utcnow())
        )
    request.session.clear()


def end_all(
    session: Session, *, kind: str, subject_id: uuid.UUID, keep: Request | None = None
) -> int:
    """End every session of one person or member (all but `keep`'s, when given). How many."""
    query = update(AuthSession).where(
        AuthSession.subject_kind == kind,
        AuthSession.subject_id == subject_id,
        AuthSession.revoked_at.is_(None),
    )
    token = keep.session.get(_TOKEN) if keep is not None else None
    if isinstance(token, str):
        query = query.where(AuthSession.token_hash != token_hash(token))
    result = session.execute(query.values(revoked_at=utcnow()))
    return int(getattr(result, "rowcount", 0) or 0)


def session_key(request: Request) -> str | None:
    """An opaque name of the signed-in session (per caller idempotency keys use it)."""
    token = request.session.get(_TOKEN)
    return token_hash(token) if isinstance(token, str) else None
