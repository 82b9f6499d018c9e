"""Inbound texts through each adapter's endpoint: STOP (and plain-language stops) withdraws
SMS marketing at commit with the message's hash as evidence and one confirmation text; a
retried callback changes and sends nothing; STOPALL, START, HELP, replies; every bad input."""

from __future__ import annotations

import json

from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from accord.consent import ledger
from accord.core.security import keyed_hash
from accord.core.settings import Settings
from accord.sms import numbers
from accord.sms.inbound import Reply
from accord.sms.models import InboundSms, SmsMessage
from tests.builders import make_brand, make_relationship
from tests.sms import callbacks
from tests.sms.conftest import SHARED
from tests.sms.providers import Provider
from tests.sms.world import PHONE, add_phone, chose_sms, sms_world


def events(session: Session, person_id: object) -> list[dict[str, object]]:
    session.expire_all()
    return [ledger.body_of(e) for e in ledger.events_for(session, person_id)]  # type: ignore[arg-type]


def inbound_count(session: Session) -> int:
    return session.scalar(select(func.count()).select_from(InboundSms)) or 0


def test_stop_withdraws_at_commit_and_confirms_once(
    sms_client: TestClient, session: Session, provider: Provider, sms_settings: Settings
) -> None:
    world = sms_world(session)
    session.commit()
    before = len(events(session, world.person.id))
    sid = "SMstop0001" if provider.kind == "twilio" else "in-stop-0001"
    answer = callbacks.inbound(
        sms_client, provider, frm=PHONE, to=world.number, text="Stop.", sid=sid
    )
    assert answer.status_code == 200, answer.text
    if provider.kind == "twilio":
        assert answer.headers["content-type"].startswith("text/xml")
        assert "<Response></Response>" in answer.text
    else:
        assert answer.json() == {"result": "withdrawn"}
    assert not chose_sms(session, world.person.id, world.brand.id)
    chain = events(session, world.person.id)
    assert len(chain) == before + 1
    withdrawal = chain[-1]
    assert withdrawal["action"] == "withdraw" and withdrawal["source"] == "sms_keyword"
    assert withdrawal["scope"] == {"purpose": "marketing", "channel": "sms", "topic": None}
    secret = sms_settings.resolved_secret_key()
    assert withdrawal["evidence"] == {
        "message": keyed_hash(secret, "Stop.", purpose="evidence"),
        "inbound": f"{provider.kind}:{sid}",
    }
    [confirmation] = provider.texts
    assert confirmation["to"] == PHONE and confirmation["from"] == world.number
    assert confirmation["body"] == (
        "Groove Records: you will get no more marketing texts from us. "
        "Reply START to get them again."
    )
    row = session.scalars(select(SmsMessage).where(SmsMessage.kind == "confirmation")).one()
    assert row.provider_id == confirmation["id"] and row.brand_id == world.brand.id
    # The provider retries the same callback: nothing changes, nothing is sent again.
    again = callbacks.inbound(
        sms_client, provider, frm=PHONE, to=world.number, text="Stop.", sid=sid
    )
    assert again.status_code == 200
    assert len(events(session, world.person.id)) == before + 1
    assert len(provider.texts) == 1 and inbound_count(session) == 1


def test_a_plain_language_stop_counts_and_a_look_alike_is_a_reply(
    sms_client: TestClient, session: Session, provider: Provider
) -> None:
    world = sms_world(session)
    session.commit()
    seen: list[Reply] = []
    sms_client.app.state.sms_reply_handlers.append(lambda s, reply: seen.append(reply))  # type: ignore[attr-defined]
    look_alike = "I'll stop by the store on Saturday"
    callbacks.inbound(sms_client, provider, frm=PHONE, to=world.number, text=look_alike)
    assert chose_sms(session, world.person.id, world.brand.id) and not provider.texts
    [reply] = seen
    assert (reply.brand_id, reply.person_id, reply.text) == (
        world.brand.id,
        world.person.id,
        look_alike,
    )
    assert (reply.from_number, reply.to_number) == (PHONE, world.number)
    callbacks.inbound(
        sms_client, provider, frm=PHONE, to=world.number, text="please stop texting me"
    )
    assert not chose_sms(session, world.person.id, world.brand.id)
    assert len(provider.texts) == 1 and len(seen) == 1
    kinds = session.scalars(select(InboundSms.kind).order_by(InboundSms.id)).all()
    assert kinds == ["other", "stop"]


def test_stopall_stops_every_brand_on_the_shared_number(
    sms_client: TestClient, session: Session, provider: Provider
) -> None:
    first, second = make_brand(session, name="Alpha"), make_brand(session, name="Beta")
    world = sms_world(session, brand=first, number="+12025550161")
    numbers.remove(session, first.id, numbers.of_brand(session, first.id)[0].id)
    make_relationship(session, person=world.person, brand=second, marketing=True, channels=("sms",))
    for brand in (first, second):  # both have texted the person from Accord's own number
        session.add(
            SmsMessage(
                brand_id=brand.id,
                person_id=world.person.id,
                kind="campaign",
                to_number=PHONE,
                from_number=SHARED,
                encoding="GSM-7",
                provider=provider.kind,
                status="delivered",
            )
        )
    session.commit()
    callbacks.inbound(sms_client, provider, frm=PHONE, to=SHARED, text="STOP")
    # A plain STOP to a shared number stops the brand that texted last.
    assert chose_sms(session, world.person.id, first.id)
    assert not chose_sms(session, world.person.id, second.id)
    callbacks.inbound(sms_client, provider, frm=PHONE, to=SHARED, text="stop all")
    assert not chose_sms(session, world.person.id, first.id)
    assert [t["body"] for t in provider.texts][-1] == (
        "You will get no more marketing texts from Beta, Alpha on this number. "
        "Reply START to get them again."
    )
    assert {t["from"] for t in provider.texts} == {SHARED} and len(provider.texts) == 2


def test_start_chooses_sms_again_and_help_answers(
    sms_client: TestClient, session: Session, provider: Provider
) -> None:
    world = sms_world(session)
    numbers.set_help_text(session, world.brand.id, "Groove: call 555-0100. Reply STOP to end.")
    session.commit()
    callbacks.inbound(sms_client, provider, frm=PHONE, to=world.number, text="STOP")
    callbacks.inbound(sms_client, provider, frm=PHONE, to=world.number, text=" start ")
    assert chose_sms(session, world.person.id, world.brand.id)
    grant = events(session, world.person.id)[-1]
    assert grant["action"] == "grant" and grant["source"] == "sms_keyword"
    assert grant["evidence"]["message"]  # type: ignore[index]
    callbacks.inbound(sms_client, provider, frm=PHONE, to=world.number, text="HELP")
    bodies = [t["body"] for t in provider.texts]
    assert bodies[1].startswith("Groove Records: you will get marketing texts from us again.")
    assert bodies[2] == "Groove: call 555-0100. Reply STOP to end."
    kinds = session.scalars(select(SmsMessage.kind).order_by(SmsMessage.id)).all()
    assert kinds == ["confirmation", "confirmation", "help"]


def test_a_bad_or_missing_signature_is_a_401_and_changes_nothing(
    sms_client: TestClient, session: Session, provider: Provider
) -> None:
    world = sms_world(session)
    session.commit()
    before = len(events(session, world.person.id))
    unsigned = callbacks.inbound(
        sms_client, provider, frm=PHONE, to=world.number, text="STOP", signed=False
    )
    assert unsigned.status_code == 401 and unsigned.json()["error"] == "NotAuthenticated"
    if provider.kind == "twilio":
        forged = callbacks.inbound(
            sms_client, provider, frm=PHONE, to=world.number, text="STOP", token="not-the-token"
        )
    else:
        body = json.dumps({"id": "x1", "from": PHONE, "to": world.number, "text": "STOP"})
        from tests.sms.providers import generic_headers

        headers = generic_headers(body.encode(), "whsec_" + "QUJDREVGR0hJSktMTU5PUFFSU1RVVldY")
        forged = sms_client.post("/hooks/sms/generic/inbound", content=body, headers=headers)
    assert forged.status_code == 401
    assert chose_sms(session, world.person.id, world.brand.id)
    assert len(events(session, world.person.id)) == before
    assert inbound_count(session) == 0 and not provider.texts


def test_unknown_numbers_are_recorded_and_change_nothing(
    sms_client: TestClient, session: Session, provider: Provider
) -> None:
    world = sms_world(session)
    session.commit()
    stranger = callbacks.inbound(
        sms_client, provider, frm="+12025550177", to=world.number, text="STOP"
    )
    assert stranger.status_code == 200
    elsewhere = callbacks.inbound(sms_client, provider, frm=PHONE, to="+12025550166", text="STOP")
    assert elsewhere.status_code == 200
    rows = session.execute(select(InboundSms.outcome, InboundSms.brand_id).order_by(InboundSms.id))
    assert [tuple(r) for r in rows] == [
        ("unknown_sender", world.brand.id),
        ("unknown_number", None),
    ]
    assert chose_sms(session, world.person.id, world.brand.id) and not provider.texts


def test_an_unverified_number_can_still_stop(
    sms_client: TestClient, session: Session, provider: Provider
) -> None:
    world = sms_world(session)
    add_phone(session, world.person, "+13055550182", verified=False)
    session.commit()
    callbacks.inbound(sms_client, provider, frm="+13055550182", to=world.number, text="STOP")
    assert not chose_sms(session, world.person.id, world.brand.id)


def test_a_signed_request_missing_a_field_names_it(
    sms_client: TestClient, session: Session, provider: Provider
) -> None:
    if provider.kind == "twilio":
        from tests.sms.providers import TOKEN, twilio_signature

        params = {"MessageSid": "SM1", "To": "+12025550100", "Body": "STOP"}
        path = "/hooks/sms/twilio/inbound"
        headers = {"X-Twilio-Signature": twilio_signature(TOKEN, callbacks.BASE + path, params)}
        answer = sms_client.post(path, data=params, headers=headers)
        field = "From"
    else:
        from tests.sms.providers import generic_headers

        body = json.dumps({"id": "g1", "to": "+12025550100", "text": "STOP"}).encode()
        answer = sms_client.post(
            "/hooks/sms/generic/inbound", content=body, headers=generic_headers(body)
        )
        field = "from"
    assert answer.status_code == 422 and answer.json()["field"] == field
    assert inbound_count(session) == 0


def test_an_adapter_that_is_not_configured_answers_404(
    client: TestClient, session: Session
) -> None:
    for kind in ("twilio", "generic"):
        answer = client.post(f"/hooks/sms/{kind}/inbound", data={"Body": "STOP"})
        assert answer.status_code == 404
    assert inbound_count(session) == 0
