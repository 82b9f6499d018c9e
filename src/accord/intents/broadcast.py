"""The person's side: publish an intent, withdraw it, block a brand, accept one offer.

Accepting is the only moment a brand learns who the person is: the intent closes, the chosen
offer is accepted and the others are closed (their brands learn only that), the relationship
with the chosen brand starts on the intent's channel (ledger source `intent_accept`), and the
terms the intent required become agreements with that brand, signed by both sides.
"""

from __future__ import annotations

import secrets
import uuid
from datetime import date, datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from accord.brands import service as brands
from accord.core.db import insert_or_ignore, rowcount, utcnow
from accord.core.errors import AccordError, Conflict, InvalidInput, NotFound
from accord.core.settings import Settings
from accord.intents import answering
from accord.intents.models import Block, Intent, IntentTerm, Offer, View
from accord.intents.schemas import IntentIn
from accord.intents.views import end_of_day
from accord.intents.vocabulary import IntentStatus, OfferStatus
from accord.mail.service import Mailer
from accord.relationships import service as relationships
from accord.terms import service as terms

# Unambiguous letters and digits: a pseudonym is read aloud or typed.
_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"
INTENT_ACCEPT = "intent_accept"


def new_pseudonym() -> str:
    """A fresh name per intent ("Shopper K7QM-2XWD"): two intents of one person never share it."""
    chars = "".join(secrets.choice(_ALPHABET) for _ in range(8))
    return f"Shopper {chars[:4]}-{chars[4:]}"


def publish(
    session: Session,
    person_id: uuid.UUID,
    data: IntentIn,
    *,
    settings: Settings | None = None,
    mailer: Mailer | None = None,
    today: date | None = None,
) -> Intent:
    """Publish an intent; brands' auto-offer rules that match answer it at once."""
    today = today or utcnow().date()
    if data.timeframe_end < today:
        raise InvalidInput(
            "The timeframe ends in the past: choose a day from today on.", field="timeframe_end"
        )
    required = []
    for i, ref in enumerate(data.terms):
        entry = terms.roster_entry(
            session,
            ref.id,
            ref.version,
            field=f"terms.{i}.id",
            version_field=f"terms.{i}.version",
        )
        if entry.key in required:
            raise InvalidInput("The same agreement is listed twice.", field=f"terms.{i}.id")
        required.append(entry.key)
    if len({slug for slug, _ in required}) != len(required):
        raise InvalidInput("Name each agreement once.", field="terms")
    intent = Intent(
        person_id=person_id,
        pseudonym=new_pseudonym(),
        category=data.category,
        description=data.description,
        budget_min=data.budget_min,
        budget_max=data.budget_max,
        currency=data.currency,
        timeframe_end=end_of_day(data.timeframe_end) - timedelta(days=1),
        expires_at=end_of_day(data.timeframe_end),
        country=data.region.country,
        subdivision=data.region.subdivision,
        channel=data.channel.value,
        status=IntentStatus.open.value,
    )
    session.add(intent)
    session.flush()
    for slug, version in required:
        session.add(IntentTerm(intent_id=intent.id, slug=slug, version=version))
    session.flush()
    answering.auto_offer(session, intent, settings=settings, mailer=mailer)
    return intent


def own_intent(session: Session, person_id: uuid.UUID, intent_id: uuid.UUID) -> Intent:
    intent = session.scalars(
        select(Intent).where(Intent.id == intent_id, Intent.person_id == person_id)
    ).one_or_none()
    if intent is None:
        raise NotFound("You have no such intent.", field="intent")
    return intent


def mine(session: Session, person_id: uuid.UUID) -> list[Intent]:
    return list(
        session.scalars(
            select(Intent)
            .where(Intent.person_id == person_id)
            .order_by(Intent.created_at.desc(), Intent.id.desc())
        )
    )


def _close_offers(session: Session, intent_id: uuid.UUID, *, but: uuid.UUID | None = None) -> None:
    query = update(Offer).where(
        Offer.intent_id == intent_id, Offer.status == OfferStatus.open.value
    )
    if but is not None:
        query = query.where(Offer.id != but)
    session.execute(query.values(status=OfferStatus.closed.value))


def withdraw(session: Session, person_id: uuid.UUID, intent_id: uuid.UUID) -> Intent:
    intent = own_intent(session, person_id, intent_id)
    changed = session.execute(
        update(Intent)
        .where(Intent.id == intent.id, Intent.status == IntentStatus.open.value)
        .values(status=IntentStatus.withdrawn.value, closed_at=utcnow())
    )
    if rowcount(changed) != 1:
        raise Conflict(f"This intent is {intent.status} already.", field="intent")
    _close_offers(session, intent.id)
    session.flush()
    session.refresh(intent)
    return intent


def block(session: Session, person_id: uuid.UUID, brand_slug: str) -> uuid.UUID:
    """The brand no longer sees the person's intents nor offers on them; its open offers on
    them are closed."""
    brand = brands.get_brand_by_slug(session, brand_slug)
    insert_or_ignore(
        session, Block, {"person_id": person_id, "brand_id": brand.id, "created_at": utcnow()}
    )
    mine_open = select(Intent.id).where(Intent.person_id == person_id)
    session.execute(
        update(Offer)
        .where(
            Offer.brand_id == brand.id,
            Offer.intent_id.in_(mine_open),
            Offer.status == OfferStatus.open.value,
        )
        .values(status=OfferStatus.closed.value)
    )
    session.flush()
    return brand.id


def unblock(session: Session, person_id: uuid.UUID, brand_id: uuid.UUID) -> None:
    row = session.get(Block, (person_id, brand_id))
    if row is None:
        raise NotFound("You do not block this brand.", field="brand")
    session.delete(row)
    session.flush()


def blocked(session: Session, person_id: uuid.UUID) -> list[tuple[uuid.UUID, str]]:
    rows = session.scalars(select(Block.brand_id).where(Block.person_id == person_id)).all()
    return sorted(((b, brands.get_brand(session, b).name) for b in rows), key=lambda r: r[1])


def seen_by(
    session: Session, person_id: uuid.UUID, intent_id: uuid.UUID
) -> list[tuple[uuid.UUID, str, datetime, bool]]:
    """(brand, name, first seen, offered) of every brand that saw the intent."""
    intent = own_intent(session, person_id, intent_id)
    offered = set(session.scalars(select(Offer.brand_id).where(Offer.intent_id == intent.id)))
    rows = session.execute(
        select(View.brand_id, View.first_seen_at)
        .where(View.intent_id == intent.id)
        .order_by(View.first_seen_at)
    ).all()
    return [
        (
            r.brand_id,
            brands.get_brand(session, r.brand_id).name,
            r.first_seen_at,
            r.brand_id in offered,
        )
        for r in rows
    ]


def accept(
    session: Session,
    person_id: uuid.UUID,
    offer_id: uuid.UUID,
    *,
    signer: terms.Signer | None = None,
) -> Offer:
    """Accept one offer: only now does its brand learn who the person is."""
    offer = session.scalars(
        select(Offer)
        .join(Intent, Intent.id == Offer.intent_id)
        .where(Offer.id == offer_id, Intent.person_id == person_id)
    ).one_or_none()
    if offer is None:
        raise NotFound("You have no such offer.", field="offer")
    intent = own_intent(session, person_id, offer.intent_id)
    now = utcnow()
    if offer.status != OfferStatus.open:
        raise Conflict(f"This offer is {offer.status}.", field="offer")
    if offer.expires_at <= now:
        raise Conflict("This offer has expired.", field="offer")
    if intent.expires_at <= now and intent.status == IntentStatus.open:
        raise Conflict("This intent has expired: publish a new one.", field="intent")
    # Conditional updates: of two acceptances at once, exactly one closes the intent.
    closed = session.execute(
        update(Intent)
        .where(Intent.id == intent.id, Intent.status == IntentStatus.open.value)
        .values(status=IntentStatus.closed.value, closed_at=now, accepted_offer_id=offer.id)
    )
    if rowcount(closed) != 1:
        raise Conflict(f"This intent is {intent.status} already.", field="intent")
    session.execute(
        update(Offer).where(Offer.id == offer.id).values(status=OfferStatus.accepted.value)
    )
    _close_offers(session, intent.id, but=offer.id)
    session.flush()
    session.refresh(intent)
    session.refresh(offer)
    relationships.start_from_intent(session, person_id, offer.brand_id, intent.channel)
    required = session.execute(
        select(IntentTerm.slug, IntentTerm.version).where(IntentTerm.intent_id == intent.id)
    ).all()
    for slug, version in required:
        try:
            with session.begin_nested():
                terms.proffer(
                    session,
                    person_id,
                    slug,
                    version,
                    offer.brand_id,
                    source=INTENT_ACCEPT,
                    signer=signer,
                )
        except AccordError:
            # Proffered to this brand or to every brand already: that agreement stands.
            continue
    session.flush()
    return offer
