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
from functools import cache
from typing import Any

from sqlalchemy import Select, Uuid, and_, bindparam, exists, or_, select
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement

from accord.core.db import UTCDateTime
from accord.intents.models import Block, Intent, IntentTerm, Offer, Subscription
from accord.intents.vocabulary import IntentStatus
from accord.terms import service as terms


def _open(now: Any) -> ColumnElement[bool]:
    return and_(Intent.status == IntentStatus.open.value, Intent.expires_at > now)


def _subscribed(brand_id: Any) -> ColumnElement[bool]:
    return Intent.category.in_(
        select(Subscription.category).where(Subscription.brand_id == brand_id)
    )


# Each EXISTS selects a column of the index it probes, not `*`: SQLite then reads the index
# alone (a covering index) rather than the table row behind each entry.


def _not_blocked(brand_id: Any) -> ColumnElement[bool]:
    probe = select(Block.person_id).where(
        Block.person_id == Intent.person_id, Block.brand_id == brand_id
    )
    return ~exists(probe)


def _offered(brand_id: Any) -> ColumnElement[bool]:
    probe = select(Offer.intent_id).where(Offer.intent_id == Intent.id, Offer.brand_id == brand_id)
    return exists(probe)


def terms_satisfied(brand_id: Any) -> ColumnElement[bool]:
    """No term the intent requires is missing from the brand's published list."""
    t = IntentTerm.__table__.alias("required")
    return ~exists(
        select(t.c.slug)
        .where(t.c.intent_id == Intent.id, ~terms.publishes(brand_id, t.c.slug, t.c.version))
        .correlate_except(t)
    )


def visible(brand_id: Any, now: Any) -> ColumnElement[bool]:
    fresh = and_(_open(now), _subscribed(brand_id), _not_blocked(brand_id))
    return or_(fresh, _offered(brand_id))


def visible_select(brand_id: Any, now: Any) -> Select[Intent]:
    """The intents the brand sees (newest first when paginated)."""
    return select(Intent).where(visible(brand_id, now))


def _answerable(query: Select[Any], brand_id: Any, now: Any) -> Select[Any]:
    # Joined to the brand's subscriptions (one row per category at most): the planners start
    # from the brand's few categories and read each through the intents' match index.
    subscribed = and_(Subscription.category == Intent.category, Subscription.brand_id == brand_id)
    return query.join(Subscription, subscribed).where(
        _open(now), _not_blocked(brand_id), ~_offered(brand_id), terms_satisfied(brand_id)
    )


def answerable_select(brand_id: uuid.UUID, now: datetime) -> Select[Intent]:
    """The intents the brand may answer now."""
    return _answerable(select(Intent), brand_id, now)


@cache
def _answerable_ids() -> Select[uuid.UUID]:
    """Built once, the brand and the moment bound at execution: building the statement costs
    about as much as running it for a brand with a few hundred answerable intents."""
    brand = bindparam("match_brand", type_=Uuid())
    now = bindparam("match_now", type_=UTCDateTime())
    query = _answerable(select(Intent.id), brand, now)
    return query.order_by(Intent.created_at.desc(), Intent.id.desc())


def answerable_ids(session: Session, brand_id: uuid.UUID, now: datetime) -> list[uuid.UUID]:
    """The ids of the intents the brand may answer now, newest first."""
    found = session.scalars(_answerable_ids(), {"match_brand": brand_id, "match_now": now})
    return list(found)
