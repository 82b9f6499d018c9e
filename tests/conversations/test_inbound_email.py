"""Replies by e-mail through a real aiosmtpd-fed inbound endpoint, wired as `accord
inbound-smtp` wires it: the brand's answer goes out through the real worker with the thread's
signed Reply-To; the person's reply to it lands in the thread without the quote. Whatever
cannot be taken is refused in the SMTP dialogue (the sender's server bounces it) and nothing
is stored."""

from __future__ import annotations

import smtplib
from collections.abc import Iterator
from email.message import EmailMessage

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from accord.conversations import reply_address, service
from accord.conversations.models import Attachment, Message, Thread
from accord.core.db import Database
from accord.core.principals import BrandCaller
from accord.core.settings import EmailBackend, Settings
from accord.delivery.worker import Worker
from accord.relationships import decisions
from tests.conversations import PNG, Pair, count, gmail_reply, inbound_server, pair, send
from tests.smtp_sink import Sink, smtp_sink
from tests.waiting import drain


@pytest.fixture
def sink() -> Iterator[Sink]:
    with smtp_sink() as s:
        yield s


def started(session: Session, settings: Settings) -> tuple[Pair, Thread]:
    p = pair(session, email="ada@people.example")
    thread, _ = service.start_person_thread(
        session, settings, p.person.id, p.brand.id, subject="Vinyl", body="Is it in stock?"
    )
    session.commit()
    return p, thread


def messages_of(session: Session, thread: Thread) -> list[Message]:
    session.expire_all()
    return list(
        session.scalars(
            select(Message).where(Message.thread_id == thread.id).order_by(Message.created_at)
        )
    )


def test_a_reply_to_the_brands_email_lands_in_the_thread_without_the_quote(
    session: Session, database: Database, settings: Settings, sink: Sink
) -> None:
    p, thread = started(session, settings)
    caller = BrandCaller(brand_id=p.brand.id, role="owner", member_id=p.member.id)
    service.brand_reply(
        session, settings, caller, thread.id, body="Yes: two copies left.", via="console"
    )
    session.commit()
    smtp = settings.model_copy(
        update={"email_backend": EmailBackend.smtp, "smtp_host": sink.host, "smtp_port": sink.port}
    )
    assert drain(Worker(database, smtp)).sent == 1
    [sent] = sink.to("ada@people.example")
    reply_to = str(sent["Reply-To"])
    assert reply_address.thread_of(settings, reply_to) == thread.id
    assert "Yes: two copies left." in sent.get_payload(decode=True).decode()  # type: ignore[union-attr]

    answer = gmail_reply(
        sender="ada@people.example",
        to=reply_to,
        text="Great, please keep one for me.",
        quoted="Yes: two copies left.\nGroove Records",
    )
    with inbound_server(database, settings) as port:
        send(port, answer, sender="ada@people.example", to=reply_to)

    last = messages_of(session, thread)[-1]
    assert (last.author, last.via, last.body) == (
        "person",
        "email",
        "Great, please keep one for me.",
    )
    assert last.original is not None and "> Yes: two copies left." in last.original
    session.refresh(thread)
    assert (thread.waiting_on, thread.brand_unread) == ("brand", 1)


def test_a_forged_or_altered_reply_address_is_refused_and_nothing_stored(
    session: Session, database: Database, settings: Settings
) -> None:
    p, thread = started(session, settings)
    good = reply_address.address_for(settings, thread.id)
    altered = good.replace("reply+", "reply+a", 1)[:-1]
    made_up = "reply+aaaaaaaaaaaaaaaaaaaaaaaaaa.bbbbbbbbbbbbbbbb@testserver"
    with inbound_server(database, settings) as port:
        for address in (altered, made_up, good.replace(".", ".x", 1)):
            message = gmail_reply(sender=p.person.email, to=address, text="Hi", quoted="x")
            with pytest.raises(smtplib.SMTPRecipientsRefused) as refused:
                send(port, message, sender=p.person.email, to=address)
            code, text = refused.value.recipients[address]
            assert code == 550 and b"not valid" in text
    assert len(messages_of(session, thread)) == 1


def _refused(port: int, raw: bytes | EmailMessage, *, sender: str, to: str) -> tuple[int, bytes]:
    with pytest.raises(smtplib.SMTPDataError) as refused:
        send(port, raw, sender=sender, to=to)
    error = refused.value.smtp_error
    return refused.value.smtp_code, error if isinstance(error, bytes) else error.encode()


def test_what_cannot_be_taken_bounces_with_the_reason(
    session: Session, database: Database, settings: Settings
) -> None:
    p, thread = started(session, settings)
    to = reply_address.address_for(settings, thread.id)
    me = p.person.email
    with inbound_server(database, settings) as port:
        stranger = gmail_reply(sender="mallory@evil.example", to=to, text="Hi", quoted="x")
        assert _refused(port, stranger, sender="mallory@evil.example", to=to)[0] == 550

        only_quote = gmail_reply(sender=me, to=to, text="", quoted="Is it in stock?")
        code, text = _refused(port, only_quote, sender=me, to=to)
        assert code == 550 and b"no text" in text

        malformed = (
            b"From: " + me.encode() + b"\r\nTo: " + to.encode() + b"\r\nSubject: x\r\n"
            b"Content-Type: multipart/mixed\r\n\r\n--\r\nnot a part\r\n"
        )
        code, text = _refused(port, malformed, sender=me, to=to)
        assert code == 550 and b"malformed" in text

        with_exe = gmail_reply(sender=me, to=to, text="See attached.", quoted="x")
        with_exe.add_attachment(
            b"MZ\x90\x00", maintype="application", subtype="octet-stream", filename="run.exe"
        )
        code, text = _refused(port, with_exe, sender=me, to=to)
        assert code == 554 and b"run.exe" in text

        too_big = gmail_reply(sender=me, to=to, text="Scan attached.", quoted="x")
        blob = PNG + b"\x00" * settings.attachment_max_bytes
        too_big.add_attachment(blob, maintype="image", subtype="png", filename="scan.png")
        assert _refused(port, too_big, sender=me, to=to)[0] == 552

        with_png = gmail_reply(sender=me, to=to, text="Here is the label.", quoted="x")
        with_png.add_attachment(PNG, maintype="image", subtype="png", filename="label.png")
        send(port, with_png, sender=me, to=to)

        decisions.end(session, decisions.get(session, p.person.id, p.brand.id), decisions.PORTAL)
        session.commit()
        late = gmail_reply(sender=me, to=to, text="Hello?", quoted="x")
        code, text = _refused(port, late, sender=me, to=to)
        assert code == 550 and b"ended" in text

    stored = messages_of(session, thread)
    assert [m.body for m in stored] == ["Is it in stock?", "Here is the label."]
    assert count(session, Attachment) == 1


def test_a_closed_thread_reopens_and_other_mail_still_reaches_feedback(
    session: Session, database: Database, settings: Settings
) -> None:
    p, thread = started(session, settings)
    service.set_status(session, thread, "closed")
    session.commit()
    to = reply_address.address_for(settings, thread.id)
    with inbound_server(database, settings) as port:
        send(
            port,
            gmail_reply(sender=p.person.email, to=to, text="One more thing", quoted="x"),
            sender=p.person.email,
            to=to,
        )
        plain = EmailMessage()
        plain["From"], plain["To"], plain["Subject"] = "a@b.example", "x@testserver", "hello"
        plain.set_content("Nothing to report.")
        send(port, plain, sender="a@b.example", to="x@testserver")  # accepted, dropped
    session.refresh(thread)
    assert thread.status == "open" and thread.message_count == 2
