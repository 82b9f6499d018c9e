"""Opt-out takes effect at commit: 100 of 10,000 people withdraw while their campaign sends.
Nothing reaches any of them after their withdrawal committed; everyone else gets exactly one."""

from __future__ import annotations

import random
import threading
import time
from collections import Counter
from pathlib import Path

import pytest

from accord.campaigns import service as campaigns
from accord.campaigns.schemas import CampaignCreate
from accord.consent.ledger import Scope
from accord.core import migrate
from accord.core.db import Database
from accord.core.settings import EmailBackend, Settings
from accord.delivery.worker import Worker
from accord.relationships import decisions
from accord.relationships.vocabulary import Source
from tests.builders import make_brand, make_topic
from tests.campaigns.world import consenting_audience
from tests.databases import fresh_engine
from tests.smtp_sink import smtp_sink
from tests.waiting import drain

AUDIENCE = 10_000
WITHDRAWING = 100


class TimedSink:
    """Wraps the sink handler to note when each message was accepted (monotonic clock)."""


@pytest.mark.parametrize("backend", ["sqlite", "postgres"])
def test_withdrawals_during_sending_take_effect_at_commit(backend: str, tmp_path: Path) -> None:
    engine = fresh_engine(backend, tmp_path, "inflight")
    try:
        migrate.upgrade(engine)
        db = Database(engine)
        with db.transaction() as session:
            brand = make_brand(session)
            brand.send_rate_per_second = 1_000_000
            topic = make_topic(session, brand=brand)
            people = consenting_audience(
                session, brand=brand, topic=topic, count=AUDIENCE, domain="inflight.example"
            )
            campaign = campaigns.create(
                session,
                brand.id,
                CampaignCreate(
                    name="In flight",
                    topic_id=topic.id,
                    subject="Hi",
                    text="Hello {{ person.name }}",
                ),
                member_id=None,
            )
            campaigns.send(session, campaign)
            brand_id = brand.id
        withdrawers = random.Random(7).sample(people, WITHDRAWING)
        committed_at: dict[str, float] = {}
        with smtp_sink() as sink:
            received_at: dict[str, list[float]] = {}
            original = sink.handle_DATA
            arrived, finished = threading.Condition(), threading.Event()

            async def timed(server, session, envelope):  # type: ignore[no-untyped-def]
                result = await original(server, session, envelope)
                for rcpt in envelope.rcpt_tos:
                    received_at.setdefault(rcpt, []).append(time.monotonic())
                with arrived:
                    arrived.notify_all()
                return result

            def arrive(count: int) -> None:
                """Until the sink holds `count` messages or the worker is done."""
                with arrived:
                    assert arrived.wait_for(
                        lambda: len(sink.messages) >= count or finished.is_set(), timeout=300
                    ), f"waited 300 s for message {count}"

            sink.handle_DATA = timed  # type: ignore[method-assign]
            settings = Settings(
                var_dir=tmp_path,
                secret_key="k",
                email_backend=EmailBackend.smtp,  # type: ignore[arg-type]
                smtp_host=sink.host,
                smtp_port=sink.port,
                worker_batch=100,
            )
            worker = Worker(db, settings)

            def deliver() -> None:
                try:
                    drain(worker)
                finally:
                    with arrived:
                        finished.set()
                        arrived.notify_all()

            thread = threading.Thread(target=deliver, daemon=True)
            thread.start()
            arrive(AUDIENCE // 20)  # let the campaign get going
            for person_id, address in withdrawers:
                with db.transaction() as session:
                    decisions.withdraw(
                        session, person_id, brand_id, Scope(purpose="marketing"), Source.one_click
                    )
                committed_at[address] = time.monotonic()
                arrive(len(sink.messages) + 1)  # the withdrawals spread over the sending
            thread.join(timeout=600)
            assert not thread.is_alive()
            per_address = Counter(m["To"] for m in sink.messages)
            message_ids = Counter(m["Message-ID"] for m in sink.messages)
        assert max(message_ids.values()) == 1, "a Message-ID arrived twice"
        late = [a for a in committed_at if any(t > committed_at[a] for t in received_at.get(a, []))]
        assert late == [], f"sent after the withdrawal committed: {late[:5]}"
        withdrawn = set(committed_at)
        others = [address for _, address in people if address not in withdrawn]
        assert all(per_address[address] == 1 for address in others)
        stopped = sum(1 for a in withdrawn if per_address[a] == 0)
        assert stopped > 0, "no withdrawal happened before its message: the test proved nothing"
    finally:
        engine.dispose()
