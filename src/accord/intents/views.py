"""Intents and offers as each side sees them. A brand's view is built here and only here, and
names the person only once they accepted that brand's offer (`customer`)."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import Uuid, bindparam, select
from sqlalchemy.orm import Session

from accord.brands import service as brands
from accord.core.db import utcnow
from accord.core.direct import Direct
from accord.core.read_memo import remembered
from accord.intents import taxonomy
from accord.intents.models import Intent, IntentTerm, Offer, Subscription
from accord.intents.schemas import (
    BrandHistory,
    CustomerOut,
    IntentForBrand,
    IntentOut,
    OfferForPerson,
    OfferOut,
    RegionOut,
)
from accord.intents.vocabulary import IntentStatus, OfferStatus
from accord.people import service as people
from accord.relationships import service as relationships
from accord.terms import service as terms
from accord.terms.service import PinnedTermsRef


def required_terms(session: Session, intent_id: uuid.UUID) -> list[PinnedTermsRef]:
    """The terms the intent pins (once a request: its page shows them and checks them against
    the brand's for the offer form)."""
    return list(
        remembered(session, ("intent_terms", intent_id), lambda: _required(session, intent_id))
    )


def _required(session: Session, intent_id: uuid.UUID) -> list[PinnedTermsRef]:
    rows = _REQUIRED.all(session, intent=intent_id)
    return [PinnedTermsRef(id=row.slug, version=row.version) for row in rows]


# Built once and run on the session's cursor (`core.direct`): every intent shown reads it.
_REQUIRED = Direct(
    select(IntentTerm.slug, IntentTerm.version)
    .where(IntentTerm.intent_id == bindparam("intent", type_=Uuid()))
    .order_by(IntentTerm.slug)
)


def expired(intent: Intent, now: datetime | None = None) -> bool:
    return intent.expires_at <= (now or utcnow())


def offer_out(offer: Offer, brand_name: str) -> OfferOut:
    return OfferOut(
        id=offer.id,
        intent_id=offer.intent_id,
        brand_id=offer.brand_id,
        brand_name=brand_name,
        price=offer.price,
        currency=offer.currency,
        description=offer.description,
        link=offer.link,
        expires_at=offer.expires_at,
        terms=[PinnedTermsRef.model_validate(t) for t in offer.terms],
        status=offer.status,
        automatic=offer.rule_id is not None,
        created_at=offer.created_at,
    )


def _region(intent: Intent) -> RegionOut:
    return RegionOut(country=intent.country, subdivision=intent.subdivision)


def why_not(
    session: Session, intent: Intent, brand_id: uuid.UUID, mine: Offer | None, now: datetime
) -> str | None:
    """Why the brand may not answer the intent now, in a sentence; None when it may."""
    if intent.status != IntentStatus.open:
        return f"The intent is {intent.status}."
    if expired(intent, now):
        return "The intent has expired."
    if mine is not None:
        return "You made an offer on this intent already."
    subscribed = session.get(Subscription, (brand_id, intent.category))
    if subscribed is None:
        return "Your brand does not subscribe to this category."
    accepted = set(terms.published_keys(session, brand_id))
    missing = [
        t.id for t in required_terms(session, intent.id) if (t.id, t.version) not in accepted
    ]
    if missing:
        return "Your brand does not accept the terms this intent requires: " + ", ".join(missing)
    return None


def customer(session: Session, intent: Intent) -> CustomerOut:
    """The person behind the intent and their address on the intent's channel."""
    person = people.get_person(session, intent.person_id)
    points = [
        p for p in people.contact_points(session, intent.person_id) if p.channel == intent.channel
    ]
    usable = [p for p in points if p.verified_at is not None and p.suppressed_reason is None]
    found = usable or points
    return CustomerOut(
        person_id=person.id,
        name=person.display_name,
        channel=intent.channel,
        contact=found[0].address if found else None,
    )


# The brand's offer on an intent, built once (every intent the console lists or shows reads it).
_MINE = select(Offer).where(
    Offer.intent_id == bindparam("mine_intent", type_=Uuid()),
    Offer.brand_id == bindparam("mine_brand", type_=Uuid()),
)


def for_brand(
    session: Session,
    intent: Intent,
    brand_id: uuid.UUID,
    now: datetime | None = None,
    *,
    brand_name: str | None = None,
) -> IntentForBrand:
    """The intent as the brand sees it (`brand_name`: the brand's, when the caller has it)."""
    now = now or utcnow()
    mine = session.scalars(_MINE, {"mine_intent": intent.id, "mine_brand": brand_id}).one_or_none()
    reason = why_not(session, intent, brand_id, mine, now)
    chose_us = mine is not None and mine.status == OfferStatus.accepted
    if mine is None:
        brand_name = ""
    elif brand_name is None:
        brand_name = brands.get_brand(session, brand_id).name
    return IntentForBrand(
        id=intent.id,
        pseudonym=intent.pseudonym,
        category=intent.category,
        category_name=taxonomy.name(intent.category),
        description=intent.description,
        budget_min=intent.budget_min,
        budget_max=intent.budget_max,
        currency=intent.currency,
        timeframe_end=intent.timeframe_end.date(),
        region=_region(intent),
        channel=intent.channel,
        terms=required_terms(session, intent.id),
        # Another brand's success is not this brand's business: "closed" says only that.
        status=intent.status,
        expired=expired(intent, now),
        created_at=intent.created_at,
        can_offer=reason is None,
        why_not=reason,
        my_offer=offer_out(mine, brand_name) if mine is not None else None,
        customer=customer(session, intent) if chose_us else None,
    )


def for_person(session: Session, intent: Intent) -> IntentOut:
    offers = session.scalars(
        select(Offer).where(Offer.intent_id == intent.id).order_by(Offer.price, Offer.created_at)
    ).all()
    names: dict[uuid.UUID, str] = {}
    shown = []
    for offer in offers:
        if offer.brand_id not in names:
            names[offer.brand_id] = brands.get_brand(session, offer.brand_id).name
        state, began = relationships.since(session, intent.person_id, offer.brand_id)
        shown.append(
            OfferForPerson(
                **offer_out(offer, names[offer.brand_id]).model_dump(),
                history=BrandHistory(state=state, since=began),
            )
        )
    return IntentOut(
        id=intent.id,
        pseudonym=intent.pseudonym,
        category=intent.category,
        category_name=taxonomy.name(intent.category),
        description=intent.description,
        budget_min=intent.budget_min,
        budget_max=intent.budget_max,
        currency=intent.currency,
        timeframe_end=intent.timeframe_end.date(),
        region=_region(intent),
        channel=intent.channel,
        terms=required_terms(session, intent.id),
        status=intent.status,
        expired=expired(intent),
        created_at=intent.created_at,
        closed_at=intent.closed_at,
        accepted_offer_id=intent.accepted_offer_id,
        offers=shown,
    )


def end_of_day(day: date) -> datetime:
    """The moment an intent whose last day is `day` expires: the next midnight, UTC."""
    start = datetime(day.year, day.month, day.day, tzinfo=UTC)
    return start + timedelta(days=1)
