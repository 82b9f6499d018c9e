"""`reply.received`: every reply a person sends a brand (a message from the portal, an e-mail
reply through the real inbound SMTP endpoint, a text that is not a keyword through the SMS
inbound endpoint) is delivered to the brand's endpoint, signed, and verified by the
`standardwebhooks` package on a real local receiver. A STOP, the brand's own answers and
internal notes raise none."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from accord.conversations import reply_address, service
from accord.core.principals import BrandCaller
from accord.core.settings import Settings
from accord.webhooks import dispatch
from accord.webhooks import service as webhooks
from tests.builders import make_member
from tests.conftest import RolledBackDatabase
from tests.conversations import gmail_reply, inbound_server, send
from tests.sms import callbacks
from tests.sms.conftest import provider, sms_client, sms_settings  # noqa: F401 (fixtures)
from tests.sms.providers import Provider
from tests.sms.world import PHONE, sms_world
from tests.webhook_receiver import Receiver, start_receiver


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    running = start_receiver()
    try:
        yield running
    finally:
        running.close()


def test_every_reply_by_portal_email_and_sms_is_delivered_signed(
    sms_client: TestClient,  # noqa: F811
    session: Session,
    database: RolledBackDatabase,
    settings: Settings,
    provider: Provider,  # noqa: F811
    receiver: Receiver,
) -> None:
    world = sms_world(session)
    endpoint = webhooks.create_endpoint(
        session, settings, world.brand.id, url=receiver.url, event_types=["reply.received"]
    )
    receiver.secret = endpoint.secret
    member = make_member(session, brand=world.brand)
    caller = BrandCaller(brand_id=world.brand.id, role="owner", member_id=member.id)
    thread, _ = service.start_person_thread(
        session, settings, world.person.id, world.brand.id, subject="", body="Is it in stock?"
    )
    service.brand_reply(session, settings, caller, thread.id, body="Yes.", via="console")
    service.note(session, thread, "A regular.", member.id)
    session.commit()

    to = reply_address.address_for(settings, thread.id)
    answer = gmail_reply(sender=world.person.email, to=to, text="Keep one for me.", quoted="Yes.")
    with inbound_server(database, settings) as port:
        send(port, answer, sender=world.person.email, to=to)
    for text in ("When do you open?", "STOP"):
        sent = callbacks.inbound(sms_client, provider, frm=PHONE, to=world.number, text=text)
        assert sent.status_code == 200, sent.text

    assert dispatch.drain(database, settings) == 3
    assert receiver.rejected == []
    got = [(p["type"], p["data"]["channel"], p["data"]["text"]) for p in receiver.unique]
    assert sorted(got) == [
        ("reply.received", "email", "Keep one for me."),
        ("reply.received", "portal", "Is it in stock?"),
        ("reply.received", "sms", "When do you open?"),
    ]
    assert {p["data"]["person_id"] for p in receiver.unique} == {str(world.person.id)}
    assert len(set(receiver.ids)) == 3
