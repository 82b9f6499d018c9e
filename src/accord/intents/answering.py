"""The brand's side: subscribe to categories, see intents anonymously, offer once per intent,
and auto-offer rules that answer matching intents as they come."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime, timedelta
from functools import cache
from typing import Any

from sqlalchemy import Select, Uuid, bindparam, delete, exists, insert, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from accord.core.db import UTCDateTime, insert_or_ignore, utcnow
from accord.core.direct import Direct
from accord.core.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from accord.core.pagination import MAX_LIMIT, cut_page, paginate
from accord.core.settings import Settings
from accord.intents import matching, taxonomy
from accord.intents.models import AutoRule, Block, Intent, IntentTerm, Offer, Subscription, View
from accord.intents.schemas import OfferIn, RuleIn
from accord.intents.views import expired, required_terms
from accord.intents.vocabulary import HearBy, IntentStatus, OfferStatus
from accord.mail.service import Email, Mailer, compose
from accord.people import service as people
from accord.terms import service as terms

# Subscriptions.


# Built once and run on the session's cursor (`core.direct`): the console's intents pages read
# it on every view.
_SUBSCRIPTIONS = Direct(
    select(Subscription.category).where(Subscription.brand_id == bindparam("brand", type_=Uuid()))
)


def subscriptions(session: Session, brand_id: uuid.UUID) -> list[str]:
    return sorted(row.category for row in _SUBSCRIPTIONS.all(session, brand=brand_id))


def subscribe(session: Session, brand_id: uuid.UUID, categories: Sequence[str]) -> list[str]:
    """Set the categories the brand subscribes to."""
    wanted, current = set(categories), set(subscriptions(session, brand_id))
    for category in wanted - current:
        session.add(Subscription(brand_id=brand_id, category=category))
    if current - wanted:
        session.execute(
            delete(Subscription).where(
                Subscription.brand_id == brand_id, Subscription.category.in_(current - wanted)
            )
        )
    session.flush()
    return subscriptions(session, brand_id)


# Seeing intents.


def _seen(session: Session, brand_id: uuid.UUID, intent_ids: Sequence[uuid.UUID]) -> None:
    """Remember that the brand saw these intents (the person can list who saw theirs)."""
    now = utcnow()
    for intent_id in intent_ids:
        insert_or_ignore(
            session, View, {"intent_id": intent_id, "brand_id": brand_id, "first_seen_at": now}
        )


def listing(
    session: Session,
    brand_id: uuid.UUID,
    *,
    answerable: bool = False,
    cursor: str | None = None,
    limit: int = 50,
) -> tuple[Sequence[Intent], str | None]:
    """The intents the brand sees (or only those it may answer), newest first; each one shown
    is remembered as seen."""
    now = utcnow()
    if not answerable and not cursor and 1 <= limit <= MAX_LIMIT:
        # The console's first page, as `paginate` reads it, from a statement built once: its
        # cache key alone cost a third of the list's view when built anew each time.
        params = {"see_brand": brand_id, "see_now": now}
        read = session.execute(_first_visible_page(limit), params).all()
        found, next_cursor = cut_page(read, limit, lambda last: (last[0].created_at, last[0].id))
        # Each intent's row says whether the brand saw it before: only the new ones are
        # written, so a list seen before is a read, not a write.
        _seen(session, brand_id, [intent.id for intent, seen in found if not seen])
        return [intent for intent, _ in found], next_cursor
    query = (
        matching.answerable_select(brand_id, now)
        if answerable
        else matching.visible_select(brand_id, now)
    )
    rows, next_cursor = paginate(
        session,
        query,
        created_at=Intent.created_at,
        row_id=Intent.id,
        cursor=cursor,
        limit=limit,
    )
    _seen(session, brand_id, [r.id for r in rows])
    return rows, next_cursor


@cache
def _first_visible_page(limit: int) -> Select[Any]:
    brand = bindparam("see_brand", type_=Uuid())
    now = bindparam("see_now", type_=UTCDateTime())
    return (
        matching.visible_select(brand, now)
        .add_columns(_seen_by(brand))
        .order_by(Intent.created_at.desc(), Intent.id.desc())
        .limit(limit + 1)
    )


def _seen_by(brand: Any) -> Any:
    """Whether the brand saw the intent before (a `View` of it)."""
    return exists().where(View.intent_id == Intent.id, View.brand_id == brand).label("seen")


def _had_sight_of(session: Session, brand_id: uuid.UUID, intent_id: uuid.UUID) -> bool:
    return session.get(View, (intent_id, brand_id)) is not None


@cache
def _visible_one() -> Select[Any]:
    """Built once, the intent, the brand and the moment bound at execution: the console's
    intent page reads it on every view, and building `matching.visible` cost more than
    running it. With the intent, whether the brand saw it before."""
    brand = bindparam("see_brand", type_=Uuid())
    now = bindparam("see_now", type_=UTCDateTime())
    return select(Intent, _seen_by(brand)).where(
        Intent.id == bindparam("see_intent", type_=Uuid()), matching.visible(brand, now)
    )


def visible_intent(session: Session, brand_id: uuid.UUID, intent_id: uuid.UUID) -> Intent:
    """One intent the brand sees (and so now has seen); anything else is a 404."""
    found = session.execute(
        _visible_one(), {"see_intent": intent_id, "see_brand": brand_id, "see_now": utcnow()}
    ).one_or_none()
    if found is None:
        raise NotFound("No such intent.", field="intent")
    intent, seen = found
    if not seen:  # seen before: a read, not a write
        _seen(session, brand_id, [intent.id])
    result: Intent = intent
    return result


# Offering.


def _terms_of_offer(
    session: Session, brand_id: uuid.UUID, intent: Intent, given: Sequence[Any] | None
) -> list[dict[str, Any]]:
    required = {(t.id, t.version) for t in required_terms(session, intent.id)}
    accepted = {e.key for e in terms.published(session, brand_id)}
    missing = sorted(slug for slug, version in required if (slug, version) not in accepted)
    if missing:
        raise Conflict(
            "Your brand does not accept the terms this intent requires ("
            + ", ".join(missing)
            + "): publish them as accepted under Terms first.",
            field="terms",
        )
    chosen: set[tuple[str, int]] = set(required)
    for i, ref in enumerate(given or []):
        entry = terms.roster_entry(
            session,
            ref.id,
            ref.version,
            field=f"terms.{i}.id",
            version_field=f"terms.{i}.version",
        )
        if entry.key not in accepted:
            raise Conflict(
                f"Your brand does not publish '{entry.slug}' version {entry.version} as accepted.",
                field=f"terms.{i}.id",
            )
        chosen.add(entry.key)
    if given is not None:
        named = {(r.id, r.version) for r in given}
        absent = sorted(s for s, v in required if (s, v) not in named and (s, None) not in named)
        if absent:
            raise Conflict(
                "An offer accepts every term the intent requires; missing: " + ", ".join(absent),
                field="terms",
            )
    return [{"id": slug, "version": version} for slug, version in sorted(chosen)]


def offer(
    session: Session,
    brand_id: uuid.UUID,
    intent_id: uuid.UUID,
    data: OfferIn,
    *,
    settings: Settings | None = None,
    mailer: Mailer | None = None,
) -> Offer:
    """The brand's one offer on an intent it sees and may answer."""
    now = utcnow()
    if data.expires_at.tzinfo is None:
        raise InvalidInput(
            "Give the expiry with a time zone, e.g. 2027-01-31T18:00:00Z.", field="expires_at"
        )
    if data.expires_at <= now:
        raise InvalidInput("The offer must expire in the future.", field="expires_at")
    intent = session.get(Intent, intent_id)
    seen_before = intent is not None and _had_sight_of(session, brand_id, intent.id)
    if intent is None or not (
        seen_before
        or session.scalar(
            select(Intent.id).where(Intent.id == intent_id, matching.visible(brand_id, now))
        )
    ):
        raise NotFound("No such intent.", field="intent")
    if session.scalar(
        select(Offer.id).where(Offer.intent_id == intent.id, Offer.brand_id == brand_id)
    ):
        raise Conflict("You made an offer on this intent already.", field="intent")
    if intent.status != IntentStatus.open:
        raise Conflict(f"This intent is {intent.status}: it takes no more offers.", field="intent")
    if expired(intent, now):
        raise Conflict("This intent has expired: it takes no more offers.", field="intent")
    if session.get(Block, (intent.person_id, brand_id)) is not None:
        raise PermissionDenied("This person takes no offers from your brand.", field="intent")
    if session.get(Subscription, (brand_id, intent.category)) is None:
        raise Conflict(
            f"Your brand does not subscribe to {taxonomy.name(intent.category)}.", field="intent"
        )
    offered_terms = _terms_of_offer(session, brand_id, intent, data.terms)
    made = Offer(
        intent_id=intent.id,
        brand_id=brand_id,
        price=data.price,
        currency=data.currency,
        description=data.description,
        link=str(data.link) if data.link else None,
        expires_at=data.expires_at,
        terms=offered_terms,
        status=OfferStatus.open.value,
    )
    try:
        with session.begin_nested():
            session.add(made)
            session.flush()
    except IntegrityError:  # the same brand offered at the same moment: one wins
        raise Conflict("You made an offer on this intent already.", field="intent") from None
    _seen(session, brand_id, [intent.id])
    notify(session, intent, [made], settings=settings, mailer=mailer)
    return made


def notify(
    session: Session,
    intent: Intent,
    offers: Sequence[Offer],
    *,
    settings: Settings | None,
    mailer: Mailer | None,
) -> None:
    """Tell the person about new offers, by e-mail when that is the intent's channel (from
    Accord, not from the brands: they do not know the address). Other channels see them on
    the intent's page."""
    if not offers or settings is None or mailer is None or intent.channel != HearBy.email:
        return
    points = [
        p
        for p in people.contact_points(session, intent.person_id)
        if p.channel == "email" and p.verified_at is not None and p.suppressed_reason is None
    ]
    if not points:
        return
    count = len(offers)
    text = (
        f"Your intent ({taxonomy.name(intent.category)}: {intent.description[:80]}) has "
        f"{count} new offer{'s' if count > 1 else ''}. Compare them and choose at\n\n"
        f"{settings.base_url}/intents/{intent.id}\n\n"
        "No brand knows who you are until you accept its offer.\n"
    )
    subject = f"{count} new offer{'s' if count > 1 else ''} for your intent"
    mailer.send(session, compose(settings, Email(to=points[0].address, subject=subject, text=text)))


# Auto-offer rules.


def rules(session: Session, brand_id: uuid.UUID) -> list[AutoRule]:
    return list(
        session.scalars(
            select(AutoRule).where(AutoRule.brand_id == brand_id).order_by(AutoRule.created_at)
        )
    )


def get_rule(session: Session, brand_id: uuid.UUID, rule_id: uuid.UUID) -> AutoRule:
    rule = session.scalars(
        select(AutoRule).where(AutoRule.id == rule_id, AutoRule.brand_id == brand_id)
    ).one_or_none()
    if rule is None:
        raise NotFound("No such rule.", field="rule")
    return rule


def add_rule(
    session: Session,
    brand_id: uuid.UUID,
    data: RuleIn,
    *,
    settings: Settings | None = None,
    mailer: Mailer | None = None,
) -> tuple[AutoRule, int]:
    """A new rule; it answers the open intents that match it already. Returns the rule and how
    many offers it made."""
    rule = AutoRule(
        brand_id=brand_id,
        name=data.name,
        category=data.category,
        budget_min=data.budget_min,
        budget_max=data.budget_max,
        currency=data.currency,
        country=data.country,
        price=data.price,
        description=data.description,
        link=str(data.link) if data.link else None,
        valid_days=data.valid_days,
        active=True,
    )
    session.add(rule)
    session.flush()
    now = utcnow()
    matches = session.scalars(
        matching.answerable_select(brand_id, now)
        .where(*_rule_fits(rule))
        .order_by(Intent.created_at)
    ).all()
    made = _make_offers(session, [(intent, rule) for intent in matches], now)
    for intent in matches:
        notify(
            session,
            intent,
            [o for o in made if o.intent_id == intent.id],
            settings=settings,
            mailer=mailer,
        )
    return rule, len(made)


def deactivate_rule(session: Session, brand_id: uuid.UUID, rule_id: uuid.UUID) -> AutoRule:
    rule = get_rule(session, brand_id, rule_id)
    rule.active = False
    session.flush()
    return rule


def _rule_fits(rule: AutoRule) -> list[Any]:
    return [
        Intent.category == rule.category,
        Intent.currency == rule.currency,
        Intent.budget_max >= rule.budget_min,
        Intent.budget_min <= rule.budget_max,
        *([Intent.country == rule.country] if rule.country else []),
    ]


def auto_offer(
    session: Session,
    intent: Intent,
    *,
    settings: Settings | None = None,
    mailer: Mailer | None = None,
) -> list[Offer]:
    """Offers from every active rule that fits a new intent, one per brand (its lowest price),
    from brands that may answer it."""
    now = utcnow()
    t = IntentTerm.__table__.alias("required")
    unmet_terms = exists(
        select(t.c.slug)
        .where(
            t.c.intent_id == intent.id, ~terms.publishes(AutoRule.brand_id, t.c.slug, t.c.version)
        )
        .correlate_except(t)
    )
    fitting = session.scalars(
        select(AutoRule)
        .where(
            AutoRule.active.is_(True),
            AutoRule.category == intent.category,
            AutoRule.currency == intent.currency,
            AutoRule.budget_min <= intent.budget_max,
            AutoRule.budget_max >= intent.budget_min,
            or_(AutoRule.country.is_(None), AutoRule.country == intent.country),
            exists().where(
                Subscription.brand_id == AutoRule.brand_id,
                Subscription.category == intent.category,
            ),
            ~exists().where(
                Block.person_id == intent.person_id, Block.brand_id == AutoRule.brand_id
            ),
            ~unmet_terms,
        )
        .order_by(AutoRule.brand_id, AutoRule.price, AutoRule.created_at)
    ).all()
    chosen: dict[uuid.UUID, AutoRule] = {}
    for rule in fitting:
        chosen.setdefault(rule.brand_id, rule)
    made = _make_offers(session, [(intent, rule) for rule in chosen.values()], now)
    notify(session, intent, made, settings=settings, mailer=mailer)
    return made


def _make_offers(
    session: Session, pairs: Sequence[tuple[Intent, AutoRule]], now: datetime
) -> list[Offer]:
    """One statement for all the rules' offers (a rule may answer many intents at once)."""
    if not pairs:
        return []
    required: dict[uuid.UUID, list[dict[str, Any]]] = {}
    for intent, _ in pairs:
        required[intent.id] = [t.model_dump() for t in required_terms(session, intent.id)]
    rows = [
        {
            "id": uuid.uuid4(),
            "intent_id": intent.id,
            "brand_id": rule.brand_id,
            "price": rule.price,
            "currency": rule.currency,
            "description": rule.description,
            "link": rule.link,
            "expires_at": now + timedelta(days=rule.valid_days),
            "terms": required[intent.id],
            "status": OfferStatus.open.value,
            "rule_id": rule.id,
            "created_at": now,
        }
        for intent, rule in pairs
    ]
    session.execute(insert(Offer), rows)
    for intent, rule in pairs:
        _seen(session, rule.brand_id, [intent.id])
    ids = [row["id"] for row in rows]
    return list(session.scalars(select(Offer).where(Offer.id.in_(ids))))
