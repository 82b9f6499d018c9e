"""Admission of requests that use the database: at most N at once per web process.

The engine's pool never makes anyone wait (`accord.core.db.make_engine`), so without a bound a
burst of requests would open a connection each (PostgreSQL refuses clients past
`max_connections`). Requests past the bound wait here, on the event loop, in arrival order;
waiting for a connection in a thread or on the loop instead could deadlock the process."""

from __future__ import annotations

import asyncio
import contextvars
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from types import TracebackType
from typing import ParamSpec, TypeVar

P = ParamSpec("P")
T = TypeVar("T")


class RequestSlots:
    def __init__(self, size: int) -> None:
        self.size = size
        # One semaphore per event loop: a test client runs its own loop, and an asyncio
        # semaphore belongs to the loop it first waited on.
        self._by_loop: dict[asyncio.AbstractEventLoop, asyncio.Semaphore] = {}
        # One thread per slot for a request's round trips (`run`); made on first use.
        self._threads: ThreadPoolExecutor | None = None

    async def run(self, call: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
        """`call(...)` in one of the slots' own threads, for a request holding a slot.

        Cheaper than anyio's thread pool (`run_in_threadpool`) by a few tens of microseconds
        of the loop's time per trip, most of it waking the thread (bench/api_overhead.py).
        Like it, the caller waits for the call to finish even when cancelled: the thread may
        be using the request's session."""
        if self._threads is None:
            self._threads = ThreadPoolExecutor(self.size, thread_name_prefix="accord-db")
        context = contextvars.copy_context()
        future = asyncio.get_running_loop().run_in_executor(
            self._threads, lambda: context.run(call, *args, **kwargs)
        )
        try:
            return await asyncio.shield(future)
        except asyncio.CancelledError:
            while not future.done():
                try:
                    await asyncio.shield(future)
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
