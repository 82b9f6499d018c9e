"""Bounces, complaints and mailto unsubscribes, received by a real SMTP server (aiosmtpd with
Accord's FeedbackHandler) or the webhook, for messages of a real campaign."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from email.message import Message
from email.mime.text import MIMEText

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from pydantic import SecretStr
from sqlalchemy import select
from sqlalchemy.orm import Session

from accord.app import create_app
from accord.campaigns import report
from accord.campaigns.models import Campaign
from accord.consent import ledger
from accord.core.settings import Settings
from accord.delivery import inbound_smtp
from accord.outbox.models import DeliveryEvent, OutboxMessage
from accord.people.models import ContactPoint
from accord.relationships import service as relationships
from tests.conftest import RolledBackDatabase
from tests.delivery import (
    World,
    arf,
    deliver,
    dsn,
    feedback_server,
    only_message_to,
    send_campaign,
    smtp_settings_for,
    token_of,
    world,
)
from tests.smtp_sink import Sink, free_port, smtp_sink
from tests.waiting import wait_until


@pytest.fixture
def sink() -> Iterator[Sink]:
    with smtp_sink() as s:
        yield s


@pytest.fixture
def smtp_settings(settings: Settings, sink: Sink) -> Settings:
    return smtp_settings_for(settings, sink)


@pytest.fixture
def inbound(database: RolledBackDatabase, settings: Settings) -> Iterator[int]:
    with feedback_server(database, settings) as port:
        yield port


def point_of(session: Session, address: str) -> ContactPoint:
    session.expire_all()
    return session.scalars(
        select(ContactPoint).where(ContactPoint.address_normalised == address.lower())
    ).one()


def kinds(session: Session, campaign_id: object) -> list[str]:
    query = select(DeliveryEvent.kind).where(DeliveryEvent.campaign_id == campaign_id)
    return sorted(session.scalars(query))


def test_hard_bounce_suppresses_and_the_next_campaign_skips_the_person(
    client: TestClient,
    session: Session,
    database: RolledBackDatabase,
    smtp_settings: Settings,
    sink: Sink,
    inbound: int,
) -> None:
    w = world(session)
    first = send_campaign(client, database, smtp_settings, w)
    hard, soft = w.people[0], w.people[1]
    bounced = dsn(only_message_to(sink, hard.email), hard.email, "5.1.1")
    for _ in range(2):  # an MTA may report twice
        deliver(inbound, bounced, sender="", to="bounces@testserver")
    soft_report = dsn(only_message_to(sink, soft.email), soft.email, "4.2.2", action="delayed")
    deliver(inbound, soft_report, sender="", to="bounces@testserver")

    point = point_of(session, hard.email)
    assert point.suppressed_reason == "hard_bounce"
    assert point_of(session, soft.email).suppressed_reason is None
    last = ledger.body_of(ledger.events_for(session, hard.id)[-1])
    assert (last["action"], last["value"]) == ("suppress", {"reason": "hard_bounce"})
    assert kinds(session, first) == ["bounced", "soft_bounced"]
    assert report.build(session, session.get_one(Campaign, first)).events["bounced"] == 1

    second = send_campaign(client, database, smtp_settings, w, name="Summer")
    row = session.scalars(
        select(OutboxMessage).where(
            OutboxMessage.campaign_id == second, OutboxMessage.person_id == hard.id
        )
    ).first()
    if row is not None:  # resolved and refused by the worker's re-check
        assert (row.state, row.reason) == ("skipped", "suppressed")
    counts = session.get_one(Campaign, second).audience_counts
    assert counts.get("suppressed") == 1
    assert len(sink.to(hard.email)) == 1 and len(sink.to(soft.email)) == 2


def test_complaint_suppresses_and_withdraws_marketing(
    client: TestClient,
    session: Session,
    database: RolledBackDatabase,
    smtp_settings: Settings,
    sink: Sink,
    inbound: int,
) -> None:
    w = world(session)
    cid = send_campaign(client, database, smtp_settings, w)
    named, redacted = w.people[0], w.people[1]
    deliver(inbound, arf(only_message_to(sink, named.email), named.email), sender="", to="fbl@x")
    deliver(inbound, arf(only_message_to(sink, redacted.email), None), sender="", to="fbl@x")
    for person in (named, redacted):
        assert point_of(session, person.email).suppressed_reason == "complaint"
        chosen = relationships.choices(session, person.id, w.brand.id)
        assert "marketing" not in chosen.purposes
        withdrawal = next(
            ledger.body_of(e)
            for e in ledger.events_for(session, person.id)
            if e.action == "withdraw"
        )
        assert withdrawal["source"] == "system" and withdrawal["scope"]["purpose"] == "marketing"
    assert "marketing" in relationships.choices(session, w.people[2].id, w.brand.id).purposes
    assert kinds(session, cid) == ["complained", "complained"]
    assert report.build(session, session.get_one(Campaign, cid)).events["complained"] == 2


def test_mailto_unsubscribe_is_the_same_as_one_click(
    client: TestClient,
    session: Session,
    database: RolledBackDatabase,
    smtp_settings: Settings,
    sink: Sink,
    inbound: int,
) -> None:
    w = world(session)
    cid = send_campaign(client, database, smtp_settings, w)
    person = w.people[0]
    message = only_message_to(sink, person.email)
    assert f"mailto:unsubscribe@testserver?subject=unsubscribe%20{token_of(message)}" in str(
        message["List-Unsubscribe"]
    )
    mail = MIMEText("")
    mail["From"], mail["To"] = person.email, "unsubscribe@testserver"
    mail["Subject"] = f"unsubscribe {token_of(message)}"
    deliver(inbound, mail, sender=person.email, to="unsubscribe@testserver")
    session.expire_all()
    assert w.topic.id not in relationships.choices(session, person.id, w.brand.id).topics
    last = ledger.body_of(ledger.events_for(session, person.id)[-1])
    assert (last["action"], last["source"]) == ("withdraw", "one_click")
    assert kinds(session, cid) == ["unsubscribed"]


def test_mail_that_reports_nothing_of_ours_changes_nothing(
    client: TestClient,
    session: Session,
    database: RolledBackDatabase,
    smtp_settings: Settings,
    sink: Sink,
    inbound: int,
) -> None:
    w = world(session)
    cid = send_campaign(client, database, smtp_settings, w)
    person = w.people[0]
    stranger = Message()
    stranger["From"], stranger["To"] = "x@elsewhere.example", person.email
    stranger["Message-ID"] = "<" + "ab" * 20 + "@testserver>"  # 40 hex, but not one of ours
    for item in (
        dsn(stranger, person.email, "5.1.1"),
        dsn(only_message_to(sink, person.email), "someone-else@people.example", "5.1.1"),
        MIMEText("Hello, is this the right address?"),
    ):
        deliver(inbound, item, sender="x@elsewhere.example", to="bounces@testserver")
    forged = MIMEText("")
    forged["Subject"] = "unsubscribe not-a-token"
    deliver(inbound, forged, sender="x@elsewhere.example", to="unsubscribe@testserver")
    assert point_of(session, person.email).suppressed_reason is None
    assert kinds(session, cid) == []
    assert w.topic.id in relationships.choices(session, person.id, w.brand.id).topics


@pytest.fixture
def hook_client(settings: Settings, database: RolledBackDatabase) -> Iterator[TestClient]:
    configured = settings.model_copy(update={"bounce_webhook_token": SecretStr("hook-secret")})
    with TestClient(create_app(configured, database=database)) as c:
        yield c


def test_webhook_needs_its_token_validates_and_applies(
    app: FastAPI,
    client: TestClient,
    hook_client: TestClient,
    session: Session,
    database: RolledBackDatabase,
    smtp_settings: Settings,
    sink: Sink,
) -> None:
    w: World = world(session)
    cid = send_campaign(client, database, smtp_settings, w)
    person = w.people[0]
    message_id = str(only_message_to(sink, person.email)["Message-ID"])
    body = {"kind": "bounce", "message_id": message_id, "recipient": person.email}
    good = {"Authorization": "Bearer hook-secret"}
    assert TestClient(app).post("/hooks/feedback", json=body, headers=good).status_code == 401
    for headers in ({}, {"Authorization": "Bearer wrong"}, {"Authorization": "hook-secret"}):
        response = hook_client.post("/hooks/feedback", json=body, headers=headers)
        assert response.status_code == 401 and response.json()["error"] == "NotAuthenticated"
    for bad, field in (
        ({**body, "kind": "bounced"}, "kind"),
        ({**body, "recipient": "not an address"}, "recipient"),
        ({**body, "status": "550"}, "status"),
        ({"kind": "bounce", "recipient": person.email}, "message_id"),
    ):
        response = hook_client.post("/hooks/feedback", json=bad, headers=good)
        assert response.status_code == 422, response.text
        assert response.json()["field"] == field
    assert point_of(session, person.email).suppressed_reason is None

    soft = hook_client.post("/hooks/feedback", json={**body, "status": "4.4.1"}, headers=good)
    assert soft.json() == {"result": "soft_bounced"}
    assert point_of(session, person.email).suppressed_reason is None
    applied = hook_client.post("/hooks/feedback", json={**body, "status": "5.1.1"}, headers=good)
    assert applied.status_code == 200 and applied.json() == {"result": "bounced"}
    assert point_of(session, person.email).suppressed_reason == "hard_bounce"
    again = hook_client.post("/hooks/feedback", json=body, headers=good)
    assert again.json() == {"result": "duplicate"}
    other = w.people[1]
    complaint = {
        "kind": "complaint",
        "message_id": str(only_message_to(sink, other.email)["Message-ID"]),
        "recipient": other.email.upper(),
    }
    assert hook_client.post("/hooks/feedback", json=complaint, headers=good).json() == {
        "result": "complained"
    }
    assert "marketing" not in relationships.choices(session, other.id, w.brand.id).purposes
    unknown = {**body, "message_id": "<" + "cd" * 20 + "@testserver>"}
    assert hook_client.post("/hooks/feedback", json=unknown, headers=good).json() == {
        "result": "unmatched"
    }
    assert kinds(session, cid) == ["bounced", "complained", "soft_bounced"]


def listens(port: int) -> bool:
    try:
        socket.create_connection(("127.0.0.1", port)).close()
    except OSError:
        return False
    return True


def test_serve_runs_until_stopped(settings: Settings) -> None:
    stop, port = threading.Event(), free_port()
    serve = inbound_smtp.serve
    thread = threading.Thread(
        target=serve, args=(settings, "127.0.0.1", port), kwargs={"stop": stop}
    )
    thread.start()
    try:
        wait_until(lambda: listens(port), timeout=10, what="the inbound SMTP server to listen")
        deliver(port, MIMEText("Nothing to report."), sender="a@b.example", to="x@testserver")
    finally:
        stop.set()
        thread.join(timeout=10)
    assert not thread.is_alive()
