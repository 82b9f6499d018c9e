"""Crash safety: worker processes are killed with SIGKILL at 20 random points of a campaign (each
after a random number more messages went out); afterwards every eligible person has exactly one
message and none is lost."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
from collections import defaultdict
from functools import partial
from pathlib import Path

import pytest
from sqlalchemy import func, select

from accord.campaigns import service as campaigns
from accord.campaigns.schemas import CampaignCreate
from accord.core import migrate
from accord.core.db import Database
from accord.outbox.models import OutboxMessage
from tests.builders import make_brand, make_topic
from tests.campaigns.world import consenting_audience
from tests.databases import fresh_engine
from tests.smtp_sink import smtp_sink
from tests.waiting import wait_until

AUDIENCE = 1500
KILLS = 20


def start_worker(env: dict[str, str]) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "accord", "worker", "--idle", "0.05"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def sent_at_least(db: Database, count: int) -> int:
    """The number of messages sent, once it is at least `count` (else 0)."""
    with db.session() as session:
        sent = session.scalar(select(func.count()).where(OutboxMessage.state == "sent")) or 0
    return sent if sent >= count else 0


@pytest.mark.parametrize(("backend", "workers"), [("sqlite", 1), ("postgres", 2)])
def test_killed_workers_lose_nothing_and_send_once(
    backend: str, workers: int, tmp_path: Path
) -> None:
    engine = fresh_engine(backend, tmp_path, "kill")
    try:
        migrate.upgrade(engine)
        db = Database(engine)
        with db.transaction() as session:
            brand = make_brand(session)
            # Slow enough (at least 10 s for the audience) that the kills land mid-campaign
            # on an idle machine too, rather than after a campaign that already finished.
            brand.send_rate_per_second = 150
            topic = make_topic(session, brand=brand)
            people = consenting_audience(
                session, brand=brand, topic=topic, count=AUDIENCE, domain="kill.example"
            )
            campaign = campaigns.create(
                session,
                brand.id,
                CampaignCreate(name="Kill", topic_id=topic.id, subject="Hi", text="Hello"),
                member_id=None,
            )
            campaigns.send(session, campaign)
        rng = random.Random(20)
        with smtp_sink() as sink:
            env = {
                **os.environ,
                "ACCORD_DATABASE_URL": engine.url.render_as_string(hide_password=False),
                "ACCORD_SECRET_KEY": "kill-test-secret",
                "ACCORD_VAR_DIR": str(tmp_path / "var"),
                "ACCORD_EMAIL_BACKEND": "smtp",
                "ACCORD_SMTP_HOST": sink.host,
                "ACCORD_SMTP_PORT": str(sink.port),
                "ACCORD_WORKER_LEASE_SECONDS": "5",
                "ACCORD_WORKER_BATCH": "40",
            }
            running = [start_worker(env) for _ in range(workers)]
            kills, target = 0, 0
            while kills < KILLS:
                # The next kill lands once a random number more messages went out: mid-campaign,
                # with the workers (the one just started too) sending, however fast the machine.
                target += rng.randint(5, 40)
                sent = wait_until(
                    partial(sent_at_least, db, min(target, AUDIENCE)),
                    timeout=300,
                    what=f"{target} messages sent",
                )
                if sent >= AUDIENCE:
                    break  # finished before every kill: the assertion below says so
                victim = running.pop(rng.randrange(len(running)))
                victim.send_signal(signal.SIGKILL)
                victim.wait()
                kills += 1
                running.append(start_worker(env))
            wait_until(partial(sent_at_least, db, AUDIENCE), timeout=600, what="every message sent")
            for proc in running:
                proc.terminate()
                proc.wait(timeout=30)
            received = list(sink.messages)
        assert kills == KILLS
        ids_per_person: dict[str, set[str]] = defaultdict(set)
        for message in received:
            ids_per_person[message["To"]].add(message["Message-ID"])
        addresses = {address for _, address in people}
        assert set(ids_per_person) == addresses, f"lost: {len(addresses - set(ids_per_person))}"
        assert all(len(ids) == 1 for ids in ids_per_person.values()), (
            "two different messages to one person"
        )
        duplicates = len(received) - AUDIENCE
        # Each hand-over is journaled before the next: a kill re-sends at most its one message.
        assert duplicates <= kills, f"{duplicates} copies re-sent for {kills} kills"
        print(
            f"{backend}: {kills} kills, {duplicates} re-sent copies (same Message-ID, deduplicated)"
        )
    finally:
        engine.dispose()
