"""Request-scoped dependencies: the database session (the request commits), settings, mailer."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AsyncExitStack
from functools import partial
from types import TracebackType
from typing import Annotated, ParamSpec, TypeVar

from fastapi import Depends, Request, Security
from fastapi.security import APIKeyCookie, APIKeyHeader, HTTPBearer
from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlalchemy.orm import ORMExecuteState, Session
from starlette.concurrency import run_in_threadpool

from accord.core import loop_waits, write_turns
from accord.core.db import note_write_locked
from accord.core.prepared import server_idle
from accord.core.read_memo import remember
from accord.core.settings import Settings
from accord.core.web.request_slots import RequestSlots

P = ParamSpec("P")
T = TypeVar("T")


def _finish(session: Session, ok: bool) -> None:
    try:
        if ok:
            session.commit()
        else:
            session.rollback()
    finally:
        session.close()


WROTE = "accord_wrote"


@event.listens_for(Session, "do_orm_execute")
def _note_write(state: ORMExecuteState) -> None:
    if not state.is_select:
        state.session.info[WROTE] = True


@event.listens_for(Session, "after_flush")
def _note_flush(session: Session, _context: object) -> None:
    session.info[WROTE] = True


def _read_only(session: Session) -> bool:
    """Nothing written and nothing to run after the commit: finishing it waits for no lock,
    no disk and no other server."""
    info = session.info
    return not (
        info.get(WROTE)
        or info.get("after_commit")
        or session.new
        or session.dirty
        or session.deleted
    )


async def get_session(request: Request) -> Session:
    """One session per request; the request is the unit of work, so it commits at its end.

    The request first waits for one of the process's database slots (`request_slots`).
    Opening a session does no I/O, so it happens on the event loop; the commit (or rollback)
    and close run in one trip to the thread pool, or on the loop when the request only read and
    ending it sends nothing to a server (SQLite's reads, or reads outside a transaction:
    `accord.core.prepared`). A sync generator dependency would cost two trips (enter, exit),
    each a thread hand-over that, under load, costs more than the work
    (bench/api_overhead.py).

    The end is registered on the exit stack FastAPI closes when the route's function (and the
    answer's serialisation) is done, before the answer is sent, as a `scope="function"`
    dependency with `yield` would, without the generator and context manager FastAPI wraps
    around one on every request. An error on the way rolls back."""
    slots: RequestSlots = request.app.state.request_slots
    stack: AsyncExitStack = request.scope["fastapi_function_astack"]
    await slots.acquire()
    try:
        session: Session = request.app.state.db.session()
        # The layout's counts and banners read through it too (core.web.panels), and what a
        # page and its panels read again comes from the request's read memo (core.read_memo).
        request.state.db_session = session
        remember(session)
    except BaseException:
        slots.release()
        raise
    stack.push_async_exit(partial(_end, slots, session))
    return session


async def _end(
    slots: RequestSlots,
    session: Session,
    error: type[BaseException] | None,
    _value: BaseException | None,
    _traceback: TracebackType | None,
) -> bool:
    try:
        if error is not None:
            await run_in_threadpool(_finish, session, False)
        elif not session.in_transaction():
            # The route committed (`commit_in_route`), or it never needed a connection (an API
            # key read on a pooled one of its own, `accord.core.prepared`): nothing left to
            # finish, and a session that holds no object needs no closing either.
            if session.identity_map or session.new or session.deleted:
                session.close()
        elif _read_only(session) and (
            session.get_bind().dialect.name == "sqlite" or server_idle(session)
        ):
            # Nothing to commit, and nothing to wait for (a local file has no lock to wait
            # for; an idle server connection needs no ROLLBACK): closing on the loop costs
            # less than a commit and a thread hop.
            session.close()
        else:
            await run_in_threadpool(_finish, session, True)
    finally:
        slots.release()
    return False  # an error goes on to the error handlers


def commit_in_route(session: Session) -> None:
    """Commit now, in the route's own thread, once its answer is built: `get_session` would
    commit in one more trip to the thread pool after the route returns, and a transaction that
    wrote holds its locks (SQLite: the database's one write lock) across that trip, which under
    load waits in the event loop's queue behind other requests. Only as a route's last step:
    the request is still one unit of work, and a failure here is still the request's error."""
    session.commit()


async def in_slot(request: Request, call: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
    """`call(...)`, a route's synchronous work, in the request slots' own threads.

    For an `async def` route that holds a session (so a slot) and whose work is synchronous: a
    plain `def` route runs in anyio's thread pool, whose hand-over costs the event loop more
    (`RequestSlots.run`), and whose threads are more threads to share the GIL with."""
    slots: RequestSlots = request.app.state.request_slots
    return await slots.run(call, *args, **kwargs)


async def write_in_slot(
    request: Request, session: Session, call: Callable[P, T], *args: P.args, **kwargs: P.kwargs
) -> T:
    """`call(...)`, a short write through `session`, then the commit (as `commit_in_route`: the
    request's last step), on the event loop when that stops no other request, else as `in_slot`.

    A slot's thread costs a short write more than its work: the hand-over, the thread's wake-up
    and its turns at the GIL the event loop holds, at every round trip to the database
    (bench/preference_write.py: a third of the process's CPU time in futex calls and context
    switches). So:

    - SQLite in WAL mode, a local file: once a connection holds the write lock, its work is CPU
      and page-cache I/O. When this process's write turn and SQLite's write lock are both free
      right now (`write_turns.begin_now`, which never waits), the call runs here holding them;
      otherwise (another request's write, an `accord worker` process's batch, a session already
      in a transaction) call and commit run in a slot's thread, which waits its turn as every
      writer does.
    - PostgreSQL: the call runs on the loop in a greenlet (`accord.core.loop_waits`), whose
      waits for the server, a row lock's too, are the loop's to serve other requests meanwhile.

    What runs after a commit (`accord.core.db.after_commit`: mail, SMS) talks to other servers,
    so a write that leaves such work commits in a thread. An error rolls back at once, so no
    lock is held across a trip to the thread pool."""
    bind = session.get_bind()
    if isinstance(bind, Engine):
        if bind.dialect.name == "sqlite":
            dbapi = session.connection().connection.dbapi_connection
            if write_turns.begin_now(bind, dbapi):
                note_write_locked(session)
                try:
                    result = call(*args, **kwargs)
                    if session.info.get("after_commit"):
                        await in_slot(request, commit_in_route, session)
                    else:
                        commit_in_route(session)
                    return result
                except BaseException:
                    session.rollback()
                    raise
        elif loop_waits.serves(bind):
            try:
                result = await loop_waits.run(
                    _commit_unless_after, session, partial(call, *args, **kwargs)
                )
                if session.in_transaction():  # it left work for after the commit
                    await in_slot(request, commit_in_route, session)
                return result
            except BaseException:
                await loop_waits.run(session.rollback)
                raise
    return await in_slot(request, _then_commit, session, partial(call, *args, **kwargs))


def _commit_unless_after(session: Session, call: Callable[[], T]) -> T:
    """`call()`, then the commit, unless it left work for after the commit (see
    `write_in_slot`)."""
    result = call()
    if not session.info.get("after_commit"):
        commit_in_route(session)
    return result


def _then_commit(session: Session, call: Callable[[], T]) -> T:
    result = call()
    commit_in_route(session)
    return result


def client_ip(request: Request) -> str | None:
    """The caller's IP as the ASGI server gives it (behind a proxy, run uvicorn with
    --proxy-headers and --forwarded-allow-ips so that this is the client's, not the proxy's)."""
    return request.client.host if request.client else None


def get_settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


# Commits before the response is sent, so a failed commit is an error response (get_session).
SessionDep = Annotated[Session, Depends(get_session)]
SettingsDep = Annotated[Settings, Depends(get_settings)]


# How callers authenticate, for the OpenAPI document (the dependencies read the request
# themselves and name these with `accord.core.web.openapi.declares_security`; as `Security`
# parameters they never refuse on their own).
API_KEY = HTTPBearer(
    auto_error=False,
    scheme_name="ApiKey",
    description="A brand's API key: `Authorization: Bearer acc_…`.",
)
SESSION_COOKIE = APIKeyCookie(
    name="accord_session",
    auto_error=False,
    scheme_name="Session",
    description="A signed-in person's or member's session cookie; writes also need the page's "
    "CSRF token in `X-CSRF-Token`.",
)
ApiKeyScheme = Annotated[object, Security(API_KEY)]
SessionScheme = Annotated[object, Security(SESSION_COOKIE)]
# Providers' callbacks, verified by a signature header the route checks itself.
TWILIO_SIGNATURE = APIKeyHeader(
    name="X-Twilio-Signature", auto_error=False, scheme_name="TwilioSignature"
)
WEBHOOK_SIGNATURE = APIKeyHeader(
    name="webhook-signature", auto_error=False, scheme_name="WebhookSignature"
)
TwilioSigned = [Security(TWILIO_SIGNATURE)]
WebhookSigned = [Security(WEBHOOK_SIGNATURE)]
