"""Delivery receipts: each text moves queued -> sent -> delivered / undelivered / failed and
never back; undelivered for a reason that lies with the number suppresses it (ledger event);
a status for a text Accord did not send is a 404; bad signatures and statuses are refused."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from accord.consent import ledger
from accord.people.models import ContactPoint
from accord.sms.models import SmsMessage
from tests.sms import callbacks
from tests.sms.providers import Provider
from tests.sms.world import PHONE, sms_world


def confirmation(sms_client: TestClient, session: Session, provider: Provider) -> SmsMessage:
    """A text Accord really sent through the provider (a STOP confirmation)."""
    world = sms_world(session)
    session.commit()
    callbacks.inbound(sms_client, provider, frm=PHONE, to=world.number, text="STOP")
    session.expire_all()
    return session.scalars(select(SmsMessage)).one()


def status_of(session: Session, row_id: int) -> tuple[str, str | None]:
    session.expire_all()
    row = session.get(SmsMessage, row_id)
    assert row is not None
    return row.status, row.error_code


def test_statuses_move_forward_only(
    sms_client: TestClient, session: Session, provider: Provider
) -> None:
    text = confirmation(sms_client, session, provider)
    assert text.status == "queued" and text.provider_id
    pid = text.provider_id
    assert callbacks.status(sms_client, provider, pid, "sent").json() == {"result": "sent"}
    assert callbacks.status(sms_client, provider, pid, "delivered").json() == {
        "result": "delivered"
    }
    late = callbacks.status(sms_client, provider, pid, "sent")  # out of order: ignored
    assert late.status_code == 200 and late.json() == {"result": "delivered"}
    assert callbacks.status(sms_client, provider, pid, "failed", "30003").json() == {
        "result": "delivered"
    }
    assert status_of(session, text.id) == ("delivered", None)


@pytest.mark.parametrize(
    ("code", "suppressed"), [("30005", True), ("30006", True), ("30003", False), ("30007", False)]
)
def test_undelivered_for_the_numbers_sake_suppresses_it(
    sms_client: TestClient, session: Session, provider: Provider, code: str, suppressed: bool
) -> None:
    text = confirmation(sms_client, session, provider)
    assert text.provider_id
    answer = callbacks.status(sms_client, provider, text.provider_id, "undelivered", code)
    assert answer.json() == {"result": "undelivered"}
    assert status_of(session, text.id) == ("undelivered", code)
    point = session.scalars(select(ContactPoint).where(ContactPoint.address == PHONE)).one()
    assert (point.suppressed_reason == "undeliverable") is suppressed
    actions = [e.action for e in ledger.events_for(session, point.person_id)]
    assert ("suppress" in actions) is suppressed


@pytest.mark.parametrize("provider", ["generic"], indirect=True)
def test_a_generic_gateway_may_say_permanent_itself(
    sms_client: TestClient, session: Session, provider: Provider
) -> None:
    text = confirmation(sms_client, session, provider)
    assert text.provider_id
    callbacks.status(
        sms_client, provider, text.provider_id, "failed", "E42", extra={"permanent": True}
    )
    point = session.scalars(select(ContactPoint).where(ContactPoint.address == PHONE)).one()
    assert point.suppressed_reason == "undeliverable"


def test_bad_status_callbacks_are_refused(
    sms_client: TestClient, session: Session, provider: Provider
) -> None:
    text = confirmation(sms_client, session, provider)
    assert text.provider_id
    unknown = callbacks.status(sms_client, provider, "SMnot-ours", "delivered")
    assert unknown.status_code == 404 and unknown.json()["field"] == "id"
    odd = callbacks.status(sms_client, provider, text.provider_id, "teleported")
    assert odd.status_code == 422 and odd.json()["field"] == "status"
    unsigned = callbacks.status(sms_client, provider, text.provider_id, "delivered", signed=False)
    assert unsigned.status_code == 401
    assert status_of(session, text.id) == ("queued", None)
