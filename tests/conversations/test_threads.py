"""The rules: who may open a thread and write, what each message does to its thread, and the
notification of a brand's reply (a transactional outbox row with the signed reply address)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from accord.conversations import reply_address, service
from accord.conversations.files import Upload
from accord.conversations.models import Attachment, Message, Thread
from accord.core.db import Database, utcnow
from accord.core.errors import Conflict, InvalidInput, NotFound, PayloadTooLarge
from accord.core.principals import BrandCaller
from accord.core.settings import Settings
from accord.outbox.models import OutboxMessage
from accord.relationships import decisions
from accord.relationships import service as relationships
from accord.relationships.schemas import GlobalPreferencesIn
from tests.builders import make_brand, make_member, make_person
from tests.conversations import PNG, Pair, count, pair


def caller(p: Pair) -> BrandCaller:
    return BrandCaller(brand_id=p.brand.id, role="owner", member_id=p.member.id)


def test_person_writes_brand_answers_person_replies(session: Session, settings: Settings) -> None:
    p = pair(session)
    thread, _ = service.start_person_thread(
        session, settings, p.person.id, p.brand.id, subject="", body="Is the record in stock?"
    )
    assert thread.subject == "Is the record in stock?"
    assert (thread.status, thread.waiting_on, thread.brand_unread) == ("open", "brand", 1)
    assert thread.first_response_at is None

    service.brand_reply(
        session, settings, caller(p), thread.id, body="Yes, two left.", via="console"
    )
    session.refresh(thread)
    assert (thread.waiting_on, thread.brand_unread, thread.person_unread) == ("person", 0, 1)
    assert thread.first_response_seconds is not None and thread.message_count == 2
    assert thread.last_preview == "Yes, two left." and thread.last_author == "brand"

    row = session.scalars(select(OutboxMessage).where(OutboxMessage.person_id == p.person.id)).one()
    assert (row.purpose, row.channel, row.state) == ("transactional", "email", "queued")
    assert row.payload is not None
    assert reply_address.thread_of(settings, row.payload["reply_to"]) == thread.id
    assert "Yes, two left." in row.payload["text"]

    service.read_by_person(session, thread)
    service.person_reply(session, settings, p.person.id, thread.id, body="I'll take one.")
    session.refresh(thread)
    assert (thread.waiting_on, thread.brand_unread, thread.person_unread) == ("brand", 1, 0)


def test_a_reply_to_a_closed_thread_reopens_it(session: Session, settings: Settings) -> None:
    p = pair(session)
    thread, _ = service.start_person_thread(
        session, settings, p.person.id, p.brand.id, subject="Order", body="Where is it?"
    )
    service.brand_reply(
        session, settings, caller(p), thread.id, body="Delivered today.", via="api", close=True
    )
    session.refresh(thread)
    assert thread.status == "closed" and thread.resolution_seconds is not None
    service.person_reply(session, settings, p.person.id, thread.id, body="Not here yet!")
    session.refresh(thread)
    assert (thread.status, thread.closed_at, thread.resolution_seconds) == ("open", None, None)


def test_the_brand_cannot_open_a_thread_without_an_open_relationship(
    session: Session, settings: Settings
) -> None:
    p = pair(session)
    stranger = make_person(session)
    with pytest.raises(NotFound):
        service.start_brand_thread(
            session, settings, caller(p), stranger.id, subject="Hi", body="Hello", via="api"
        )
    decisions.end(session, decisions.get(session, p.person.id, p.brand.id), decisions.PORTAL)
    with pytest.raises(Conflict, match="ended"):
        service.start_brand_thread(
            session, settings, caller(p), p.person.id, subject="Hi", body="Hello", via="api"
        )
    assert count(session, Thread) == 0


def test_no_contact_stops_the_brand_not_the_person(session: Session, settings: Settings) -> None:
    p = pair(session)
    relationships.apply_global(
        session, p.person.id, GlobalPreferencesIn(do_not_contact=True), decisions.PORTAL
    )
    with pytest.raises(Conflict, match="not to be contacted"):
        service.start_brand_thread(
            session, settings, caller(p), p.person.id, subject="Hi", body="Hello", via="api"
        )
    thread, _ = service.start_person_thread(
        session, settings, p.person.id, p.brand.id, subject="", body="A question"
    )
    service.brand_reply(session, settings, caller(p), thread.id, body="An answer", via="api")


def test_after_the_end_neither_side_writes(session: Session, settings: Settings) -> None:
    p = pair(session)
    thread, _ = service.start_person_thread(
        session, settings, p.person.id, p.brand.id, subject="", body="Hello"
    )
    decisions.end(session, decisions.get(session, p.person.id, p.brand.id), decisions.PORTAL)
    with pytest.raises(Conflict, match="ended"):
        service.person_reply(session, settings, p.person.id, thread.id, body="Still there?")
    with pytest.raises(Conflict, match="read-only"):
        service.brand_reply(session, settings, caller(p), thread.id, body="Yes", via="api")
    assert count(session, Message) == 1


def test_bad_input_writes_nothing(session: Session, settings: Settings) -> None:
    p = pair(session)
    with pytest.raises(InvalidInput, match="empty"):
        service.start_person_thread(
            session, settings, p.person.id, p.brand.id, subject="", body="   \n "
        )
    too_big = Upload("scan.png", PNG + b"\x00" * settings.attachment_max_bytes)
    with pytest.raises(PayloadTooLarge):
        service.start_person_thread(
            session, settings, p.person.id, p.brand.id, subject="", body="x", uploads=[too_big]
        )
    with pytest.raises(InvalidInput, match="not a file type"):
        service.start_person_thread(
            session,
            settings,
            p.person.id,
            p.brand.id,
            subject="",
            body="x",
            uploads=[Upload("run.exe", b"MZ\x90\x00")],
        )
    with pytest.raises(Conflict):  # no relationship with that brand
        service.start_person_thread(
            session, settings, p.person.id, make_brand(session).id, subject="", body="x"
        )
    assert (count(session, Thread), count(session, Message), count(session, Attachment)) == (
        0,
        0,
        0,
    )


def test_a_message_may_be_only_a_file_and_threads_stay_with_their_brand(
    session: Session, settings: Settings
) -> None:
    p, other = pair(session), pair(session)
    thread, message = service.start_person_thread(
        session,
        settings,
        p.person.id,
        p.brand.id,
        subject="Photo",
        body="",
        uploads=[Upload("label.png", PNG)],
    )
    assert thread.last_preview == "(1 attachment)"
    [info] = service.attachments_of(session, [message.id])[message.id]
    assert service.attachment_for_brand(session, p.brand.id, info.id).data == PNG
    assert service.attachment_for_person(session, p.person.id, info.id).data == PNG
    with pytest.raises(NotFound):
        service.attachment_for_brand(session, other.brand.id, info.id)
    with pytest.raises(NotFound):
        service.attachment_for_person(session, other.person.id, info.id)
    with pytest.raises(NotFound):
        service.for_brand(session, other.brand.id, thread.id)
    with pytest.raises(NotFound):  # assigning to another brand's member
        service.assign(session, thread, other.member.id)
    mine = make_member(session, brand=p.brand)
    assert service.assign(session, thread, mine.id).assigned_member_id == mine.id


def test_sms_text_lands_in_the_open_thread_or_a_new_one(
    session: Session, settings: Settings
) -> None:
    p = pair(session)
    first = service.receive_sms(session, p.person.id, p.brand.id, "Hi, is the shop open?")
    second = service.receive_sms(session, p.person.id, p.brand.id, "On Sunday?")
    assert first.thread_id == second.thread_id and second.via == "sms"
    thread = session.get_one(Thread, first.thread_id)
    service.set_status(session, thread, "closed")
    third = service.receive_sms(session, p.person.id, p.brand.id, "Thanks")
    assert third.thread_id != first.thread_id


def test_every_person_message_raises_the_webhook_event_never_a_note(
    session: Session, settings: Settings
) -> None:
    from accord.webhooks import service as webhooks
    from accord.webhooks.models import WebhookEvent

    p = pair(session)
    webhooks.create_endpoint(
        session,
        settings,
        p.brand.id,
        url="http://127.0.0.1:9/hook",
        event_types=["conversation.message_received"],
    )
    thread, first = service.start_person_thread(
        session, settings, p.person.id, p.brand.id, subject="Hi", body="First"
    )
    service.brand_reply(session, settings, caller(p), thread.id, body="Answer", via="api")
    service.note(session, thread, "internal", p.member.id)
    service.person_reply(session, settings, p.person.id, thread.id, body="Second")
    service.receive_sms(session, p.person.id, p.brand.id, "Third")
    payloads = [
        e.payload["data"]
        for e in session.scalars(select(WebhookEvent).order_by(WebhookEvent.created_at))
    ]
    assert [d["body"] for d in payloads] == ["First", "Second", "Third"]
    assert payloads[0] | {"at": None} == {
        "thread_id": str(thread.id),
        "message_id": str(first.id),
        "person_id": str(p.person.id),
        "subject": "Hi",
        "via": "portal",
        "body": "First",
        "attachments": 0,
        "thread_status": "open",
        "at": None,
    }


def test_the_reply_goes_on_each_chosen_channel_and_sms_waits_for_quiet_hours(
    session: Session, database: Database, settings: Settings
) -> None:
    from accord.delivery.worker import Worker
    from accord.relationships import global_prefs
    from accord.relationships.vocabulary import Channel, Purpose
    from tests.sms.world import add_phone
    from tests.waiting import drain

    p = pair(session)
    add_phone(session, p.person, "+13055550181")
    rel = decisions.get(session, p.person.id, p.brand.id)
    decisions.set_channel(session, rel, Purpose.transactional, Channel.sms, True, decisions.PORTAL)
    global_prefs.set_quiet_hours(session, p.person.id, "22:00", "07:00", decisions.PORTAL)
    thread, _ = service.start_person_thread(
        session, settings, p.person.id, p.brand.id, subject="", body="Hello"
    )
    service.brand_reply(session, settings, caller(p), thread.id, body="Good night!", via="api")
    session.commit()
    rows = session.scalars(select(OutboxMessage).order_by(OutboxMessage.channel)).all()
    assert [r.channel for r in rows] == ["email", "sms"]
    assert rows[1].payload is not None and "reply_to" not in rows[1].payload
    assert rows[1].payload["text"].startswith(f"{p.brand.name}: Good night! Read and reply:")

    night = (utcnow() + timedelta(days=1)).replace(hour=3, minute=0, second=0, microsecond=0)
    drain(Worker(database, settings), now=night)
    session.expire_all()
    email, sms = session.scalars(select(OutboxMessage).order_by(OutboxMessage.channel)).all()
    assert email.state == "sent"
    # 03:00 is inside the person's quiet hours and outside the hours texts may go anywhere
    # (08:00-21:00, the compliance rules): the legal window is checked first, and opens later.
    assert (sms.state, sms.reason) == ("deferred", "legal_window")
    assert sms.not_before == night.replace(hour=8)  # SMS waits for 08:00 local (UTC here)


def test_inbox_filters_and_counts(session: Session, settings: Settings) -> None:
    from accord.conversations import inbox

    p = pair(session)
    mine, _ = service.start_person_thread(
        session, settings, p.person.id, p.brand.id, subject="One", body="a"
    )
    answered, _ = service.start_person_thread(
        session, settings, p.person.id, p.brand.id, subject="Two", body="b"
    )
    closed, _ = service.start_person_thread(
        session, settings, p.person.id, p.brand.id, subject="Three", body="c"
    )
    service.assign(session, mine, p.member.id)
    service.brand_reply(session, settings, caller(p), answered.id, body="ok", via="api")
    service.set_status(session, closed, "closed")

    def ids(kind: inbox.Filter) -> set[object]:
        rows, _ = inbox.page(session, p.brand.id, kind, member_id=p.member.id)
        return {r.id for r in rows}

    assert ids(inbox.Filter.open) == {mine.id, answered.id}
    assert ids(inbox.Filter.waiting) == {mine.id}
    assert ids(inbox.Filter.mine) == {mine.id}
    assert ids(inbox.Filter.closed) == {closed.id}
    assert ids(inbox.Filter.all) == {mine.id, answered.id, closed.id}
    assert inbox.counts(session, p.brand.id, p.member.id) == {"open": 2, "waiting": 1, "mine": 1}
    assert (inbox.count_text(5), inbox.count_text(1000)) == ("5", "999+")
    first, cursor = inbox.page(session, p.brand.id, inbox.Filter.all, limit=2)
    rest, end = inbox.page(session, p.brand.id, inbox.Filter.all, cursor=cursor, limit=2)
    assert len(first) == 2 and len(rest) == 1 and end is None
    assert {r.id for r in first + rest} == ids(inbox.Filter.all)
