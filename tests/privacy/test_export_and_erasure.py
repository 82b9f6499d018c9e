"""Export covers every table with person data; erasure leaves no trace of the address."""

from __future__ import annotations

import base64
from datetime import timedelta
from decimal import Decimal

from sqlalchemy import JSON, String, Text, cast, func, select
from sqlalchemy.orm import Session

from accord.analytics.models import Customer, CustomerScore, ModelFit, Transaction
from accord.brands.models import Brand
from accord.campaigns import messages
from accord.campaigns.schemas import MessageCreate
from accord.consent import ledger, verification
from accord.conversations import service as conversations
from accord.conversations.files import Upload
from accord.core.auth_models import AuthSession
from accord.core.db import utcnow
from accord.core.settings import Settings
from accord.ideas import service as ideas
from accord.inbox.models import InboxItem
from accord.mail.backends import DevMailer
from accord.models import metadata
from accord.outbox.models import DeliveryEvent
from accord.people import contacts
from accord.people import service as people
from accord.people.models import Person
from accord.privacy import service as privacy
from accord.relationships import brand_records, decisions, global_prefs
from accord.relationships.decisions import PORTAL
from accord.relationships.schemas import ConsentRecord, Evidence, Invite
from accord.relationships.vocabulary import Channel, Purpose
from accord.sms import numbers
from accord.sms.dev_phone import DevPhoneGateway
from accord.sms.inbound import Inbound, receive
from accord.sms.texts import Texter
from tests.builders import make_brand, make_person, make_relationship, make_topic

EMAIL = "erase.me@example.com"
PHONE_LOCAL = "030 7654321"
PHONE = "+49307654321"
NAME = "Zebulon Erasmus"


def lived_in_person(session: Session, settings: Settings) -> Person:
    """A person with a row in every table that can hold person data."""
    person = make_person(session, email=EMAIL, display_name=NAME)
    brand, other, third = make_brand(session), make_brand(session), make_brand(session)
    topic = make_topic(session, brand=brand)
    rel = make_relationship(
        session, person=person, brand=brand, marketing=True, channels=("email",), topics_on=(topic,)
    )
    decisions.share(session, rel, {"size": "M", "note": NAME}, PORTAL)
    decisions.set_channel_order(session, rel, [Channel.sms, Channel.email], PORTAL)
    _postal_mailing(session, person)  # before the pause below, which would leave them out
    global_prefs.set_quiet_hours(session, person.id, "22:00", "07:00", PORTAL)
    global_prefs.pause_all(session, person.id, utcnow() + timedelta(days=2), PORTAL)
    texter = Texter(None, settings, DevPhoneGateway())
    phone = contacts.add_phone(session, settings, texter, person.id, PHONE_LOCAL, "DE")
    brand_number = numbers.register(session, brand.id, "+12025550147")
    receive(
        session,
        settings,
        texter,
        Inbound("dev", "in-1", phone.address, brand_number.number, f"Hi, {NAME} here"),
    )
    evidence = Evidence(
        collected_at=utcnow(),
        method="form",
        notice_version="v1",
        form_url="https://x.example/f",
        ip="198.51.100.1",
    )  # type: ignore[arg-type]
    brand_records.record_consent(
        session,
        settings,
        DevMailer(),
        other,
        ConsentRecord(email=EMAIL, purpose=Purpose.marketing, evidence=evidence),
    )
    brand_records.invite(session, settings, DevMailer(), third, Invite(email=EMAIL))
    people.request_sign_in(session, settings, DevMailer(), EMAIL)
    session.add(  # a signed-in session, as using the sign-in link leaves one
        AuthSession(
            token_hash="0" * 64,
            subject_kind="person",
            subject_id=person.id,
            expires_at=utcnow() + timedelta(days=14),
        )
    )
    orders = make_topic(session, brand=brand, purpose="transactional")
    message = messages.enqueue(
        session,
        brand.id,
        MessageCreate(
            topic_id=orders.id, person_id=person.id, subject="Order", text=f"Dear {NAME}"
        ),
        idempotency_key="k1",
    )
    message.to_address = EMAIL
    session.add(
        DeliveryEvent(
            brand_id=brand.id,
            message_id=message.id,
            person_id=person.id,
            kind="bounced",
            detail=f"550 {EMAIL} unknown",
        )
    )
    session.add(
        InboxItem(brand_id=brand.id, person_id=person.id, title="For you", body=f"Hi {NAME}")
    )
    decisions.set_purpose(session, rel, Purpose.profiling, True, PORTAL)
    customer = Customer(brand_id=brand.id, external_id=EMAIL, person_id=person.id)
    session.add(customer)
    session.flush()
    session.add(
        Transaction(
            brand_id=brand.id,
            customer_id=customer.id,
            occurred_at=utcnow(),
            amount=Decimal("9.99"),
            currency="EUR",
            order_id="o-1",
            product=NAME,
        )
    )
    fit = ModelFit(
        brand_id=brand.id,
        model="bgnbd",
        params={},
        log_likelihood=-1.0,
        customers=1,
        calibration_start=utcnow() - timedelta(days=90),
        cutoff=utcnow(),
    )
    session.add(fit)
    session.flush()
    session.add(
        CustomerScore(
            person_id=person.id,
            brand_id=brand.id,
            customer_id=customer.id,
            fit_id=fit.id,
            frequency=1,
            recency_weeks=1.0,
            age_weeks=2.0,
            average_spend=9.99,
            p_alive=0.9,
            expected_purchases=1.2,
            expected_spend=10.0,
            clv=12.0,
        )
    )
    session.flush()
    thread, _ = conversations.start_person_thread(
        session,
        settings,
        person.id,
        brand.id,
        subject=f"From {NAME}",
        body=f"Hello, I am {NAME}",
        uploads=[Upload("note.txt", NAME.encode())],
    )
    conversations.note(session, thread, f"{NAME} called about it", None)
    board = ideas.create_board(session, brand.id, title="Ideas")
    idea = ideas.propose(session, person.id, board, title=f"{NAME}'s idea", body=NAME)
    ideas.comment(session, idea, f"Signed, {NAME}", person_id=person.id)
    ideas.set_status(session, settings, idea, "planned", reply="Thanks", member_id=None)
    _terms_and_intents(session, person, brand, other)
    return person


def _postal_mailing(session: Session, person: Person) -> None:
    """A printed mailing the person was exported into, under their name and address."""
    from accord.campaigns import service as campaigns
    from accord.campaigns.schemas import CampaignCreate
    from accord.postal import service as postal

    printer = make_brand(session)
    catalogue = make_topic(session, brand=printer)
    make_relationship(
        session,
        person=person,
        brand=printer,
        marketing=True,
        channels=("postal",),
        topics_on=(catalogue,),
    )
    contacts.add_postal(session, person.id, f"{NAME}, 12 Harbour Street, Bristol BS1 4RN, UK")
    mailing = CampaignCreate.model_validate(
        {
            "name": "Catalogue",
            "topic_id": str(catalogue.id),
            "channel": "postal",
            "subject": "Spring catalogue",
            "text": "Printed.",
        }
    )
    campaign = campaigns.create(session, printer.id, mailing, member_id=None)
    assert postal.export(session, printer.id, campaign.id, None).exported == 1


def _terms_and_intents(session: Session, person: Person, brand: Brand, other: Brand) -> None:
    """An agreement, a stance, an intent the brand saw and answered, a blocked brand."""
    from accord.intents import service as intents
    from accord.intents.schemas import IntentIn, OfferIn
    from accord.terms import service as terms
    from tests.intents.world import intent_body

    # No-sharing, not a term that forbids profiling: that would delete the score above.
    terms.publish(session, brand.id, [("no-sharing", 1), ("no-stalking", 1)])
    terms.proffer(session, person.id, "no-sharing", None, brand.id)
    terms.set_only_my_terms(session, person.id, True)
    intents.subscribe(session, brand.id, ["bicycles"])
    body = intent_body(description=f"{NAME} wants a bike")
    intent = intents.publish(session, person.id, IntentIn.model_validate(body))
    intents.visible_intent(session, brand.id, intent.id)
    offer = OfferIn(
        price=Decimal("10"), currency="EUR", description="A bike",
        expires_at=utcnow() + timedelta(days=1),
    )  # fmt: skip
    intents.offer(session, brand.id, intent.id, offer)
    intents.block(session, person.id, other.slug)


def test_every_table_with_person_data_is_in_the_export(
    session: Session, settings: Settings
) -> None:
    covered = {table.name for table, _ in privacy.person_tables()}
    referring = {
        fk.parent.table.name
        for table in metadata.sorted_tables
        for fk in table.foreign_keys
        if fk.column.table.name == "people"
    }
    assert referring <= covered, (
        f"tables referring to people but not exported: {referring - covered}"
    )
    person = lived_in_person(session, settings)
    document = privacy.export(session, person.id)
    covered |= {table.name for table, *_ in privacy.dependent_tables()}
    assert "analytics_transactions" in covered
    private = {name for name in covered if metadata.tables[name].info.get("export") is False}
    assert private == {"conversation_notes"}  # a brand's internal notes: erased, not exported
    assert not private & set(document["tables"])
    for name in covered - {"ledger_events"} - private:
        assert document["tables"].get(name), f"{name}: no rows exported; extend lived_in_person()"
    [attachment] = document["tables"]["conversation_attachments"]
    assert base64.b64decode(attachment["data"]) == NAME.encode()
    assert document["tables"]["people"][0]["email"] == EMAIL
    assert len(document["ledger_events"]) == len(ledger.events_for(session, person.id)) > 5
    flat = str(document)
    assert "token_hash" not in flat and "code_hash" not in flat
    # The summary page counts what the export reads: the same tables, the same rows.
    profile, counts = privacy.summary(session, person.id)
    assert profile == document["tables"]["people"][0]
    held = {name: len(rows) for name, rows in document["tables"].items() if name != "people"}
    assert counts == held


def text_columns() -> list[tuple[str, str]]:
    return [
        (table.name, column.name)
        for table in metadata.sorted_tables
        for column in table.columns
        if isinstance(column.type, String | Text | JSON)
    ]


def occurrences(session: Session, needle: str) -> list[str]:
    found = []
    for table_name, column_name in text_columns():
        column = metadata.tables[table_name].c[column_name]
        hits = session.scalar(
            select(func.count()).where(func.lower(cast(column, Text)).contains(needle.lower()))
        )
        if hits:
            found.append(f"{table_name}.{column_name}")
    return found


def test_erasure_leaves_the_address_nowhere_but_keeps_the_proof(
    session: Session, settings: Settings
) -> None:
    person = lived_in_person(session, settings)
    events_before = len(ledger.events_for(session, person.id))
    assert occurrences(session, EMAIL), "the scan must see the address before erasure"
    privacy.erase_account(session, settings, person.id)
    for needle in (EMAIL, PHONE, NAME):
        assert occurrences(session, needle) == [], needle
    assert session.get(Person, person.id) is None
    chain = ledger.events_for(session, person.id)
    assert len(chain) == events_before + 1 and ledger.body_of(chain[-1])["action"] == "erase"
    assert verification.verify(session, subject=person.id)[1] == []
    assert people.is_erased(session, settings, EMAIL, make_brand(session).id)


def test_erasing_for_one_brand_keeps_the_rest(session: Session, settings: Settings) -> None:
    person = make_person(session, email="partial@example.com")
    brand, other = make_brand(session), make_brand(session)
    rel = make_relationship(session, person=person, brand=brand, marketing=True)
    decisions.share(session, rel, {"likes": "jazz"}, PORTAL)
    make_relationship(session, person=person, brand=other, marketing=True)
    privacy.erase_for_brand(session, settings, person.id, brand.id)
    assert rel.state == "ended" and rel.shared == {}
    assert people.is_erased(session, settings, "partial@example.com", brand.id)
    assert not people.is_erased(session, settings, "partial@example.com", other.id)
    assert decisions.get(session, person.id, other.id).state == "active"
