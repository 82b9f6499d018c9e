"""Crash safety: worker processes are killed with SIGKILL at 20 random points of a campaign (each
after a random number more messages went out) while people withdraw; afterwards nothing reached
anyone after their withdrawal committed, every other person has exactly one message (one
Message-ID), none is lost, and each kill re-sent at most one message (issue 17, part 9 (d))."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from collections import defaultdict
from functools import partial
from pathlib import Path

import pytest
from sqlalchemy import func, select

from accord.campaigns import service as campaigns
from accord.campaigns.schemas import CampaignCreate
from accord.consent.ledger import Scope
from accord.core import migrate
from accord.core.db import Database
from accord.outbox.models import OutboxMessage
from accord.relationships import decisions
from accord.relationships.vocabulary import Source
from tests.builders import make_brand, make_topic
from tests.campaigns.world import consenting_audience
from tests.databases import fresh_engine
from tests.smtp_sink import smtp_sink
from tests.waiting import wait_until

AUDIENCE = 1500
KILLS = 20
WITHDRAWING = 40  # two before each kill


def start_worker(env: dict[str, str]) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "accord", "worker", "--idle", "0.05"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def settled(db: Database) -> bool:
    """Every row of the campaign has left the queue (sent, or skipped after a withdrawal)."""
    with db.session() as session:
        total = session.scalar(select(func.count()).select_from(OutboxMessage))
        waiting = session.scalar(
            select(func.count()).where(OutboxMessage.state.in_(("queued", "sending", "deferred")))
        )
    return total == AUDIENCE and waiting == 0


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
        withdrawers = rng.sample(people, WITHDRAWING)
        committed_at: dict[str, float] = {}
        received_at: dict[str, list[float]] = defaultdict(list)
        with smtp_sink() as sink:
            original = sink.handle_DATA

            async def timed(server, session, envelope):  # type: ignore[no-untyped-def]
                answer = await original(server, session, envelope)
                for rcpt in envelope.rcpt_tos:
                    received_at[rcpt].append(time.monotonic())
                return answer

            sink.handle_DATA = timed  # type: ignore[method-assign]
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
                if sent >= AUDIENCE - WITHDRAWING:
                    break  # finished before every kill: the assertion below says so
                for person_id, address in withdrawers[2 * kills : 2 * kills + 2]:
                    with db.transaction() as session:
                        decisions.withdraw(
                            session,
                            person_id,
                            brand.id,
                            Scope(purpose="marketing"),
                            Source.one_click,
                        )
                    committed_at[address] = time.monotonic()
                victim = running.pop(rng.randrange(len(running)))
                victim.send_signal(signal.SIGKILL)
                victim.wait()
                kills += 1
                running.append(start_worker(env))
            wait_until(partial(settled, db), timeout=600, what="every message settled")
            for proc in running:
                proc.terminate()
                proc.wait(timeout=30)
            received = list(sink.messages)
        assert kills == KILLS
        ids_per_person: dict[str, set[str]] = defaultdict(set)
        for message in received:
            ids_per_person[message["To"]].add(message["Message-ID"])
        late = [a for a, at in committed_at.items() if any(t > at for t in received_at[a])]
        assert late == [], f"sent after the withdrawal committed: {late[:5]}"
        addresses = {address for _, address in people}
        staying = addresses - set(committed_at)
        assert set(ids_per_person) <= addresses
        assert len(committed_at) == 2 * KILLS
        stopped = [a for a in committed_at if a not in ids_per_person]
        assert stopped, "no withdrawal came before its message: the test proved nothing"
        assert staying <= set(ids_per_person), f"lost: {len(staying - set(ids_per_person))}"
        assert all(len(ids) == 1 for ids in ids_per_person.values()), (
            "two different messages to one person"
        )
        duplicates = len(received) - len(ids_per_person)
        # Each hand-over is journaled before the next: a kill re-sends at most its one message.
        assert duplicates <= kills, f"{duplicates} copies re-sent for {kills} kills"
        print(
            f"{backend}: {kills} kills, {duplicates} re-sent copies (same Message-ID, deduplicated)"
        )
    finally:
        engine.dispose()
