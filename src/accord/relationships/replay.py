"""Rebuild a person's preference state from the ledger alone, and read it from the tables.

The two must always agree: tests replay random decision sequences and compare.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from sqlalchemy import select
from sqlalchemy.orm import Session

from accord.consent import service as consent
from accord.core.db import utcnow
from accord.relationships.models import (
    DEFAULT_BRAND_CAP,
    DEFAULT_GLOBAL_CAP,
    ChannelChoice,
    GlobalPreferences,
    PurposeGrant,
    Relationship,
    TopicChoice,
)


@dataclass
class BrandState:
    state: str
    paused_until: str | None = None
    cap: int = DEFAULT_BRAND_CAP
    purposes: dict[str, str] = field(default_factory=dict)
    channels: set[tuple[str, str]] = field(default_factory=set)
    topics: set[str] = field(default_factory=set)


@dataclass
class PersonState:
    quiet: tuple[str | None, str | None] = (None, None)
    global_cap: int = DEFAULT_GLOBAL_CAP
    do_not_contact: bool = False
    paused_until: str | None = None
    brands: dict[str, BrandState] = field(default_factory=dict)


def _fresh(state: str, with_default_channel: bool) -> BrandState:
    channels = {("transactional", "email")} if with_default_channel else set()
    return BrandState(state=state, channels=channels)


def _apply_brand(brand: BrandState | None, action: str, body: dict[str, Any]) -> BrandState | None:
    scope, value = body["scope"], body["value"]
    if action in ("follow", "intent_accept"):
        return _fresh("active", True)
    if action == "invite":
        return _fresh("invited", False)
    if action in ("import_grant", "import_request"):
        return _imported(brand, action == "import_grant", scope, value)
    if brand is None:
        return None
    if action == "end":
        return BrandState(state="ended")
    _change_brand(brand, action, scope, value)
    return brand


def _imported(
    brand: BrandState | None, granted: bool, scope: dict[str, Any], value: dict[str, Any]
) -> BrandState:
    """Consent a brand imported: starts the relationship (or activates an invitation)."""
    if brand is None or brand.state == "ended":
        brand = _fresh("active", True)
    elif brand.state == "invited":
        brand.state = "active"
        brand.channels.add(("transactional", "email"))
    purpose = scope["purpose"]
    if granted:
        brand.purposes[purpose] = "granted"
        brand.channels |= {(purpose, c) for c in value["channels"]}
        brand.topics |= set(value["topics"])
    else:
        brand.purposes.setdefault(purpose, "pending")
    return brand


def _change_brand(
    brand: BrandState, action: str, scope: dict[str, Any], value: dict[str, Any]
) -> None:
    if action == "accept":
        brand.state = "active"
        brand.channels.add(("transactional", "email"))
    elif action == "pause":
        brand.state, brand.paused_until = "paused", value["until"]
    elif action == "resume":
        brand.state, brand.paused_until = "active", None
    elif action == "set_cap":
        brand.cap = value["cap"]
    elif action == "request":
        brand.purposes.setdefault(scope["purpose"], "pending")
    elif action == "confirm":
        brand.purposes[scope["purpose"]] = "granted"
        brand.channels |= {(scope["purpose"], c) for c in value["channels"]}
        brand.topics |= set(value["topics"])
    elif action in ("grant", "withdraw"):
        _apply_choice(brand, action == "grant", scope)


def _apply_choice(brand: BrandState, on: bool, scope: dict[str, Any]) -> None:
    if scope["topic"]:
        (brand.topics.add if on else brand.topics.discard)(scope["topic"])
    elif scope["channel"]:
        pair = (scope["purpose"], scope["channel"])
        (brand.channels.add if on else brand.channels.discard)(pair)
    elif on:
        brand.purposes[scope["purpose"]] = "granted"
    else:
        brand.purposes.pop(scope["purpose"], None)


def _apply_global(state: PersonState, action: str, value: dict[str, Any]) -> None:
    if action == "set_quiet_hours":
        state.quiet = (value["start"], value["end"])
    elif action == "set_global_cap":
        state.global_cap = value["cap"]
    elif action == "set_do_not_contact":
        state.do_not_contact = value["on"]
    elif action == "pause_all":
        state.paused_until = value["until"]
    elif action == "resume_all":
        state.paused_until = None


def replay(session: Session, person_id: uuid.UUID) -> PersonState:
    state = PersonState()
    for event in consent.events_for(session, person_id):
        body = consent.body_of(event)
        if body["brand"] is None:
            _apply_global(state, body["action"], body["value"])
            continue
        updated = _apply_brand(state.brands.get(body["brand"]), body["action"], body)
        if updated is not None:
            state.brands[body["brand"]] = updated
    return state


def stored(session: Session, person_id: uuid.UUID) -> PersonState:
    """The same shape, read from the state tables."""
    state = PersonState()
    prefs = session.get(GlobalPreferences, person_id)
    if prefs is not None:
        state.quiet = (prefs.quiet_start, prefs.quiet_end)
        state.global_cap = prefs.global_cap
        state.do_not_contact = prefs.do_not_contact
        state.paused_until = consent.timestamp(prefs.paused_until) if prefs.paused_until else None
    rels = session.scalars(select(Relationship).where(Relationship.person_id == person_id))
    for rel in rels:
        until = consent.timestamp(rel.paused_until) if rel.paused_until else None
        state.brands[str(rel.brand_id)] = BrandState(
            state=rel.state, paused_until=until, cap=rel.brand_cap
        )
    for grant in session.scalars(select(PurposeGrant).where(PurposeGrant.person_id == person_id)):
        state.brands[str(grant.brand_id)].purposes[grant.purpose] = grant.status
    for ch in session.scalars(select(ChannelChoice).where(ChannelChoice.person_id == person_id)):
        state.brands[str(ch.brand_id)].channels.add((ch.purpose, ch.channel))
    for tc in session.scalars(select(TopicChoice).where(TopicChoice.person_id == person_id)):
        state.brands[str(tc.brand_id)].topics.add(str(tc.topic_id))
    return state


class Stated(Protocol):
    """A relationship's state and pause: a Relationship, or a row of its columns."""

    @property
    def state(self) -> str: ...
    @property
    def paused_until(self) -> datetime | None: ...


def effective_state(rel: Stated) -> str:
    """What a state means now: a pause whose end has passed is over."""
    if rel.state == "paused" and rel.paused_until is not None and rel.paused_until <= utcnow():
        return "active"
    return rel.state
