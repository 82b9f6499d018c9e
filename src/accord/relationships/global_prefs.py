"""Preferences across all brands: quiet hours, global cap, do-not-contact, pause everything."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Select, bindparam, select
from sqlalchemy.orm import Session

from accord.consent import service as consent
from accord.core.db import insert_or_ignore, utcnow
from accord.core.errors import InvalidInput
from accord.core.prepared import Prepared
from accord.relationships.decisions import Actor
from accord.relationships.models import GlobalPreferences


def _held(session: Session, person_id: uuid.UUID) -> GlobalPreferences:
    """The preferences, re-read under the person's ledger-head lock (see ledger.hold)."""
    consent.hold(session, person_id)
    prefs = get(session, person_id)
    session.refresh(prefs)
    return prefs


def get(session: Session, person_id: uuid.UUID) -> GlobalPreferences:
    prefs = session.get(GlobalPreferences, person_id)
    if prefs is None:
        insert_or_ignore(session, GlobalPreferences, {"person_id": person_id})
        prefs = session.get_one(GlobalPreferences, person_id)
    return prefs


def _record(
    session: Session, person_id: uuid.UUID, action: str, actor: Actor, value: dict[str, Any]
) -> None:
    consent.append(
        session,
        subject=person_id,
        action=action,
        source=actor.source.value,
        policy=actor.policy,
        evidence=actor.evidence,
        value=value,
    )
    session.flush()


def set_quiet_hours(
    session: Session, person_id: uuid.UUID, start: str | None, end: str | None, actor: Actor
) -> bool:
    """Quiet hours as HH:MM in the person's time zone; both None clears them."""
    if (start is None) != (end is None):
        raise InvalidInput("Give both the start and the end of the quiet hours.", field="quiet_end")
    if start is not None and start == end:
        raise InvalidInput("Quiet hours cannot start and end at the same time.", field="quiet_end")
    prefs = _held(session, person_id)
    if (prefs.quiet_start, prefs.quiet_end) == (start, end):
        return False
    prefs.quiet_start, prefs.quiet_end = start, end
    _record(session, person_id, "set_quiet_hours", actor, {"start": start, "end": end})
    return True


def set_global_cap(session: Session, person_id: uuid.UUID, cap: int, actor: Actor) -> bool:
    if not 0 <= cap <= 500:
        raise InvalidInput("The cap must be between 0 and 500 messages a week.", field="global_cap")
    prefs = _held(session, person_id)
    if prefs.global_cap == cap:
        return False
    prefs.global_cap = cap
    _record(session, person_id, "set_global_cap", actor, {"cap": cap})
    return True


def set_do_not_contact(session: Session, person_id: uuid.UUID, on: bool, actor: Actor) -> bool:
    prefs = _held(session, person_id)
    if prefs.do_not_contact == on:
        return False
    prefs.do_not_contact = on
    _record(session, person_id, "set_do_not_contact", actor, {"on": on})
    return True


def pause_all(session: Session, person_id: uuid.UUID, until: datetime, actor: Actor) -> bool:
    if until <= utcnow():
        raise InvalidInput("The pause must end in the future.", field="paused_until")
    prefs = _held(session, person_id)
    if prefs.paused_until == until:
        return False
    prefs.paused_until = until
    _record(session, person_id, "pause_all", actor, {"until": consent.timestamp(until)})
    return True


def resume_all(session: Session, person_id: uuid.UUID, actor: Actor) -> bool:
    prefs = _held(session, person_id)
    if prefs.paused_until is None:
        return False
    prefs.paused_until = None
    _record(session, person_id, "resume_all", actor, {})
    return True


# Every page of a signed-in person asks: prepared once (core.prepared).
_BANNER_FACTS = Prepared(
    cast(
        "Select[Any]",
        select(GlobalPreferences.do_not_contact, GlobalPreferences.paused_until).where(
            GlobalPreferences.person_id == bindparam("person_id")
        ),
    )
)


def banners(session: Session, person_id: uuid.UUID) -> list[dict[str, str]]:
    """What the person has switched off for every brand, said over every page, with the way
    back: do-not-contact (turned off in the settings) and a pause of everything (resumed)."""
    session.flush()  # what the ORM's autoflush would do: a change just made shows
    prefs = _BANNER_FACTS.first(session, person_id=person_id)
    if prefs is None:
        return []
    found = []
    if prefs.do_not_contact:
        found.append(
            {
                "text": "Do not contact is on: no brand may send you marketing.",
                "href": "/settings",
                "label": "Turn off",
            }
        )
    if prefs.paused_until is not None and prefs.paused_until > utcnow():
        found.append(
            {
                "text": "Everything is paused until "
                f"{prefs.paused_until:%Y-%m-%d %H:%M} UTC: no brand may send you marketing.",
                "resume": "/settings/resume",
                "label": "Resume",
            }
        )
    return found
