"""Faults during a campaign (issue 17, part 9), with worker processes against a real SMTP server:
each message the server took is recorded before the next one is handed over (the hand-over
journal), so

(a) a worker killed right after the server accepted a message, before the database recorded it
    (a sink that kills the worker on DATA), re-sends at most that one message, with the same
    Message-ID, and the report counts one message per person;
(b) on PostgreSQL, the worker's connections terminated several times mid-campaign: it reconnects,
    nothing is lost and nothing is sent twice;
(c) the SMTP server down mid-campaign (a few seconds here; the same path as 30 s): everything
    arrives once after it is back.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import func, select, text

from accord.campaigns import report
from accord.campaigns import service as campaigns
from accord.campaigns.models import Campaign
from accord.campaigns.schemas import CampaignCreate
from accord.core import migrate
from accord.core.db import Database
from accord.outbox.models import OutboxMessage
from tests.builders import make_brand, make_topic
from tests.campaigns.world import consenting_audience
from tests.databases import fresh_engine
from tests.smtp_sink import Sink, free_port
from tests.waiting import wait_until

WORKER_APP = "accord-fault-worker"


@dataclass
class World:
    db: Database
    campaign_id: Any
    addresses: set[str]


def world(backend: str, tmp_path: Path, name: str, audience: int, rate: int) -> World:
    engine = fresh_engine(backend, tmp_path, name)
    migrate.upgrade(engine)
    db = Database(engine)
    with db.transaction() as session:
        brand = make_brand(session)
        brand.send_rate_per_second = rate
        topic = make_topic(session, brand=brand)
        people = consenting_audience(
            session, brand=brand, topic=topic, count=audience, domain=f"{name}.example"
        )
        campaign = campaigns.create(
            session,
            brand.id,
            CampaignCreate(name=name, topic_id=topic.id, subject="Hi", text="Hello"),
            member_id=None,
        )
        campaigns.send(session, campaign)
    return World(db, campaign.id, {address for _, address in people})


def worker_env(db: Database, sink: Sink, tmp_path: Path) -> dict[str, str]:
    return {
        **os.environ,
        "ACCORD_DATABASE_URL": db.engine.url.render_as_string(hide_password=False),
        "ACCORD_SECRET_KEY": "fault-test-secret",
        "ACCORD_VAR_DIR": str(tmp_path / "var"),
        "ACCORD_EMAIL_BACKEND": "smtp",
        "ACCORD_SMTP_HOST": sink.host,
        "ACCORD_SMTP_PORT": str(sink.port),
        "ACCORD_WORKER_LEASE_SECONDS": "5",
        "ACCORD_WORKER_BATCH": "100",
        "PGAPPNAME": WORKER_APP,  # its connections, for pg_terminate_backend
    }


def start_worker(env: dict[str, str]) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "accord", "worker", "--idle", "0.05"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def settled(db: Database, audience: int) -> bool:
    """Every row of the campaign has left the queue (sent, or settled otherwise)."""
    with db.session() as session:
        total = session.scalar(select(func.count()).select_from(OutboxMessage))
        open_rows = session.scalar(
            select(func.count()).where(OutboxMessage.state.in_(("queued", "sending", "deferred")))
        )
    return total == audience and open_rows == 0


def received(sink: Sink, at_least: int) -> bool:
    with sink.lock:
        return len(sink.messages) >= at_least


@contextmanager
def serving(sink: Sink) -> Iterator[Controller]:
    controller = Controller(sink, hostname=sink.host, port=sink.port)
    controller.start()
    try:
        yield controller
    finally:
        controller.stop()


def check_once(w: World, sink: Sink, *, resent_at_most: int) -> None:
    """Everyone got their one message (one Message-ID each); at most `resent_at_most` copies of
    one again; the report counts one message per person."""
    with sink.lock:
        messages = list(sink.messages)
    ids: dict[str, set[str]] = {}
    for message in messages:
        ids.setdefault(str(message["To"]), set()).add(str(message["Message-ID"]))
    assert set(ids) == w.addresses, f"lost: {len(w.addresses - set(ids))}"
    assert all(len(found) == 1 for found in ids.values()), "two different messages to one person"
    copies = Counter(str(m["Message-ID"]) for m in messages)
    resent = sum(n - 1 for n in copies.values())
    assert resent <= resent_at_most, f"{resent} copies re-sent"
    with w.db.session() as session:
        built = report.build(session, session.get_one(Campaign, w.campaign_id))
    assert built.states["sent"] == len(w.addresses) == built.audience["eligible"]


class KillingSink(Sink):
    """Takes each message; on the `kill_at`-th, kills the worker before answering 250."""

    kill_at: int = 0
    victim: subprocess.Popen[bytes] | None = None
    killed: threading.Event

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        answer = await super().handle_DATA(server, session, envelope)
        with self.lock:
            count = len(self.messages)
        if count == self.kill_at and self.victim is not None:
            self.victim.send_signal(signal.SIGKILL)
            self.killed.set()
        return answer


@pytest.mark.parametrize("backend", ["sqlite", "postgres"])
def test_a_worker_killed_on_data_resends_at_most_that_message(backend: str, tmp_path: Path) -> None:
    audience = 300
    w = world(backend, tmp_path, "killdata", audience, rate=100_000)
    sink = KillingSink(port=free_port(), pipelining=True)
    sink.kill_at, sink.killed = 150, threading.Event()  # mid-chunk (chunks of 100)
    try:
        with serving(sink):
            env = worker_env(w.db, sink, tmp_path)
            sink.victim = start_worker(env)
            wait_until(sink.killed.is_set, timeout=300, what="the worker killed on DATA")
            sink.victim.wait()
            survivor = start_worker(env)
            wait_until(partial(settled, w.db, audience), timeout=300, what="the campaign sent")
            survivor.terminate()
            survivor.wait(timeout=30)
        check_once(w, sink, resent_at_most=1)
    finally:
        w.db.engine.dispose()


def terminate_workers(db: Database) -> int:
    with db.engine.connect() as connection:
        ended = connection.execute(
            text(
                "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                "WHERE application_name = :app AND datname = current_database()"
            ),
            {"app": WORKER_APP},
        ).scalar_one()
    return int(ended)


def test_terminated_connections_lose_nothing_and_send_nothing_twice(tmp_path: Path) -> None:
    audience = 600
    w = world("postgres", tmp_path, "terminate", audience, rate=200)  # about 3 s of sending
    sink = Sink(port=free_port(), pipelining=True)
    try:
        with serving(sink):
            worker = start_worker(worker_env(w.db, sink, tmp_path))
            terminated = 0
            for share in (0.15, 0.35, 0.55, 0.75):
                wait_until(
                    partial(received, sink, int(audience * share)),
                    timeout=300,
                    what=f"{share:.0%} of the campaign received",
                )
                terminated += terminate_workers(w.db)
            wait_until(partial(settled, w.db, audience), timeout=300, what="the campaign sent")
            assert worker.poll() is None, "the worker died instead of reconnecting"
            worker.terminate()
            worker.wait(timeout=30)
        assert terminated >= 4
        check_once(w, sink, resent_at_most=0)
    finally:
        w.db.engine.dispose()


@pytest.mark.parametrize("backend", ["sqlite", "postgres"])
def test_an_smtp_outage_mid_campaign_delays_but_everything_arrives_once(
    backend: str, tmp_path: Path
) -> None:
    audience = 300
    w = world(backend, tmp_path, "outage", audience, rate=150)  # about 2 s of sending
    sink = Sink(port=free_port(), pipelining=True)
    try:
        controller = Controller(sink, hostname=sink.host, port=sink.port)
        controller.start()
        worker = start_worker(worker_env(w.db, sink, tmp_path))
        wait_until(partial(received, sink, audience // 3), timeout=300, what="a third")
        controller.stop()  # the server goes away mid-campaign
        wait_until(partial(refused, w.db), timeout=120, what="the worker to meet the outage")
        with serving(sink):
            wait_until(partial(settled, w.db, audience), timeout=300, what="the campaign sent")
            worker.terminate()
            worker.wait(timeout=30)
        check_once(w, sink, resent_at_most=1)
    finally:
        w.db.engine.dispose()


def refused(db: Database) -> bool:
    """The worker tried during the outage: rows wait with the connection's error on them."""
    with db.session() as session:
        return bool(
            session.scalar(
                select(func.count()).where(
                    OutboxMessage.state == "queued", OutboxMessage.last_error.is_not(None)
                )
            )
        )
