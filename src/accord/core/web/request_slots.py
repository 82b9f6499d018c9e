"""Admission of requests that use the database: at most N at once per web process.

The engine's pool never makes anyone wait (`accord.core.db.make_engine`), so without a bound a
burst of requests would open a connection each (PostgreSQL refuses clients past
`max_connections`). Requests past the bound wait here, on the event loop, in arrival order;
waiting for a connection in a thread or on the loop instead could deadlock the process."""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import queue
import threading
import weakref
from collections.abc import Callable
from types import TracebackType
from typing import Any, ParamSpec, TypeVar

P = ParamSpec("P")
T = TypeVar("T")
# A call handed to the threads: the loop to answer on, its future, the context to run in.
_Call = tuple[
    asyncio.AbstractEventLoop,
    "asyncio.Future[Any]",
    contextvars.Context,
    Callable[..., Any],
    tuple[Any, ...],
    dict[str, Any],
]


class _Threads:
    """`size` threads that run the calls handed to them, each answer given back to the event
    loop that asked. A queue and a future of the loop's own per call: `ThreadPoolExecutor` with
    `run_in_executor` wraps each call in two futures chained by callbacks, a work item and a
    condition-guarded queue, about three times the event loop's time per round trip."""

    def __init__(self, size: int) -> None:
        self._calls: queue.SimpleQueue[_Call | None] = queue.SimpleQueue()
        for number in range(size):
            # The threads hold the queue, not this object, so that when its app is gone (a
            # test makes hundreds) the finalizer below ends them, as a collected
            # ThreadPoolExecutor's threads end.
            thread = threading.Thread(
                target=_serve, args=(self._calls,), name=f"accord-db_{number}", daemon=True
            )
            thread.start()
        weakref.finalize(self, _stop, self._calls, size)

    def put(self, call: _Call) -> None:
        self._calls.put(call)


def _stop(calls: queue.SimpleQueue[_Call | None], size: int) -> None:
    for _ in range(size):
        calls.put(None)


def _serve(calls: queue.SimpleQueue[_Call | None]) -> None:
    while True:
        handed = calls.get()
        if handed is None:
            return
        loop, answer, context, call, args, kwargs = handed
        result: Any = None
        try:
            result = context.run(call, *args, **kwargs)
        except BaseException as exc:  # handed to the caller, as a thread pool would
            _give(loop, _failed, answer, exc)
        else:
            _give(loop, _succeeded, answer, result)
        del handed, loop, answer, context, call, args, kwargs, result  # nothing kept till next


def _give(loop: asyncio.AbstractEventLoop, how: Callable[..., None], *args: Any) -> None:
    # A loop that has closed (a test client's) has nobody waiting any more.
    with contextlib.suppress(RuntimeError):
        loop.call_soon_threadsafe(how, *args)


def _succeeded(answer: asyncio.Future[Any], result: Any) -> None:
    if not answer.done():
        answer.set_result(result)


def _failed(answer: asyncio.Future[Any], exc: BaseException) -> None:
    if not answer.done():
        answer.set_exception(exc)


class RequestSlots:
    def __init__(self, size: int) -> None:
        self.size = size
        # One semaphore per event loop: a test client runs its own loop, and an asyncio
        # semaphore belongs to the loop it first waited on.
        self._by_loop: dict[asyncio.AbstractEventLoop, asyncio.Semaphore] = {}
        # One thread per slot for a request's round trips (`run`); made on first use.
        self._threads: _Threads | None = None

    async def run(self, call: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
        """`call(...)` in one of the slots' own threads, for a request holding a slot.

        Cheaper than anyio's thread pool (`run_in_threadpool`) or `run_in_executor` by a few
        tens of microseconds of the loop's time per trip (`_Threads`; bench/api_overhead.py).
        Like them, the caller waits for the call to finish even when cancelled: the thread may
        be using the request's session."""
        threads = self._threads
        if threads is None:
            threads = self._threads = _Threads(self.size)
        loop = asyncio.get_running_loop()
        answer: asyncio.Future[T] = loop.create_future()
        threads.put((loop, answer, contextvars.copy_context(), call, args, kwargs))
        try:
            return await asyncio.shield(answer)
        except asyncio.CancelledError:
            while not answer.done():
                try:
                    await asyncio.shield(answer)
                except asyncio.CancelledError:
                    continue
            raise

    def _semaphore(self) -> asyncio.Semaphore:
        loop = asyncio.get_running_loop()
        semaphore = self._by_loop.get(loop)
        if semaphore is None:
            for stale in [other for other in self._by_loop if other.is_closed()]:
                del self._by_loop[stale]
            semaphore = self._by_loop[loop] = asyncio.Semaphore(self.size)
        return semaphore

    async def acquire(self) -> None:
        await self._semaphore().acquire()

    def release(self) -> None:
        self._semaphore().release()

    async def __aenter__(self) -> None:
        await self._semaphore().acquire()

    async def __aexit__(
        self,
        _type: type[BaseException] | None,
        _value: BaseException | None,
        _traceback: TracebackType | None,
    ) -> None:
        self._semaphore().release()
