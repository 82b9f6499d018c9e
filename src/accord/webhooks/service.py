"""Webhooks for brands: endpoints (registered with an SSRF check), events raised by any domain
(`emit`, in the caller's transaction: a transactional outbox), deliveries, replay.

Other domains raise events through `emit` / `emit_many` with a type from `registry` (theirs
defined in their own module with `registry.define`)."""

from __future__ import annotations

import base64
import secrets
import uuid
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Uuid, bindparam, exists, func, insert, select, update
from sqlalchemy.orm import Session

from accord.core.db import utcnow
from accord.core.direct import Direct
from accord.core.errors import Conflict, InvalidInput, NotFound
from accord.core.settings import Settings
from accord.webhooks import registry
from accord.webhooks.dispatch import run_once as run_once
from accord.webhooks.endpoints import check_url as check_url
from accord.webhooks.endpoints import set_enabled as set_enabled
from accord.webhooks.models import WebhookDelivery, WebhookEndpoint, WebhookEvent
from accord.webhooks.registry import CONSENT_CHANGED as CONSENT_CHANGED
from accord.webhooks.registry import MESSAGE_BOUNCED as MESSAGE_BOUNCED
from accord.webhooks.registry import MESSAGE_COMPLAINED as MESSAGE_COMPLAINED
from accord.webhooks.registry import MESSAGE_DELIVER as MESSAGE_DELIVER
from accord.webhooks.registry import MESSAGE_DELIVERED as MESSAGE_DELIVERED
from accord.webhooks.registry import MESSAGE_READ as MESSAGE_READ
from accord.webhooks.registry import MESSAGE_SENT as MESSAGE_SENT
from accord.webhooks.registry import RELATIONSHIP_CHANGED as RELATIONSHIP_CHANGED
from accord.webhooks.registry import REPLY_RECEIVED as REPLY_RECEIVED
from accord.webhooks.registry import define as define

# Other domains import only this module (tests/test_architecture.py): the `name as name`
# imports above are what it offers them from the domain's other modules.

MAX_ENDPOINTS_PER_BRAND = 20


def new_secret() -> str:
    """A Standard Webhooks secret: `whsec_` and 32 random bytes, base64."""
    return "whsec_" + base64.b64encode(secrets.token_bytes(32)).decode()


def new_event_id() -> str:
    return "msg_" + uuid.uuid4().hex


def check_event_types(types: Sequence[str], *, field: str = "event_types") -> list[str]:
    unknown = [t for t in types if not registry.is_known(t)]
    if unknown:
        raise InvalidInput(
            f"Unknown event type(s): {', '.join(sorted(unknown))}. "
            f"Known: {', '.join(registry.known())}.",
            field=field,
        )
    return sorted(set(types))


def create_endpoint(
    session: Session,
    settings: Settings,
    brand_id: uuid.UUID,
    *,
    url: str,
    event_types: Sequence[str],
    description: str = "",
    is_channel: bool = False,
) -> WebhookEndpoint:
    types = check_event_types(event_types)
    if not types and not is_channel:
        raise InvalidInput("Pick at least one event type.", field="event_types")
    check_url(settings, url)
    count = session.scalar(select(func.count()).where(WebhookEndpoint.brand_id == brand_id))
    if (count or 0) >= MAX_ENDPOINTS_PER_BRAND:
        raise InvalidInput(
            f"A brand has at most {MAX_ENDPOINTS_PER_BRAND} webhook endpoints.", field="url"
        )
    endpoint = WebhookEndpoint(
        brand_id=brand_id,
        url=url,
        description=description,
        event_types=types,
        secret=new_secret(),
        is_channel=is_channel,
    )
    session.add(endpoint)
    session.flush()
    return endpoint


def get_endpoint(session: Session, brand_id: uuid.UUID, endpoint_id: uuid.UUID) -> WebhookEndpoint:
    endpoint = session.scalars(
        select(WebhookEndpoint).where(
            WebhookEndpoint.id == endpoint_id, WebhookEndpoint.brand_id == brand_id
        )
    ).one_or_none()
    if endpoint is None:
        raise NotFound("No such webhook endpoint.", field="endpoint_id")
    return endpoint


def endpoints(session: Session, brand_id: uuid.UUID) -> list[WebhookEndpoint]:
    return list(
        session.scalars(
            select(WebhookEndpoint)
            .where(WebhookEndpoint.brand_id == brand_id)
            .order_by(WebhookEndpoint.created_at)
        )
    )


def update_endpoint(
    session: Session,
    settings: Settings,
    brand_id: uuid.UUID,
    endpoint_id: uuid.UUID,
    changes: Mapping[str, Any],
) -> WebhookEndpoint:
    """Change url, event types, description, channel use or enabled (enabling again clears the
    failure clock). Every change is checked before any is written."""
    endpoint = get_endpoint(session, brand_id, endpoint_id)
    if "url" in changes:
        check_url(settings, changes["url"])
    types = check_event_types(changes["event_types"]) if "event_types" in changes else None
    if "url" in changes:
        endpoint.url = changes["url"]
    if types is not None:
        endpoint.event_types = types
    if "description" in changes:
        endpoint.description = changes["description"]
    if "is_channel" in changes:
        endpoint.is_channel = bool(changes["is_channel"])
    if "enabled" in changes:
        set_enabled(endpoint, bool(changes["enabled"]), reason="disabled by the brand")
    if not endpoint.event_types and not endpoint.is_channel:
        raise InvalidInput("Pick at least one event type.", field="event_types")
    session.flush()
    return endpoint


def rotate_secret(session: Session, brand_id: uuid.UUID, endpoint_id: uuid.UUID) -> WebhookEndpoint:
    endpoint = get_endpoint(session, brand_id, endpoint_id)
    endpoint.secret = new_secret()
    session.flush()
    return endpoint


def delete_endpoint(session: Session, brand_id: uuid.UUID, endpoint_id: uuid.UUID) -> None:
    session.delete(get_endpoint(session, brand_id, endpoint_id))
    session.flush()


# Raising events.


def has_channel_endpoint(session: Session, brand_id: uuid.UUID) -> bool:
    return (
        session.scalar(
            select(WebhookEndpoint.id)
            .where(
                WebhookEndpoint.brand_id == brand_id,
                WebhookEndpoint.enabled.is_(True),
                WebhookEndpoint.is_channel.is_(True),
            )
            .limit(1)
        )
        is not None
    )


def emit(
    session: Session,
    brand_id: uuid.UUID,
    type_: str,
    data: Mapping[str, Any],
    *,
    event_id: str | None = None,
    listening: bool | None = None,
) -> str | None:
    """Raise one event for the brand; see `emit_many`. `listening`: what `listening(brand)`
    gave in this transaction, when the caller read it; False spares the read of the brand's
    endpoints (there are none to deliver to)."""
    if listening is False:
        return None
    ids = emit_many(session, brand_id, type_, [(event_id or new_event_id(), data)])
    return ids[0] if ids else None


_endpoints: Any = WebhookEndpoint.__table__


def listening(brand_id: Any) -> Any:
    """Whether the brand (a column or value) has an enabled endpoint: for a statement that reads
    the brand anyway to carry, and hand to `emit`."""
    return exists().where(_endpoints.c.brand_id == brand_id, _endpoints.c.enabled.is_(True))


# Every decision asks this: on the table, compiled once, run on the DBAPI cursor.
_ENABLED_ENDPOINTS = Direct(
    select(_endpoints.c.id, _endpoints.c.is_channel, _endpoints.c.event_types).where(
        _endpoints.c.brand_id == bindparam("brand", type_=Uuid()), _endpoints.c.enabled.is_(True)
    )
)


def emit_many(
    session: Session,
    brand_id: uuid.UUID,
    type_: str,
    events: Sequence[tuple[str, Mapping[str, Any]]],
    *,
    at: datetime | None = None,
) -> list[str]:
    """Raise events (id, data) of one type for the brand, in the caller's transaction: each is
    delivered, after commit, to every enabled endpoint subscribed to the type (`message.deliver`:
    to the endpoints that are a message channel). Nothing is written when no endpoint wants
    them. An id raised before (a retried hand-over) adds nothing: idempotent by event id."""
    if not registry.is_known(type_):
        raise ValueError(f"event type {type_!r} is not defined in accord.webhooks.registry")
    wanted = [
        endpoint_id
        for endpoint_id, is_channel, event_types in _ENABLED_ENDPOINTS.all(session, brand=brand_id)
        if (is_channel if type_ == registry.MESSAGE_DELIVER.name else type_ in event_types)
    ]
    if not wanted or not events:
        return []
    ids = [event_id for event_id, _ in events]
    seen = set(session.scalars(select(WebhookEvent.id).where(WebhookEvent.id.in_(ids))))
    fresh = [(i, d) for i, d in events if i not in seen]
    if not fresh:
        return []
    moment = at or utcnow()
    stamp = moment.strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    session.execute(
        insert(WebhookEvent),
        [
            {
                "id": event_id,
                "brand_id": brand_id,
                "type": type_,
                "payload": {"type": type_, "timestamp": stamp, "data": dict(data)},
                "created_at": moment,
            }
            for event_id, data in fresh
        ],
    )
    session.execute(
        insert(WebhookDelivery),
        [
            {
                "brand_id": brand_id,
                "endpoint_id": endpoint_id,
                "event_id": event_id,
                "state": "pending",
                "attempts": 0,
                "next_attempt_at": moment,
                "created_at": moment,
            }
            for event_id, _ in fresh
            for endpoint_id in wanted
        ],
    )
    return [event_id for event_id, _ in fresh]


# Deliveries: the console's view, replay.


def deliveries(
    session: Session,
    brand_id: uuid.UUID,
    endpoint_id: uuid.UUID,
    *,
    before: int | None = None,
    limit: int = 50,
) -> tuple[list[tuple[WebhookDelivery, WebhookEvent]], int | None]:
    """An endpoint's deliveries, newest first, with their events; `before`: the next page
    starts below this delivery id (the previous page's `next`)."""
    get_endpoint(session, brand_id, endpoint_id)
    query = (
        select(WebhookDelivery, WebhookEvent)
        .join(WebhookEvent, WebhookEvent.id == WebhookDelivery.event_id)
        .where(WebhookDelivery.endpoint_id == endpoint_id, WebhookDelivery.brand_id == brand_id)
    )
    if before is not None:
        query = query.where(WebhookDelivery.id < before)
    found = session.execute(query.order_by(WebhookDelivery.id.desc()).limit(limit + 1)).all()
    rows = [(d, e) for d, e in found]
    if len(rows) > limit:
        rows = rows[:limit]
        return rows, rows[-1][0].id
    return rows, None


def get_delivery(session: Session, brand_id: uuid.UUID, delivery_id: int) -> WebhookDelivery:
    delivery = session.scalars(
        select(WebhookDelivery).where(
            WebhookDelivery.id == delivery_id, WebhookDelivery.brand_id == brand_id
        )
    ).one_or_none()
    if delivery is None:
        raise NotFound("No such webhook delivery.", field="delivery_id")
    return delivery


def replay(session: Session, brand_id: uuid.UUID, delivery_id: int) -> WebhookDelivery:
    """Send the same event again (same `webhook-id`, so a receiver that saw it can tell), now,
    with a fresh set of retries."""
    delivery = get_delivery(session, brand_id, delivery_id)
    endpoint = get_endpoint(session, brand_id, delivery.endpoint_id)
    if not endpoint.enabled:
        raise Conflict("Enable the endpoint before replaying its deliveries.", field="endpoint")
    session.execute(
        update(WebhookDelivery)
        .where(WebhookDelivery.id == delivery.id)
        .values(
            state="pending",
            attempts=0,
            next_attempt_at=utcnow(),
            lease_owner=None,
            lease_expires_at=None,
        )
    )
    session.refresh(delivery)
    return delivery


def send_test(session: Session, brand_id: uuid.UUID, endpoint_id: uuid.UUID) -> str:
    """A `webhook.test` event to this endpoint alone (whatever types it is subscribed to)."""
    endpoint = get_endpoint(session, brand_id, endpoint_id)
    event_id, moment = new_event_id(), utcnow()
    stamp = moment.strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    session.add(
        WebhookEvent(
            id=event_id,
            brand_id=brand_id,
            type=registry.TEST.name,
            payload={"type": registry.TEST.name, "timestamp": stamp, "data": {"test": True}},
            created_at=moment,
        )
    )
    session.flush()
    session.add(
        WebhookDelivery(
            brand_id=brand_id, endpoint_id=endpoint.id, event_id=event_id, next_attempt_at=moment
        )
    )
    session.flush()
    return event_id
