"""The campaigns' part of the console's home: who can be reached on which channel and topic,
the last campaigns with what came of them, the scheduled sends, and the "first campaign" step
of a new brand's checklist. The composition root registers these (core.web.panels)."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from functools import cache
from typing import Any

from sqlalchemy import Uuid, bindparam, func, select
from sqlalchemy.orm import Session

from accord.campaigns import console_view as view
from accord.campaigns.gate_rules import Sending
from accord.campaigns.gate_sql import Related, eligible_select
from accord.campaigns.models import Campaign
from accord.campaigns.service import MESSAGE_PURPOSES
from accord.core.db import utcnow
from accord.core.principals import BrandCaller
from accord.outbox.models import DeliveryEvent, OutboxMessage
from accord.relationships import service as relationships
from accord.relationships.vocabulary import Channel, Purpose

# The channels a person can be reached on (webhooks reach the brand's own systems).
CHANNELS = [
    (Channel.email.value, "E-mail"),
    (Channel.sms.value, "SMS"),
    (Channel.push.value, "Push"),
    (Channel.inapp.value, "In-app"),
    (Channel.postal.value, "Post"),
]
RECENT = 5
HANDED = ("sent", "delivered", "undelivered")


def message_topics(session: Session, brand_id: uuid.UUID) -> list[Any]:
    return [
        t
        for t in relationships.brand_topics(session, brand_id)
        if t.retired_at is None and t.purpose in MESSAGE_PURPOSES
    ]


def reachable(session: Session, brand_id: uuid.UUID, topics: list[Any]) -> dict[str, Any]:
    """People the gate lets through now (or once their quiet hours end), per topic and channel:
    each cell is the gate's own eligible SELECT over the brand's relationships, counted."""
    now = utcnow()
    audience = Related(lambda rel: [rel.brand_id == brand_id])
    counts: dict[tuple[uuid.UUID, str], int] = {}
    for topic in topics:
        for channel, _ in CHANNELS:
            sending = Sending(brand_id, Purpose(topic.purpose), topic.id, Channel(channel), now)
            eligible = eligible_select(session, sending, audience, deferred=True).subquery()
            counts[(topic.id, channel)] = int(
                session.scalar(select(func.count()).select_from(eligible)) or 0
            )
    return {"topics": topics, "channels": CHANNELS, "counts": counts}


@cache
def _recent_statements() -> tuple[Any, Any, Any]:
    """`recent`'s three reads, built once (the console's home runs them on every view): the
    brand and the campaigns' ids are bound."""
    ids = bindparam("ids", expanding=True, type_=Uuid())
    latest = (
        select(Campaign)
        .where(
            Campaign.brand_id == bindparam("brand", type_=Uuid()),
            Campaign.state.in_(("sending", "done")),
        )
        .order_by(Campaign.send_at.desc(), Campaign.id)
        .limit(RECENT)
    )
    handed = (
        select(OutboxMessage.campaign_id, func.count())
        .where(OutboxMessage.campaign_id.in_(ids), OutboxMessage.state.in_(HANDED))
        .group_by(OutboxMessage.campaign_id)
    )
    followed = (
        select(DeliveryEvent.campaign_id, DeliveryEvent.kind, func.count())
        .where(
            DeliveryEvent.campaign_id.in_(ids),
            DeliveryEvent.kind.in_(("unsubscribed", "complained", "opted_out")),
        )
        .group_by(DeliveryEvent.campaign_id, DeliveryEvent.kind)
    )
    return latest, handed, followed


def recent(session: Session, brand_id: uuid.UUID) -> list[dict[str, Any]]:
    """The last campaigns that went out, with messages sent, unsubscribes and complaints."""
    latest, handed, followed = _recent_statements()
    rows = session.scalars(latest, {"brand": brand_id}).all()
    ids = [c.id for c in rows]
    sent: dict[uuid.UUID, int] = {}
    events: dict[tuple[uuid.UUID, str], int] = {}
    if ids:
        for campaign_id, n in session.execute(handed, {"ids": ids}):
            if campaign_id is not None:
                sent[campaign_id] = int(n)
        for campaign_id, kind, n in session.execute(followed, {"ids": ids}):
            if campaign_id is not None:
                events[(campaign_id, kind)] = int(n)
    return [
        {
            "campaign": c,
            "state": view.STATE_TEXT.get(c.state, c.state),
            "sent": sent.get(c.id, 0),
            "unsubscribed": events.get((c.id, "unsubscribed"), 0)
            + events.get((c.id, "opted_out"), 0),
            "complaints": events.get((c.id, "complained"), 0),
        }
        for c in rows
    ]


def scheduled(session: Session, brand_id: uuid.UUID) -> list[dict[str, Any]]:
    rows = session.scalars(
        select(Campaign)
        .where(Campaign.brand_id == brand_id, Campaign.state == "scheduled")
        .order_by(Campaign.send_at, Campaign.id)
        .limit(10)
    ).all()
    return [{"campaign": c, "when": view.schedule_text(c)} for c in rows]


class Panel:
    """The section's context. The reachable grid runs the gate once per topic and channel, so
    each app keeps it per brand for a few minutes and the page says as of when."""

    def __init__(self, max_age: timedelta = timedelta(minutes=5)) -> None:
        self.max_age = max_age
        self._reachable: dict[tuple[Any, ...], tuple[datetime, dict[str, Any]]] = {}

    def __call__(self, session: Session, caller: BrandCaller) -> dict[str, Any]:
        now = utcnow()
        topics = message_topics(session, caller.brand_id)
        # A new, renamed or retired topic shows at once; the counts may be minutes old.
        key = (caller.brand_id, *((t.id, t.name) for t in topics))
        cached = self._reachable.get(key)
        if cached is None or now - cached[0] > self.max_age:
            cached = (now, reachable(session, caller.brand_id, topics))
            if len(self._reachable) > 1000:  # old topic sets of every brand: start afresh
                self._reachable.clear()
            self._reachable[key] = cached
        return {
            "reachable": cached[1],
            "reachable_at": cached[0],
            "recent": recent(session, caller.brand_id),
            "scheduled": scheduled(session, caller.brand_id),
        }


def has_sent(session: Session, brand_id: uuid.UUID) -> bool:
    """The checklist's last step: a campaign has been sent or scheduled."""
    found = session.scalar(
        select(Campaign.id).where(Campaign.brand_id == brand_id, Campaign.state != "draft").limit(1)
    )
    return found is not None
