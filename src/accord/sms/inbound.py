"""A text a person sent to a number Accord answers for: routed, classified, acted on.

The number texted gives the brand (the brand that owns it; for Accord's own number, the brands
that have texted this person from it, the latest first); the sender's number gives the person.
Then:

- stop: SMS marketing is withdrawn for that brand (ledger event, source `sms_keyword`, the
  message's keyed hash as evidence), and one confirmation text goes back, with no marketing;
- stop_all: the same for every brand sending to the person from that number, one confirmation;
- start: SMS marketing is chosen again for that brand, with the same evidence, and confirmed;
- help: the brand's help text goes back;
- other: a reply the brand reads (`InboundSms`), handed to every registered reply handler
  (the conversations domain threads them) in the same transaction.

Each inbound text is kept once per provider id: a provider retrying its callback changes
nothing and sends nothing again. A text from a number no person has, or to a number no brand
has, is kept with its outcome and changes nothing.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import phonenumbers
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from accord.brands import service as brands
from accord.consent.service import Scope
from accord.core.errors import Conflict, NotFound
from accord.core.security import keyed_hash
from accord.core.settings import Settings
from accord.outbox.models import OutboxMessage
from accord.people.models import ContactPoint
from accord.relationships import service as relationships
from accord.relationships.vocabulary import Channel, Purpose, Source
from accord.sms import numbers
from accord.sms.classifier import Kind, classify
from accord.sms.models import InboundSms, SendingNumber, SmsMessage
from accord.sms.texts import Texter

MAX_BODY = 2000
SMS_MARKETING = Scope(purpose=Purpose.marketing.value, channel=Channel.sms.value)


@dataclass(frozen=True)
class Inbound:
    """An inbound text as a gateway reports it."""

    provider: str
    provider_id: str
    from_number: str
    to_number: str
    text: str


@dataclass(frozen=True)
class Reply:
    """A person's text to a brand that is not a keyword: what reply handlers receive."""

    id: int
    brand_id: uuid.UUID
    person_id: uuid.UUID
    from_number: str
    to_number: str
    text: str
    received_at: datetime


ReplyHandler = Callable[[Session, Reply], None]


@dataclass(frozen=True)
class Received:
    inbound_id: int
    kind: str
    outcome: str
    duplicate: bool = False


def _e164(number: str) -> str | None:
    try:
        parsed = phonenumbers.parse(number.strip(), None)
    except phonenumbers.NumberParseException:
        return None
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)


def _person(session: Session, number: str | None) -> uuid.UUID | None:
    if number is None:
        return None
    return session.scalar(
        select(ContactPoint.person_id).where(
            ContactPoint.channel == Channel.sms.value, ContactPoint.address_normalised == number
        )
    )


def brands_texting(
    session: Session, person_id: uuid.UUID, number: str, *, shared: bool = False
) -> list[uuid.UUID]:
    """The brands that have texted the person from `number`, the latest first: Accord's own
    texts for them, and, on Accord's own number, the messages of brands without a number."""
    latest: dict[uuid.UUID, datetime] = {}

    def seen(rows: Sequence[Any]) -> None:
        for brand_id, at in rows:
            if brand_id is not None and at is not None:
                latest[brand_id] = max(at, latest.get(brand_id, at))

    last_text = func.max(SmsMessage.created_at)
    seen(
        session.execute(
            select(SmsMessage.brand_id, last_text)
            .where(SmsMessage.person_id == person_id, SmsMessage.from_number == number)
            .group_by(SmsMessage.brand_id)
        ).all()
    )
    if shared:
        own_number = select(SendingNumber.brand_id)
        last_sent = func.max(OutboxMessage.sent_at)
        seen(
            session.execute(
                select(OutboxMessage.brand_id, last_sent)
                .where(
                    OutboxMessage.person_id == person_id,
                    OutboxMessage.channel == Channel.sms.value,
                    OutboxMessage.sent_at.is_not(None),
                    OutboxMessage.brand_id.not_in(own_number),
                )
                .group_by(OutboxMessage.brand_id)
            ).all()
        )
    return sorted(latest, key=lambda brand_id: latest[brand_id], reverse=True)


def receive(
    session: Session,
    settings: Settings,
    texter: Texter,
    inbound: Inbound,
    handlers: Sequence[ReplyHandler] = (),
) -> Received:
    found = session.scalars(
        select(InboundSms).where(
            InboundSms.provider == inbound.provider, InboundSms.provider_id == inbound.provider_id
        )
    ).one_or_none()
    if found is not None:
        return Received(found.id, found.kind, found.outcome, duplicate=True)
    sender, to = _e164(inbound.from_number), _e164(inbound.to_number)
    kind = classify(inbound.text)
    person_id = _person(session, sender)
    owner = numbers.owner_of(session, to) if to else None
    row = InboundSms(
        provider=inbound.provider,
        provider_id=inbound.provider_id,
        from_number=(sender or inbound.from_number)[:32],
        to_number=(to or inbound.to_number)[:32],
        brand_id=owner,
        person_id=person_id,
        kind=kind.value,
        body=inbound.text[:MAX_BODY],
        outcome="received",
    )
    try:
        with session.begin_nested():
            session.add(row)
    except IntegrityError:  # the same callback, at the same moment, in another request
        return Received(0, kind.value, "duplicate", duplicate=True)
    shared = to is not None and to == _e164(settings.sms_from or "")
    if person_id is None:
        row.outcome = "unknown_sender"
    elif to is None or (owner is None and not shared):
        row.outcome = "unknown_number"
    else:
        here = [owner] if owner is not None else brands_texting(session, person_id, to, shared=True)
        if not here:
            row.outcome = "no_brand"
        else:
            row.brand_id = here[0]
            act = Acting(session, settings, texter, row, person_id, to)
            row.outcome = act.on(kind, here, handlers)
    session.flush()
    return Received(row.id, row.kind, row.outcome)


@dataclass
class Acting:
    session: Session
    settings: Settings
    texter: Texter
    row: InboundSms
    person_id: uuid.UUID
    number: str

    def evidence(self) -> dict[str, str]:
        secret = self.settings.resolved_secret_key()
        return {
            "message": keyed_hash(secret, self.row.body, purpose="evidence"),
            "inbound": f"{self.row.provider}:{self.row.provider_id}",
        }

    def on(self, kind: Kind, here: list[uuid.UUID], handlers: Sequence[ReplyHandler]) -> str:
        brand_id = here[0]
        if kind is Kind.stop or kind is Kind.stop_all:
            targets = here if kind is Kind.stop_all else [brand_id]
            changed = [self.withdraw(b) for b in targets]
            self.confirm_stop(targets)
            return "withdrawn" if any(changed) else "unchanged"
        if kind is Kind.start:
            outcome = self.grant(brand_id)
            if outcome != "no_relationship":
                name = brands.get_brand(self.session, brand_id).name
                self.text(
                    brand_id,
                    f"{name}: you will get marketing texts from us again. "
                    "Reply STOP to opt out, HELP for help.",
                )
            return outcome
        if kind is Kind.help:
            self.text(brand_id, numbers.help_text(self.session, brand_id), kind="help")
            return "help_sent"
        reply = Reply(
            id=self.row.id,
            brand_id=brand_id,
            person_id=self.person_id,
            from_number=self.row.from_number,
            to_number=self.number,
            text=self.row.body,
            received_at=self.row.received_at,
        )
        for handler in handlers:
            handler(self.session, reply)
        return "reply"

    def withdraw(self, brand_id: uuid.UUID) -> bool:
        try:
            return relationships.withdraw(
                self.session,
                self.person_id,
                brand_id,
                SMS_MARKETING,
                Source.sms_keyword,
                self.evidence(),
            )
        except NotFound:  # no relationship: nothing to withdraw
            return False

    def grant(self, brand_id: uuid.UUID) -> str:
        rel = relationships.find(self.session, self.person_id, brand_id)
        if rel is None:
            return "no_relationship"
        actor = relationships.Actor(source=Source.sms_keyword, evidence=self.evidence())
        try:
            changed = relationships.set_channel(
                self.session, rel, Purpose.marketing, Channel.sms, True, actor
            )
        except Conflict:  # the relationship has ended: START does not start it again
            return "no_relationship"
        return "granted" if changed else "unchanged"

    def confirm_stop(self, targets: list[uuid.UUID]) -> None:
        """One text, no marketing in it: what stopped, and how to undo it."""
        names = [brands.get_brand(self.session, b).name for b in targets]
        if len(names) == 1:
            body = (
                f"{names[0]}: you will get no more marketing texts from us. "
                "Reply START to get them again."
            )
        else:
            body = (
                f"You will get no more marketing texts from {', '.join(names)} on this number. "
                "Reply START to get them again."
            )
        self.text(targets[0], body)

    def text(self, brand_id: uuid.UUID, body: str, *, kind: str = "confirmation") -> None:
        assert self.row.from_number
        self.texter.send(
            self.session,
            to=self.row.from_number,
            text=body,
            kind=kind,
            sender=self.number,
            brand_id=brand_id,
            person_id=self.person_id,
        )
