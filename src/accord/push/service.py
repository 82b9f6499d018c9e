"""Web Push for people: the instance's public key, subscribing a browser (a `push` contact
point, verified by subscribing), unsubscribing, and what a gone subscription does (404/410
from the push service: suppressed, with a ledger event)."""

from __future__ import annotations

import uuid

from sqlalchemy import select
from sqlalchemy.orm import Session

from accord.core.errors import NotFound
from accord.core.settings import Settings
from accord.people import service as people_service
from accord.people.models import ContactPoint
from accord.push.keys import vapid_keys
from accord.push.sender import Subscription

GONE_REASON = "push_gone"


def public_key(settings: Settings) -> str:
    return vapid_keys(settings).public_key


def subscribe(
    session: Session,
    settings: Settings,
    person_id: uuid.UUID,
    endpoint: str,
    p256dh: str,
    auth: str,
) -> ContactPoint:
    return people_service.add_push(
        session, person_id, endpoint, p256dh, auth, allow_http=settings.is_dev
    )


def unsubscribe(session: Session, person_id: uuid.UUID, endpoint: str) -> None:
    point = session.scalars(
        select(ContactPoint).where(
            ContactPoint.person_id == person_id,
            ContactPoint.channel == "push",
            ContactPoint.address_normalised == endpoint,
        )
    ).one_or_none()
    if point is None:
        raise NotFound("This browser is not subscribed.", field="endpoint")
    session.delete(point)
    session.flush()


def subscriptions(session: Session, person_id: uuid.UUID) -> list[ContactPoint]:
    return list(
        session.scalars(
            select(ContactPoint)
            .where(ContactPoint.person_id == person_id, ContactPoint.channel == "push")
            .order_by(ContactPoint.created_at)
        )
    )


def usable(session: Session, people: list[uuid.UUID]) -> dict[uuid.UUID, list[Subscription]]:
    """Every verified, unsuppressed subscription of these people (one per browser)."""
    found: dict[uuid.UUID, list[Subscription]] = {}
    rows = session.execute(
        select(ContactPoint.person_id, ContactPoint.address, ContactPoint.details).where(
            ContactPoint.person_id.in_(people),
            ContactPoint.channel == "push",
            ContactPoint.verified_at.is_not(None),
            ContactPoint.suppressed_reason.is_(None),
        )
    ).all()
    for person_id, endpoint, details in rows:
        keys = details or {}
        found.setdefault(person_id, []).append(
            Subscription(endpoint, str(keys.get("p256dh", "")), str(keys.get("auth", "")))
        )
    return found


def gone(session: Session, settings: Settings, endpoint: str) -> bool:
    """The push service said the subscription no longer exists: never use it again, provably."""
    point = session.scalars(
        select(ContactPoint).where(
            ContactPoint.channel == "push", ContactPoint.address_normalised == endpoint
        )
    ).one_or_none()
    if point is None:
        return False
    return people_service.suppress_contact_point(session, settings, point, GONE_REASON)
