"""Synchronous database work run on the event loop, its waits for PostgreSQL the loop's.

A short write through the request's session (a preference change: bench/preference_write.py)
ran in a request slot's thread: the hand-over, and at every round trip the thread's wake-up and
its wait for the GIL the event loop holds, cost the process more than the write's own work (a
third of its CPU time in futex calls and context switches). `run` runs such synchronous code on
the event loop instead, in a greenlet: where psycopg would block for the server's answer, the
greenlet hands the socket to the loop and steps aside, and the loop serves other requests until
the answer is there. It is the same code (the Session, `core.direct`, psycopg's cursors) in the
same transaction; only where it waits changes. A row lock a statement waits for is a longer wait
for this greenlet, never for the loop.

The connections of an engine given to `install` (every PostgreSQL engine `core.db.make_engine`
makes) are `LoopWaitConnection`s, whose waits go to the loop inside `run` and block, as
psycopg's own do, anywhere else. Opening a connection still blocks (the pool opens one when
all it holds are in use: while a process warms up).
"""

from __future__ import annotations

import asyncio
import contextvars
import weakref
from collections.abc import Callable
from functools import partial
from typing import Any, ParamSpec, TypeVar

import greenlet
import psycopg
from psycopg.abc import PQGen
from psycopg.waiting import Ready, Wait
from sqlalchemy import event
from sqlalchemy.engine import Engine

P = ParamSpec("P")
T = TypeVar("T")


class _OnLoop(greenlet.greenlet):  # type: ignore[misc]  # greenlet ships no type hints
    """A call `run` runs on the event loop: what it waits for, it hands to the loop."""


async def run(call: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
    """`call(...)` on the event loop, its PostgreSQL waits awaited on the loop meanwhile.

    As `RequestSlots.run`, it runs in a copy of the caller's context, and the caller waits for
    the call to finish even when cancelled: a cancellation stops no statement half way (the
    connection would be left mid-answer); it is raised once the call is done."""
    child = _OnLoop(partial(call, *args, **kwargs))
    child.gr_context = contextvars.copy_context()
    waiting: Any = child.switch()
    cancelled: asyncio.CancelledError | None = None
    while not child.dead:
        try:
            await asyncio.shield(waiting)
        except asyncio.CancelledError as exc:
            cancelled = exc
            if not waiting.done():
                continue
        waiting = child.switch()
    if cancelled is not None:
        raise cancelled
    result: T = waiting
    return result


def _drive(gen: PQGen[T], fileno: int, me: _OnLoop) -> T:
    """Run psycopg's generator as its own `wait` does, each wait for the socket awaited by the
    loop (`run`) while this greenlet steps aside."""
    loop = asyncio.get_running_loop()
    try:
        wait = next(gen)
        while True:
            ready: asyncio.Future[Ready] = loop.create_future()
            if wait & Wait.R:
                loop.add_reader(fileno, _wake, ready, Ready.R)
            if wait & Wait.W:
                loop.add_writer(fileno, _wake, ready, Ready.W)
            try:
                me.parent.switch(ready)
            finally:
                if wait & Wait.R:
                    loop.remove_reader(fileno)
                if wait & Wait.W:
                    loop.remove_writer(fileno)
            wait = gen.send(ready.result())
    except StopIteration as done:
        result: T = done.value
        return result


def _wake(ready: asyncio.Future[Ready], state: Ready) -> None:
    if not ready.done():  # the socket may signal again before it is let go
        ready.set_result(state)


class LoopWaitConnection(psycopg.Connection[Any]):
    """psycopg's connection, whose waits inside `run` go to the event loop."""

    def wait(self, gen: PQGen[T], *args: Any, **kwargs: Any) -> T:
        me = greenlet.getcurrent()
        if type(me) is not _OnLoop or args or kwargs:  # a wait with a time limit: psycopg's own
            return super().wait(gen, *args, **kwargs)
        return _drive(gen, self.pgconn.socket, me)


_SERVED: weakref.WeakSet[Engine] = weakref.WeakSet()


def install(engine: Engine) -> None:
    """Open `engine`'s connections as `LoopWaitConnection`s (psycopg's engines only)."""
    if engine.dialect.driver != "psycopg":
        return

    @event.listens_for(engine, "do_connect")
    def _connect(_dialect: Any, _record: Any, cargs: Any, cparams: Any) -> Any:
        return LoopWaitConnection.connect(*cargs, **cparams)

    _SERVED.add(engine)


def serves(engine: Engine) -> bool:
    """Do `engine`'s connections wait on the loop inside `run`?"""
    return engine in _SERVED
