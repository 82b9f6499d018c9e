"""Builders for intents tests: an intent through the real service, a brand ready to answer."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy.orm import Session

from accord.brands.models import Brand
from accord.core.db import utcnow
from accord.intents import service as intents
from accord.intents.models import Intent
from accord.intents.schemas import IntentIn
from accord.people.models import Person
from accord.terms import service as terms
from tests.builders import make_brand


def intent_body(**changes: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "category": "bicycles",
        "description": "A commuter e-bike with a rear rack, frame size M.",
        "budget_min": "1500.00",
        "budget_max": "2500.00",
        "currency": "EUR",
        "timeframe_end": (utcnow().date() + timedelta(days=30)).isoformat(),
        "region": {"country": "DE", "subdivision": "DE-BE"},
        "channel": "email",
        "terms": [{"id": "no-stalking"}],
    }
    body.update(changes)
    return body


def make_intent(session: Session, *, person: Person, **changes: Any) -> Intent:
    return intents.publish(session, person.id, IntentIn.model_validate(intent_body(**changes)))


def ready_brand(
    session: Session,
    *,
    categories: tuple[str, ...] = ("bicycles",),
    accepts: tuple[str, ...] = ("no-stalking",),
    name: str | None = None,
) -> Brand:
    """A brand subscribed to `categories` that publishes `accepts` (version 1) as accepted."""
    brand = make_brand(session, name=name)
    intents.subscribe(session, brand.id, list(categories))
    terms.publish(session, brand.id, [(slug, 1) for slug in accepts])
    return brand


def offer_body(**changes: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "price": "1999.00",
        "currency": "EUR",
        "description": "Our city e-bike, fitted with a rack, delivered in Berlin.",
        "expires_at": (utcnow() + timedelta(days=7)).isoformat(),
        "link": "https://shop.example/e-bike",
    }
    body.update(changes)
    return body
