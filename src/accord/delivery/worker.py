"""The delivery worker loop: resolve due campaigns, claim due messages, check, send, record.

Run any number of them (`accord worker`) against one PostgreSQL; in the embedded default
`accord serve` runs one in a thread.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from accord.campaigns import service as campaigns
from accord.core.db import Database, utcnow
from accord.core.settings import Settings
from accord.delivery import claims, dispatch, email_channel, rate
from accord.delivery.dispatch import Outcome

log = logging.getLogger("accord.worker")
# Small transactions: a crash re-sends at most this many messages (same Message-ID), and a
# withdrawal waits at most this long for the head lock.
CHUNK = 20
# SQLite has one writer and its lock is not fair: a worker that re-takes it at once can starve a
# person's withdrawal. Between chunks the worker leaves it free for longer than SQLite's busy
# handler sleeps, so waiting writers get in.
SQLITE_CHUNK = 10
SQLITE_YIELD = 0.03


@dataclass
class Worker:
    db: Database
    settings: Settings
    name: str = field(
        default_factory=lambda: f"{socket.gethostname()}-{os.getpid()}-{uuid.uuid4().hex[:6]}"
    )
    stop: threading.Event = field(default_factory=threading.Event)

    def __post_init__(self) -> None:
        self.sender = email_channel.sender_for(self.settings)

    def schedule(self, now: datetime) -> int:
        with self.db.transaction() as session:
            due = campaigns.due(session, now)
        for campaign_id in due:
            with self.db.transaction() as session:
                campaigns.claim_and_resolve(session, campaign_id, now)
        return len(due)

    def run_once(self, now: datetime | None = None) -> Outcome:
        moment = now or utcnow()
        self.schedule(moment)
        lease = timedelta(seconds=self.settings.worker_lease_seconds)
        with self.db.transaction() as session:
            ids = claims.claim(
                session, owner=self.name, now=moment, limit=self.settings.worker_batch, lease=lease
            )
        total = Outcome()
        sqlite = self.db.engine.dialect.name == "sqlite"
        chunk = SQLITE_CHUNK if sqlite else CHUNK
        try:
            for start in range(0, len(ids), chunk):
                if sqlite and start:
                    time.sleep(SQLITE_YIELD)
                with self.db.transaction() as session:
                    done = dispatch.process(
                        session,
                        self.settings,
                        self.sender,
                        ids[start : start + chunk],
                        now or utcnow(),
                        self.name,
                    )
                for name in ("sent", "skipped", "deferred", "failed"):
                    setattr(total, name, getattr(total, name) + getattr(done, name))
        finally:
            self.sender.close()
        with self.db.transaction() as session:
            campaigns.finish_done(session)
            rate.forget_old(session, moment)
        return total

    def run(self, idle_seconds: float = 1.0) -> None:
        log.info("worker %s started", self.name)
        while not self.stop.is_set():
            try:
                outcome = self.run_once()
            except Exception:  # a bad batch must not kill the loop; it is retried after its lease
                log.exception("worker %s: batch failed", self.name)
                outcome = Outcome()
            if outcome.sent + outcome.skipped + outcome.deferred + outcome.failed == 0:
                self.stop.wait(idle_seconds)

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


def drain(worker: Worker, *, now: datetime | None = None, rounds: int = 1000) -> Outcome:
    """Run until nothing is due (tests, demo seeding)."""
    total = Outcome()
    for _ in range(rounds):
        done = worker.run_once(now)
        for name in ("sent", "skipped", "deferred", "failed"):
            setattr(total, name, getattr(total, name) + getattr(done, name))
        if done.sent + done.skipped + done.deferred + done.failed == 0:
            with worker.db.session() as session:
                from sqlalchemy import func, select

                from accord.outbox.models import OutboxMessage

                left = session.scalar(
                    select(func.count()).where(
                        OutboxMessage.state.in_(("queued", "sending")),
                        OutboxMessage.not_before <= (now or utcnow()),
                    )
                )
            if not left:
                break
            time.sleep(0.05)
    return total
