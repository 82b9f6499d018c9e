"""SMS replies through the SMS inbound endpoint (each provider's signed callback, wired by the
composition root): a text that is not a keyword lands in the person's open thread with the
brand (or a new one), a STOP still withdraws and adds nothing, and after the relationship ends
a text is recorded by the SMS domain but starts no conversation."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from accord.conversations.models import Message, Thread
from accord.relationships import decisions
from accord.sms.models import InboundSms
from tests.sms import callbacks
from tests.sms.conftest import provider, sms_client, sms_settings  # noqa: F401 (fixtures)
from tests.sms.providers import Provider
from tests.sms.world import PHONE, chose_sms, sms_world


def stored(session: Session) -> list[Message]:
    session.expire_all()
    return list(session.scalars(select(Message).order_by(Message.created_at)))


def test_texts_thread_in_and_stop_still_withdraws(
    sms_client: TestClient,  # noqa: F811
    session: Session,
    provider: Provider,  # noqa: F811
) -> None:
    world = sms_world(session)
    session.commit()
    for text in ("Is my order ready?", "It was order 1234."):
        answer = callbacks.inbound(sms_client, provider, frm=PHONE, to=world.number, text=text)
        assert answer.status_code == 200, answer.text
    first, second = stored(session)
    assert first.thread_id == second.thread_id and (first.via, first.author) == ("sms", "person")
    thread = session.get_one(Thread, first.thread_id)
    assert thread.subject == "Is my order ready?" and thread.brand_unread == 2

    stop = callbacks.inbound(sms_client, provider, frm=PHONE, to=world.number, text="STOP")
    assert stop.status_code == 200
    assert not chose_sms(session, world.person.id, world.brand.id)
    assert len(stored(session)) == 2

    decisions.end(
        session, decisions.get(session, world.person.id, world.brand.id), decisions.PORTAL
    )
    session.commit()
    late = callbacks.inbound(sms_client, provider, frm=PHONE, to=world.number, text="Hello?")
    assert late.status_code == 200
    assert len(stored(session)) == 2
    bodies = session.scalars(select(InboundSms.body).order_by(InboundSms.id)).all()
    assert bodies[-1] == "Hello?"
