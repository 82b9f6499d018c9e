"""The delivery worker loop: resolve due campaigns, claim due messages, check, send, record.

Run any number of them (`accord worker`) against one PostgreSQL; in the embedded default
`accord serve` runs one in a thread.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import partial
from typing import Any

from sqlalchemy.orm import Session

from accord.campaigns import service as campaigns
from accord.core import write_turns
from accord.core.db import Database, utcnow
from accord.core.settings import Settings
from accord.delivery import claims, counters, dispatch, journal, rate
from accord.delivery.channels import Channels
from accord.delivery.outcomes import Outcome
from accord.webhooks import service as webhooks

log = logging.getLogger("accord.worker")
# One transaction per chunk: on PostgreSQL a withdrawal waits at most for this many hand-overs
# for the person's head lock. Each hand-over is written to the journal as it happens, so a crash
# re-sends at most the one message in flight (same Message-ID), whatever the chunk's size.
CHUNK = 100
# SQLite has one write lock and no queue. A chunk ends early when another connection waits for
# it, and before the next one the worker lets them in (`write_turns`), waiting at most this long.
SQLITE_TURN_TIMEOUT = 1.0
# Rate windows older than two minutes are dropped this often (they are one row per second).
FORGET_EVERY = timedelta(minutes=1)


@dataclass
class Worker:
    db: Database
    settings: Settings
    name: str = field(
        default_factory=lambda: f"{socket.gethostname()}-{os.getpid()}-{uuid.uuid4().hex[:6]}"
    )
    stop: threading.Event = field(default_factory=threading.Event)
    forget_at: datetime = field(init=False, default=datetime.min.replace(tzinfo=UTC))

    def __post_init__(self) -> None:
        self.channels = Channels(self.settings)
        self.turn = claims.Turn()  # brands take turns across claims too
        self.journal = journal.open_for(self.db.engine)
        self.sqlite = self.db.engine.dialect.name == "sqlite"
        # SQLite: a chunk ends early when another connection waits for the write lock.
        self.someone_waits = (
            partial(write_turns.someone_waits, self.db.engine) if self.sqlite else None
        )

    def schedule(self, now: datetime) -> int:
        with self.db.transaction() as session:
            due = campaigns.due(session, now)
        for campaign_id in due:
            with self.db.transaction() as session:
                campaigns.claim_and_resolve(session, campaign_id, now)
        return len(due)

    def write_rate(self, session: Session, act: Callable[..., Any], *args: Any) -> Any:
        """Take or give back the brand's send slots (`rate.take`, `rate.give_back`). On
        PostgreSQL in a transaction of their own: the window row stays locked for one UPDATE,
        not for the chunk's whole hand-over, so workers do not queue behind each other; slots
        of a chunk that then rolls back are lost, never overshot. SQLite's chunk already holds
        the single write lock, so there they stay inside it."""
        if self.sqlite:
            return act(session, *args)
        with self.db.transaction() as own:
            return act(own, *args)

    def claim(self, now: datetime) -> list[tuple[int, uuid.UUID]]:
        """One transaction: mark done the campaigns whose last rows settled in the previous
        run, drop old rate windows now and then, and claim a batch (after resolving any
        campaign that has become due)."""
        lease = timedelta(seconds=self.settings.worker_lease_seconds)
        batch = self.settings.worker_batch
        with self.db.transaction() as session:
            campaigns.finish_done(session)
            if now >= self.forget_at:
                rate.forget_old(session, now)
                self.forget_at = now + FORGET_EVERY
            if not campaigns.due(session, now):
                return counters.claim(
                    session, owner=self.name, now=now, limit=batch, lease=lease, turn=self.turn
                )
        self.schedule(now)
        with self.db.transaction() as session:
            return counters.claim(
                session, owner=self.name, now=now, limit=batch, lease=lease, turn=self.turn
            )

    def run_once(self, now: datetime | None = None) -> Outcome:
        pending = self.claim(now or utcnow())
        total = Outcome()
        try:
            while pending:
                if self.sqlite:
                    write_turns.let_waiters_in(self.db.engine, timeout=SQLITE_TURN_TIMEOUT)
                chunk, pending = pending[:CHUNK], pending[CHUNK:]
                with self.db.transaction() as session:
                    done, left, suppressions = dispatch.process(
                        session,
                        self.settings,
                        self.channels,
                        chunk,
                        now or utcnow(),
                        self.name,
                        self.write_rate,
                        self.someone_waits,
                        record=self.journal.record if self.journal else None,
                        journal=self.journal,
                    )
                if self.journal is not None:
                    self.journal.settled([row_id for row_id, _ in chunk])
                if suppressions:
                    with self.db.transaction() as session:
                        dispatch.suppress(session, self.settings, suppressions)
                pending = left + pending
                total.add(done)
        except BaseException:
            self.channels.close()  # a hand-over may be half done: no connection is reused
            if self.journal is not None:
                self.journal.close()
            self.release()
            raise
        if not total.total:  # idle: no connection is kept open meanwhile
            self.channels.close()
        return total

    def run_until_idle(self, now: datetime | None = None, *, rounds: int = 1000) -> Outcome:
        """Process what is due now, round after round, until a round finds nothing it can claim
        (`accord worker --once`, the demo's seeding). Rows another worker holds stay with it."""
        total = Outcome()
        for _ in range(rounds):
            done = self.run_once(now)
            if not done.total:
                break
            total.add(done)
        return total

    def release(self) -> None:
        """After a chunk that failed (a lost connection, a bug), this worker's rows may be
        claimed again at once, by it or another, rather than after their lease: the journal
        says which of them a channel took. Nothing is in flight any more."""
        try:
            with self.db.transaction() as session:
                claims.release(session, self.name, utcnow())
        except Exception:  # the database is still away: the leases run out instead
            log.warning("worker %s: could not release its leases", self.name, exc_info=True)

    def run(self, idle_seconds: float = 1.0) -> None:
        log.info("worker %s started", self.name)
        while not self.stop.is_set():
            try:
                outcome = self.run_once()
            except Exception:  # a bad batch must not kill the loop; it is retried after its lease
                log.exception("worker %s: batch failed", self.name)
                outcome = Outcome()
            try:
                hooks = webhooks.run_once(self.db, self.settings, self.name)
            except Exception:  # the same for a batch of webhook deliveries
                log.exception("worker %s: webhook batch failed", self.name)
                hooks = 0
            if not outcome.total and not hooks:
                self.stop.wait(idle_seconds)
        self.channels.close()

    def start_thread(self) -> threading.Thread:
        thread = threading.Thread(target=self.run, name="accord-worker", daemon=True)
        thread.start()
        return thread


def run_forever(settings: Settings, *, idle_seconds: float = 1.0) -> None:
    worker = Worker(Database.from_settings(settings), settings)
    try:
        worker.run(idle_seconds)
    except KeyboardInterrupt:
        worker.stop.set()
