"""Many concurrent requests on a real connection pool: every one is answered, none deadlocks,
and the web process never holds more connections than its database slots."""

from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import event

from accord.app import create_app
from accord.core import migrate
from accord.core.db import Database
from accord.core.settings import Settings
from accord.core.web.request_slots import RequestSlots
from tests.builders import TEST_SECRET, make_api_key, make_brand
from tests.databases import fresh_engine

SLOTS = 3
CONCURRENT = 60  # far past the slots and past the pool's own size


@pytest.mark.parametrize("backend", ["sqlite", "postgres"])
def test_a_burst_past_the_pool_is_served_in_turn(tmp_path: Path, backend: str) -> None:
    engine = fresh_engine(backend, tmp_path, "slots")
    try:
        migrate.upgrade(engine)
        db = Database(engine)
        with db.transaction() as session:
            _, secret = make_api_key(session, brand=make_brand(session))
        held = {"now": 0, "most": 0}

        @event.listens_for(engine, "checkout")
        def checked_out(*_: Any) -> None:
            held["now"] += 1
            held["most"] = max(held["most"], held["now"])

        @event.listens_for(engine, "checkin")
        def checked_in(*_: Any) -> None:
            held["now"] -= 1

        settings = Settings(
            var_dir=tmp_path / "var",
            database_url=engine.url.render_as_string(hide_password=False),
            secret_key=TEST_SECRET,  # type: ignore[arg-type]
            db_connections=SLOTS,
            worker_in_process=False,
        )
        app = create_app(settings, database=db)
        # A loop of its own in a thread of its own: a test before this one in the same process
        # (the browser's) may have left this thread's loop running.
        with ThreadPoolExecutor(max_workers=1) as runner:
            statuses = runner.submit(asyncio.run, _burst(app, secret)).result()
        app.state.loop_reads.close()  # no lifespan ran (the transport sends none)
        assert statuses == [200] * CONCURRENT
        assert 1 <= held["most"] <= SLOTS
    finally:
        engine.dispose()


async def _burst(app: Any, secret: str) -> list[int]:
    transport = httpx.ASGITransport(app=app)
    headers = {"Authorization": f"Bearer {secret}"}
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        answers = await asyncio.gather(
            *(client.get("/api/v1/brand", headers=headers) for _ in range(CONCURRENT))
        )
    return [answer.status_code for answer in answers]


def test_a_round_trip_in_the_slots_threads_is_waited_for_even_when_cancelled() -> None:
    """The thread may be using the request's session: nothing may close it under the thread."""
    import threading

    slots = RequestSlots(2)
    release = threading.Event()
    finished: list[str] = []

    def slow() -> str:
        release.wait(timeout=30)
        finished.append("done")
        return "answer"

    async def scenario() -> None:
        assert await slots.run(lambda a, b: a + b, 2, b=3) == 5
        task = asyncio.create_task(slots.run(slow))
        await asyncio.sleep(0)
        task.cancel()
        await asyncio.sleep(0)
        assert not task.done()  # still waiting for the thread
        release.set()
        with pytest.raises(asyncio.CancelledError):
            await task
        assert finished == ["done"]

    with ThreadPoolExecutor(max_workers=1) as runner:
        runner.submit(asyncio.run, scenario()).result()


def test_the_slots_threads_end_when_their_slots_are_gone() -> None:
    import gc
    import threading

    from accord.core.web.request_slots import RequestSlots

    def ours() -> set[threading.Thread]:
        return {t for t in threading.enumerate() if t.name.startswith("accord-db_")}

    before = ours()
    slots = RequestSlots(3)

    async def use(on: RequestSlots) -> int:
        return await on.run(lambda n: n + 1, 1)

    assert asyncio.run(use(slots)) == 2
    started = ours() - before
    assert len(started) == 3
    del slots
    gc.collect()
    for thread in started:
        thread.join(timeout=10)
    assert not any(thread.is_alive() for thread in started)
