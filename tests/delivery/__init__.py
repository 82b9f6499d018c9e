"""Helpers for the delivery tests: people who chose a topic, a campaign sent through a real
SMTP sink by the real worker, the links and headers of what they received, and a real inbound
SMTP server for what comes back."""

from __future__ import annotations

import re
import smtplib
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from email.message import Message
from email.mime.base import MIMEBase
from email.mime.message import MIMEMessage
from email.mime.multipart import MIMEMultipart
from email.mime.text import MIMEText
from urllib.parse import urlsplit

from aiosmtpd.controller import Controller
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from accord.brands.models import Brand
from accord.core.db import Database
from accord.core.settings import EmailBackend, Settings
from accord.delivery.inbound_smtp import FeedbackHandler
from accord.delivery.worker import Worker
from accord.people.models import Person
from accord.relationships.models import Topic
from tests.builders import make_api_key, make_brand, make_person, make_relationship, make_topic
from tests.smtp_sink import Sink, free_port
from tests.waiting import drain

MTA = "mx.people.example"


@dataclass
class World:
    brand: Brand
    key: str
    topic: Topic
    people: list[Person]


def world(session: Session, *, count: int = 4) -> World:
    """`count` people who granted marketing by e-mail and chose the brand's topic."""
    brand = make_brand(session)
    _, key = make_api_key(session, brand=brand)
    topic = make_topic(session, brand=brand, name="Jazz news")
    people = [make_person(session, display_name=f"Person {i}") for i in range(count)]
    for person in people:
        make_relationship(
            session,
            person=person,
            brand=brand,
            marketing=True,
            channels=("email",),
            topics_on=(topic,),
        )
    session.commit()
    return World(brand, key, topic, people)


def bearer(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


def smtp_settings_for(settings: Settings, sink: Sink) -> Settings:
    return settings.model_copy(
        update={"email_backend": EmailBackend.smtp, "smtp_host": sink.host, "smtp_port": sink.port}
    )


def send_campaign(
    client: TestClient, database: Database, settings: Settings, w: World, name: str = "Spring"
) -> uuid.UUID:
    """Create, send and deliver a campaign to the world's topic; its id."""
    body = {
        "name": name,
        "topic_id": str(w.topic.id),
        "subject": "Hello {{ person.first_name }}",
        "text": "New {{ topic.name }} from {{ brand.name }}.",
        "html": "<p>Hi {{ person.name }}</p>",
    }
    created = client.post("/api/v1/campaigns", json=body, headers=bearer(w.key))
    assert created.status_code == 201, created.text
    cid = created.json()["id"]
    sent = client.post(f"/api/v1/campaigns/{cid}/send", headers=bearer(w.key))
    assert sent.status_code == 200, sent.text
    drain(Worker(database, settings))
    return uuid.UUID(cid)


def only_message_to(sink: Sink, address: str) -> Message:
    received = sink.to(address)
    assert len(received) == 1, f"{len(received)} messages to {address}"
    return received[-1]


def unsubscribe_url(message: Message) -> str:
    found = re.search(r"<(https?://[^>]+/u/[^>]+)>", str(message["List-Unsubscribe"]))
    assert found is not None, message["List-Unsubscribe"]
    return found.group(1)


def unsubscribe_path(message: Message) -> str:
    return urlsplit(unsubscribe_url(message)).path


def token_of(message: Message) -> str:
    return unsubscribe_path(message).rsplit("/", 1)[1]


@contextmanager
def feedback_server(database: Database, settings: Settings) -> Iterator[int]:
    """A real inbound SMTP server with Accord's FeedbackHandler; yields its port."""
    port = free_port()
    controller = Controller(FeedbackHandler(database, settings), hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield port
    finally:
        controller.stop()


def deliver(port: int, message: Message, *, sender: str, to: str) -> None:
    with smtplib.SMTP("127.0.0.1", port, timeout=10) as smtp:
        smtp.send_message(message, from_addr=sender, to_addrs=[to])


def dsn(original: Message, recipient: str, status: str, action: str = "failed") -> Message:
    """An RFC 3464 report as an MTA sends it: text, delivery-status, the original's headers."""
    report_ = MIMEMultipart("report", report_type="delivery-status")
    report_["From"] = f"MAILER-DAEMON@{MTA}"
    report_["To"] = str(original["From"])
    report_["Subject"] = "Undelivered Mail Returned to Sender"
    report_.attach(MIMEText("Your message could not be delivered to one or more recipients."))
    per_message, per_recipient = Message(), Message()
    per_message["Reporting-MTA"] = f"dns; {MTA}"
    per_recipient["Final-Recipient"] = f"rfc822; {recipient}"
    per_recipient["Action"] = action
    per_recipient["Status"] = status
    per_recipient["Diagnostic-Code"] = f"smtp; 550 {status} user unknown"
    status_part = MIMEBase("message", "delivery-status")
    status_part.set_payload([per_message, per_recipient])
    report_.attach(status_part)
    headers = "".join(f"{name}: {value}\n" for name, value in original.items())
    report_.attach(MIMEText(headers, "rfc822-headers"))
    return report_


def arf(original: Message, recipient: str | None) -> Message:
    """An RFC 5965 abuse report with the whole original message (recipient maybe redacted)."""
    report_ = MIMEMultipart("report", report_type="feedback-report")
    report_["From"] = f"abuse@{MTA}"
    report_["To"] = "fbl@testserver"
    report_["Subject"] = "Abuse report"
    report_.attach(MIMEText("This is an email abuse report for an email message received."))
    fields = "Feedback-Type: abuse\nUser-Agent: PeopleMail-FBL/1.0\nVersion: 1\n"
    if recipient:
        fields += f"Original-Rcpt-To: {recipient}\n"
    part = MIMEBase("message", "feedback-report")
    part.set_payload(fields)
    report_.attach(part)
    report_.attach(MIMEMessage(original))
    return report_
