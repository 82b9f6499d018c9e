"""Unsubscribing from one message: RFC 8058 one-click, the unsubscribe page's four choices and
the mailto address. No sign-in is needed: the signed token names the message, the person, the
brand and the topic, and cannot be forged or altered.

Every function is idempotent (asking twice changes nothing the second time) and answers
quietly when there is nothing left to do (the relationship ended, the person was erased).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from sqlalchemy.orm import Session

from accord.brands.models import Brand
from accord.campaigns.models import Campaign
from accord.consent import service as consent
from accord.consent.service import Scope
from accord.core.db import utcnow
from accord.core.settings import Settings
from accord.delivery import tokens
from accord.delivery.tokens import UnsubscribeToken
from accord.outbox.models import DeliveryEvent, OutboxMessage
from accord.relationships import service as relationships
from accord.relationships.models import Relationship, Topic
from accord.relationships.service import Actor
from accord.relationships.vocabulary import Purpose, Source, State

PAUSE_DAYS = 30
FEWER_CAP = 1


class Choice(StrEnum):
    topic = "topic"
    brand = "brand"
    pause = "pause"
    fewer = "fewer"


@dataclass(frozen=True)
class Target:
    """What a token points at, as it is now (any part may be gone)."""

    token: UnsubscribeToken
    brand: Brand | None
    topic: Topic | None
    rel: Relationship | None

    @property
    def live(self) -> bool:
        """Something can still be changed: the relationship exists and has not ended."""
        return (
            self.brand is not None
            and self.topic is not None
            and self.rel is not None
            and self.rel.state != State.ended
        )

    @property
    def brand_name(self) -> str:
        return self.brand.name if self.brand is not None else "this brand"

    @property
    def topic_name(self) -> str:
        return self.topic.name if self.topic is not None else "this topic"


@dataclass(frozen=True)
class Done:
    """What a choice did, in words for the result page."""

    changed: bool
    text: str


def read(settings: Settings, raw: str) -> UnsubscribeToken:
    """The token's contents; InvalidInput (field "token") when forged, altered or cut."""
    return tokens.read(settings.resolved_secret_key(), raw)


def target(session: Session, token: UnsubscribeToken) -> Target:
    brand = session.get(Brand, token.brand)
    topic = session.get(Topic, token.topic)
    if topic is not None and topic.brand_id != token.brand:
        topic = None
    rel = relationships.find(session, token.person, token.brand)
    return Target(token=token, brand=brand, topic=topic, rel=rel)


def hold(session: Session, person_id: uuid.UUID) -> None:
    """Two clicks at once (a mailbox provider's POST and the person's own) run one after the
    other, so the second finds nothing left to do: one ledger event, one attributed
    unsubscribe."""
    consent.hold(session, person_id)


def _evidence(token: UnsubscribeToken, via: str | None) -> dict[str, str]:
    evidence = {"message": str(token.message)}
    if via:
        evidence["via"] = via
    return evidence


def _record(session: Session, token: UnsubscribeToken, kind: str) -> None:
    """Attribute what the person did to the message (and campaign) that prompted it."""
    row = session.get(OutboxMessage, token.message)
    message_id = row.id if row is not None and row.person_id == token.person else None
    campaign_id: uuid.UUID | None = None
    if token.campaign is not None and session.get(Campaign, token.campaign) is not None:
        campaign_id = token.campaign
    session.add(
        DeliveryEvent(
            brand_id=token.brand,
            campaign_id=campaign_id,
            message_id=message_id,
            person_id=token.person,
            kind=kind,
        )
    )
    session.flush()


def unsubscribe_topic(
    session: Session,
    token: UnsubscribeToken,
    *,
    source: Source = Source.one_click,
    via: str | None = None,
) -> bool:
    """Turn the message's topic off at once; True when something changed."""
    hold(session, token.person)
    found = target(session, token)
    if not found.live:
        return False
    changed = relationships.withdraw(
        session,
        token.person,
        token.brand,
        Scope(purpose=Purpose.marketing.value, topic=token.topic),
        source,
        evidence=_evidence(token, via),
    )
    if changed:
        _record(session, token, "unsubscribed")
    return changed


def one_click(session: Session, token: UnsubscribeToken, *, via: str | None = None) -> bool:
    """RFC 8058 one-click (and the mailto address): the topic goes, with source one_click."""
    return unsubscribe_topic(session, token, source=Source.one_click, via=via)


def choose(
    session: Session, token: UnsubscribeToken, choice: Choice, *, now: datetime | None = None
) -> Done:
    """One of the unsubscribe page's choices, made by the person on the page."""
    hold(session, token.person)
    found = target(session, token)
    brand = found.brand_name
    if not found.live or found.rel is None:
        return Done(False, f"You have no active relationship with {brand}: nothing is sent.")
    rel = found.rel
    actor = Actor(source=Source.email_link, evidence=_evidence(token, "page"))
    if choice is Choice.topic:
        changed = unsubscribe_topic(session, token, source=Source.email_link, via="page")
        topic = found.topic_name
        if changed:
            return Done(True, f"You are unsubscribed from '{topic}' by {brand}.")
        return Done(False, f"You were already unsubscribed from '{topic}' by {brand}.")
    if choice is Choice.brand:
        changed = relationships.withdraw(
            session,
            token.person,
            token.brand,
            Scope(purpose=Purpose.marketing.value),
            Source.email_link,
            evidence=_evidence(token, "page"),
        )
        if changed:
            _record(session, token, "opted_out")
        return Done(changed, f"{brand} will send you no more marketing messages.")
    if choice is Choice.pause:
        return _pause(session, rel, brand, actor, now or utcnow())
    return _fewer(session, rel, brand, actor)


def _pause(session: Session, rel: Relationship, brand: str, actor: Actor, now: datetime) -> Done:
    until = now + timedelta(days=PAUSE_DAYS)
    if rel.state == State.paused and (rel.paused_until is None or rel.paused_until >= until):
        # Never shorten a longer (or open-ended) pause the person already chose.
        when = rel.paused_until.strftime("%Y-%m-%d") if rel.paused_until else "you resume it"
        return Done(False, f"{brand} was already paused until {when}.")
    relationships.pause(session, rel, until, actor)
    return Done(
        True,
        f"{brand} is paused for {PAUSE_DAYS} days, until {until:%Y-%m-%d}: "
        "nothing will be sent to you until then.",
    )


def _fewer(session: Session, rel: Relationship, brand: str, actor: Actor) -> Done:
    if rel.brand_cap <= FEWER_CAP:
        # Never raise a lower cap the person already chose.
        return Done(False, f"{brand} could already send you at most {rel.brand_cap} a week.")
    relationships.set_brand_cap(session, rel, FEWER_CAP, actor)
    return Done(True, f"{brand} may now send you at most {FEWER_CAP} marketing message a week.")


def before(session: Session, token: UnsubscribeToken) -> dict[str, object]:
    """What the relationship holds now that a choice may change: kept for Undo."""
    rel = target(session, token).rel
    if rel is None:
        return {}
    until = rel.paused_until.isoformat() if rel.paused_until else None
    return {"cap": rel.brand_cap, "paused": rel.state == State.paused, "until": until}


def undo(
    session: Session, token: UnsubscribeToken, choice: Choice, kept: dict[str, object]
) -> Done:
    """Put back what `choice` changed (the page's Undo, right after the choice)."""
    hold(session, token.person)
    found = target(session, token)
    brand = found.brand_name
    if not found.live or found.rel is None:
        return Done(False, f"You have no active relationship with {brand}: nothing to undo.")
    rel = found.rel
    actor = Actor(source=Source.email_link, evidence=_evidence(token, "undo"))
    if choice is Choice.topic:
        relationships.set_topic(session, rel, token.topic, True, actor)
        return Done(True, f"Undone: you get '{found.topic_name}' from {brand} again.")
    if choice is Choice.brand:
        relationships.set_purpose(session, rel, Purpose.marketing, True, actor)
        return Done(True, f"Undone: {brand} may send you marketing again, as before.")
    if choice is Choice.pause:
        until = kept.get("until")
        if kept.get("paused"):
            relationships.pause(
                session, rel, datetime.fromisoformat(str(until)) if until else None, actor
            )
        else:
            relationships.resume(session, rel, actor)
        return Done(True, f"Undone: {brand} is no longer paused by this choice.")
    cap = kept.get("cap")
    relationships.set_brand_cap(session, rel, cap if isinstance(cap, int) else rel.brand_cap, actor)
    return Done(True, f"Undone: {brand} may send you at most {rel.brand_cap} a week again.")
