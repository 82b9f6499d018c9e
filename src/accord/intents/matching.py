"""Which intents a brand sees, and which it may answer: set-based SQL, one statement each.

A brand **sees** an open intent that has not expired, of a category it subscribes to, whose
person has not blocked it; and, whatever their state, the intents it made an offer on (so it
learns that they closed). It **may answer** an intent it sees that is open and unexpired, that
it has not answered yet, and whose every required term its brand publishes as accepted (through
`accord.terms.service.publishes`). `bench/intent_match.py` holds the answerable statement to
a hand-written floor.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import Select, and_, exists, or_, select
from sqlalchemy.sql.elements import ColumnElement

from accord.intents.models import Block, Intent, IntentTerm, Offer, Subscription
from accord.intents.vocabulary import IntentStatus
from accord.terms import service as terms


def _open(now: datetime) -> ColumnElement[bool]:
    return and_(Intent.status == IntentStatus.open.value, Intent.expires_at > now)


def _subscribed(brand_id: uuid.UUID) -> ColumnElement[bool]:
    return Intent.category.in_(
        select(Subscription.category).where(Subscription.brand_id == brand_id)
    )


def _not_blocked(brand_id: uuid.UUID) -> ColumnElement[bool]:
    return ~exists().where(Block.person_id == Intent.person_id, Block.brand_id == brand_id)


def _offered(brand_id: uuid.UUID) -> ColumnElement[bool]:
    return exists().where(Offer.intent_id == Intent.id, Offer.brand_id == brand_id)


def terms_satisfied(brand_id: Any) -> ColumnElement[bool]:
    """No term the intent requires is missing from the brand's published list."""
    t = IntentTerm.__table__.alias("required")
    return ~exists(
        select(t.c.slug)
        .where(t.c.intent_id == Intent.id, ~terms.publishes(brand_id, t.c.slug, t.c.version))
        .correlate_except(t)
    )


def visible(brand_id: uuid.UUID, now: datetime) -> ColumnElement[bool]:
    fresh = and_(_open(now), _subscribed(brand_id), _not_blocked(brand_id))
    return or_(fresh, _offered(brand_id))


def visible_select(brand_id: uuid.UUID, now: datetime) -> Select[Intent]:
    """The intents the brand sees (newest first when paginated)."""
    return select(Intent).where(visible(brand_id, now))


def answerable(brand_id: uuid.UUID, now: datetime) -> ColumnElement[bool]:
    return and_(
        _open(now),
        _subscribed(brand_id),
        _not_blocked(brand_id),
        ~_offered(brand_id),
        terms_satisfied(brand_id),
    )


def answerable_select(brand_id: uuid.UUID, now: datetime) -> Select[Intent]:
    """The intents the brand may answer now."""
    return select(Intent).where(answerable(brand_id, now))


def answerable_ids(brand_id: uuid.UUID, now: datetime) -> Select[uuid.UUID]:
    """The ids of the intents the brand may answer now, newest first."""
    return (
        select(Intent.id)
        .where(answerable(brand_id, now))
        .order_by(Intent.created_at.desc(), Intent.id.desc())
    )
