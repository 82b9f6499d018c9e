"""What `write_in_slot` must do on either database (tests/core/test_loop_writes.py for SQLite,
tests/core/test_loop_waits.py for PostgreSQL): the parts both files share."""

from __future__ import annotations

import asyncio
import threading
from types import SimpleNamespace
from typing import Any

from sqlalchemy import func, select, text
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from accord.consent.models import LedgerEvent
from accord.core.db import Database, after_commit
from accord.core.web.deps import write_in_slot
from accord.core.web.request_slots import RequestSlots


def slot_request() -> Any:
    """A request as `write_in_slot` sees it: its app's request slots, nothing more."""
    return SimpleNamespace(app=SimpleNamespace(state=SimpleNamespace(
        request_slots=RequestSlots(2)
    )))  # fmt: skip


def ledger_events(engine: Engine) -> int:
    with engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(LedgerEvent)).scalar_one())


def check_after_commit_work_runs_in_a_thread(engine: Engine, first: int) -> None:
    """Two writes into table `t` (rows `first` and `first + 1`), the second leaving mail for
    after its commit: both write on the loop, the second's commit and mail run in a thread."""
    db = Database(engine)
    request = slot_request()
    ran: dict[str, int] = {}

    def write(session: Session, n: int, *, mail: bool) -> int:
        session.execute(text("INSERT INTO t VALUES (:n)"), {"n": n})
        if mail:
            after_commit(session, lambda: ran.setdefault(f"mail {n}", threading.get_ident()))
        ran[f"write {n}"] = threading.get_ident()
        return n

    async def scenario() -> int:
        for n, mail in ((first, False), (first + 1, True)):
            with db.session() as session:
                assert await write_in_slot(request, session, write, session, n, mail=mail) == n
        return threading.get_ident()

    loop_thread = asyncio.run(scenario())
    assert ran[f"write {first}"] == ran[f"write {first + 1}"] == loop_thread  # both on the loop
    assert ran[f"mail {first + 1}"] != loop_thread  # the commit, and what follows it, in a thread
    with engine.connect() as conn:
        found = conn.execute(text("SELECT n FROM t WHERE n >= :first"), {"first": first})
        assert sorted(row.n for row in found) == [first, first + 1]
