"""Demo personal terms and intents: a newcomer sees the whole flow.

- Each brand publishes the agreements it accepts; one person's proffer to every brand is
  accepted at once where published, another's is answered in the console way (accepted and
  signed), and one is declined.
- An open intent with three offers, one from each demo brand, waits for its person to choose;
  a closed one was answered by Velo Cycles' auto-offer rule and accepted, so Velo knows that
  person and has a relationship that started with `intent_accept`.
"""

from __future__ import annotations

import uuid
from datetime import timedelta
from decimal import Decimal

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from accord.brands.models import Brand
from accord.core.db import utcnow
from accord.core.settings import Settings
from accord.intents import service as intents
from accord.intents.schemas import IntentIn, OfferIn, RuleIn
from accord.people.models import Person
from accord.relationships.models import Relationship
from accord.terms import service as terms
from accord.terms.models import Agreement, Proffer
from accord.terms.service import Answer, Signer

ACCEPTS = {
    "groove": [("no-sharing", 1), ("no-stalking", 1)],
    "velo": [("no-stalking", 1), ("no-sharing", 1), ("intent-only", 1)],
    "fernwood": [("service-only", 1), ("no-ai-training", 1), ("no-stalking", 1)],
}
SUBSCRIBES = {
    "groove": ["music", "books", "tickets", "hobbies"],
    "velo": ["bicycles", "vehicle-services", "outdoor-sports", "hobbies"],
    "fernwood": ["groceries", "restaurants", "hobbies"],
}
PRESENT = "A birthday present for my brother, who loves records, his bike and good coffee."
OFFERS = {
    "groove": ("64.00", "A box of three reissued jazz LPs, gift-wrapped."),
    "velo": ("59.00", "A rechargeable front and rear light set, fitted for free in Berlin."),
    "fernwood": ("48.00", "Six single-origin coffees to taste, with a brewing guide."),
}


def seed_terms_and_intents(
    session: Session, settings: Settings, brands: dict[str, Brand], people: list[Person]
) -> int:
    """Seed once (a second run finds the proffers and changes nothing); returns the agreements
    accepted."""
    if not people or session.scalar(select(Proffer.id).limit(1)) is not None:
        return 0
    signer = Signer.from_settings(settings)
    for slug, entries in ACCEPTS.items():
        terms.publish(session, brands[slug].id, entries, signer=signer)
        intents.subscribe(session, brands[slug].id, SUBSCRIBES[slug])
    _agreements(session, signer, brands, people)
    _intents(session, settings, signer, brands, people)
    return int(session.scalar(select(func.count()).where(Agreement.status == "accepted")) or 0)


def _active_with(session: Session, brand: Brand, people: list[Person]) -> list[Person]:
    related = set(
        session.scalars(
            select(Relationship.person_id).where(
                Relationship.brand_id == brand.id, Relationship.state == "active"
            )
        )
    )
    return [p for p in people if p.id in related]


def _agreements(
    session: Session, signer: Signer, brands: dict[str, Brand], people: list[Person]
) -> None:
    groove, velo, fernwood = brands["groove"], brands["velo"], brands["fernwood"]
    first = people[0]
    # To every brand: accepted at once by those that publish it (Velo, Fernwood, Groove).
    terms.proffer(session, first.id, "no-stalking", None, None, signer=signer)
    terms.set_only_my_terms(session, first.id, True)
    # To one brand, answered: Fernwood accepts and signs; Groove declines.
    fans = _active_with(session, fernwood, people[1:])
    if fans:
        terms.proffer(session, fans[0].id, "service-only-portable", None, fernwood.id)
        row = _pending(session, fans[0], fernwood)
        if row is not None:
            terms.answer(session, fernwood.id, row, Answer.accept, source="console", signer=signer)
    listeners = _active_with(session, groove, people[2:])
    if listeners:
        terms.proffer(session, listeners[0].id, "no-ai-training", None, groove.id)
        row = _pending(session, listeners[0], groove)
        if row is not None:
            terms.answer(session, groove.id, row, Answer.decline, source="console")
    riders = _active_with(session, velo, people[3:])
    if riders:
        terms.proffer(session, riders[0].id, "service-only", None, velo.id)
        row = _pending(session, riders[0], velo)
        if row is not None:
            terms.answer(
                session, velo.id, row, Answer.alternative, ("no-stalking", 1), source="console"
            )
    terms.settle(session, signer=signer)


def _pending(session: Session, person: Person, brand: Brand) -> uuid.UUID | None:
    for proffer in terms.my_terms(session, person.id).proffers:
        for row in proffer.agreements:
            if row.brand_id == brand.id and row.status == "pending":
                return row.id
    return None


def _intents(
    session: Session,
    settings: Settings,
    signer: Signer,
    brands: dict[str, Brand],
    people: list[Person],
) -> None:
    today = utcnow().date()
    region = {"country": "DE", "subdivision": "DE-BE"}
    # The closed one: Velo's rule answers at once, and the person took the offer.
    intents.add_rule(
        session,
        brands["velo"].id,
        RuleIn(
            name="City bikes",
            category="bicycles",
            budget_min=Decimal("400"),
            budget_max=Decimal("1500"),
            currency="EUR",
            country="DE",
            price=Decimal("749.00"),
            description="Our Stadtrad 7: seven gears, lights and rack, set up for you.",
            valid_days=14,
        ),
    )
    buyer = people[-1]
    closed = intents.publish(
        session,
        buyer.id,
        IntentIn.model_validate(
            {
                "category": "bicycles",
                "description": "A sturdy city bike for the daily commute, with lights.",
                "budget_min": "500",
                "budget_max": "900",
                "currency": "EUR",
                "timeframe_end": (today + timedelta(days=21)).isoformat(),
                "region": region,
                "terms": [{"id": "no-stalking"}],
            }
        ),
    )
    offered = intents.for_person(session, closed).offers
    if offered:
        intents.accept(session, buyer.id, offered[0].id, signer=signer)
    # The open one, with an offer from every demo brand.
    asker = people[-2]
    present = intents.publish(
        session,
        asker.id,
        IntentIn.model_validate(
            {
                "category": "hobbies",
                "description": PRESENT,
                "budget_min": "40",
                "budget_max": "70",
                "currency": "EUR",
                "timeframe_end": (today + timedelta(days=14)).isoformat(),
                "region": region,
                "channel": "email",
                "terms": [{"id": "no-stalking"}],
            }
        ),
    )
    for slug, (price, text) in OFFERS.items():
        intents.offer(
            session,
            brands[slug].id,
            present.id,
            OfferIn(
                price=Decimal(price),
                currency="EUR",
                description=text,
                expires_at=utcnow() + timedelta(days=10),
            ),
        )
    session.flush()
