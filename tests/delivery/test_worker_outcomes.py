"""What the worker records per message over a real SMTP server: the shared per-brand rate is
never overshot (two workers, one second), a 4xx is retried with backoff until MAX_ATTEMPTS
and then is dead, a 5xx fails at once; every outcome of a chunk is recorded."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from accord.core.settings import EmailBackend, Settings
from accord.delivery.outcomes import MAX_ATTEMPTS, backoff
from accord.delivery.worker import Worker
from accord.outbox.models import OutboxMessage
from tests.builders import make_brand, make_person, make_relationship, make_topic
from tests.conftest import RolledBackDatabase
from tests.smtp_sink import Sink, free_port

NOW = datetime.now(UTC).replace(microsecond=0) + timedelta(seconds=30)


class PickySink(Sink):
    """Refuses recipients by local part: `soft…` with 451, `hard…` with 550; offers
    PIPELINING when `pipelining` (aiosmtpd serves pipelined commands, it only does not say so),
    and then refuses messages whose data contains `REFUSE-DATA` with 554 after their data."""

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        if self.pipelining and b"REFUSE-DATA" in envelope.content:
            return "554 5.7.1 refused after data"
        return await super().handle_DATA(server, session, envelope)

    async def handle_RCPT(
        self, server: Any, session: Any, envelope: Any, address: str, options: Any
    ) -> str:
        if address.startswith("soft"):
            return "451 4.3.0 try again later"
        if address.startswith("hard"):
            return "550 5.1.1 no such user"
        envelope.rcpt_tos.append(address)
        return "250 OK"


@pytest.fixture(params=[False, True], ids=["plain", "pipelining"])
def sink(request: pytest.FixtureRequest) -> Iterator[PickySink]:
    s = PickySink(port=free_port())
    s.pipelining = request.param
    controller = Controller(s, hostname=s.host, port=s.port)
    controller.start()
    try:
        yield s
    finally:
        controller.stop()


def smtp(settings: Settings, sink: Sink) -> Settings:
    return settings.model_copy(
        update={"email_backend": EmailBackend.smtp, "smtp_host": sink.host, "smtp_port": sink.port}
    )


def queue(session: Session, emails: list[str], rate: int = 100_000) -> dict[str, int]:
    """One queued marketing e-mail per address (due at NOW); outbox ids by address. The subject
    of an address starting with `refuse` asks a pipelining PickySink to refuse its data."""
    brand = make_brand(session)
    brand.send_rate_per_second = rate
    topic = make_topic(session, brand=brand)
    ids = {}
    for email in emails:
        person = make_person(session, email=email)
        make_relationship(
            session,
            person=person,
            brand=brand,
            marketing=True,
            channels=("email",),
            topics_on=(topic,),
        )
        ids[email] = session.execute(
            insert(OutboxMessage)
            .values(
                brand_id=brand.id,
                person_id=person.id,
                topic_id=topic.id,
                channel="email",
                purpose="marketing",
                idempotency_key=f"t:{person.id.hex}",
                state="queued",
                not_before=NOW,
                attempts=0,
                payload={
                    "subject": "REFUSE-DATA" if email.startswith("refuse") else "News",
                    "text": "Hello {{ person.name }}",
                },
            )
            .returning(OutboxMessage.id)
        ).scalar_one()
    session.commit()
    return ids


def rows(session: Session, ids: dict[str, int]) -> dict[str, OutboxMessage]:
    session.expire_all()
    found = session.scalars(select(OutboxMessage).where(OutboxMessage.id.in_(ids.values())))
    by_id = {row.id: row for row in found}
    return {email: by_id[i] for email, i in ids.items()}


def test_two_workers_share_the_brand_rate_without_overshoot(
    session: Session, database: RolledBackDatabase, settings: Settings, sink: PickySink
) -> None:
    ids = queue(session, [f"r{i}@people.example" for i in range(10)], rate=3)
    first, second = Worker(database, smtp(settings, sink)), Worker(database, smtp(settings, sink))
    sent = first.run_once(NOW).sent + second.run_once(NOW).sent
    assert sent == 3 and len(sink.messages) == 3
    states = rows(session, ids)
    waiting = [r for r in states.values() if r.state == "queued"]
    assert len(waiting) == 7
    # Not an attempt: the same row goes in the next second, its attempts unchanged.
    assert all(r.not_before == NOW + timedelta(seconds=1) and r.attempts == 0 for r in waiting)
    assert all(r.lease_owner is None for r in states.values())
    later = NOW + timedelta(seconds=1)
    assert first.run_once(later).sent + second.run_once(later).sent == 3
    assert len(sink.messages) == 6


def test_soft_refusal_is_retried_with_backoff_then_fails_and_hard_fails_at_once(
    session: Session, database: RolledBackDatabase, settings: Settings, sink: PickySink
) -> None:
    ids = queue(session, ["ok@people.example", "soft@people.example", "hard@people.example"])
    worker = Worker(database, smtp(settings, sink))
    outcome = worker.run_once(NOW)
    assert (outcome.sent, outcome.failed) == (1, 1)
    states = rows(session, ids)
    assert states["ok@people.example"].state == "sent"
    assert states["ok@people.example"].to_address == "ok@people.example"
    hard = states["hard@people.example"]
    assert hard.state == "failed" and "550" in (hard.last_error or "")
    soft = states["soft@people.example"]
    assert soft.state == "queued" and soft.attempts == 1 and "451" in (soft.last_error or "")
    assert soft.not_before == NOW + backoff(1)
    moment = soft.not_before
    for attempt in range(2, MAX_ATTEMPTS + 1):
        worker.run_once(moment)
        soft = rows(session, ids)["soft@people.example"]
        assert soft.attempts == attempt
        if attempt < MAX_ATTEMPTS:
            assert soft.state == "queued" and soft.not_before == moment + backoff(attempt)
            moment = soft.not_before
    assert soft.state == "dead" and soft.reason == "attempts" and soft.lease_owner is None
    assert [m["To"] for m in sink.messages] == ["ok@people.example"]


def test_pipelined_hand_overs_keep_every_outcome_in_order(
    session: Session, database: RolledBackDatabase, settings: Settings, sink: PickySink
) -> None:
    """Refusals of the envelope (451, 550) and of the data (554) between accepted messages:
    with pipelining every reply still lands on its own row, and the connection goes on."""
    emails = [
        "a@people.example",
        "hard1@people.example",
        "b@people.example",
        "soft1@people.example",
        "c@people.example",
        "d@people.example",
        "e@people.example",
    ]
    if sink.pipelining:
        emails[4] = "refuse@people.example"
    ids = queue(session, emails)
    outcome = Worker(database, smtp(settings, sink)).run_once(NOW)
    states = rows(session, ids)
    sent = {e for e, r in states.items() if r.state == "sent"}
    assert sent == {e for e in emails if e[0] in "abcde" and not e.startswith("refuse")}
    assert sorted(str(m["To"]) for m in sink.messages) == sorted(sent)
    assert outcome.sent == len(sent)
    assert states["hard1@people.example"].state == "failed"
    assert "550" in (states["hard1@people.example"].last_error or "")
    assert states["soft1@people.example"].state == "queued"
    if sink.pipelining:
        refused = states["refuse@people.example"]
        assert refused.state == "failed" and "554" in (refused.last_error or "")
    assert all(r.lease_owner is None for r in states.values())
