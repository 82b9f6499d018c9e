"""The campaigns' part of the console's home: who can be reached on which channel and topic,
the last campaigns with what came of them, the scheduled sends, and the "first campaign" step
of a new brand's checklist. The composition root registers these (core.web.panels)."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Any

from markupsafe import Markup
from sqlalchemy import Uuid, bindparam, func, literal, select, union_all
from sqlalchemy.orm import Session

from accord.campaigns import console_view as view
from accord.campaigns.gate_rules import Sending
from accord.campaigns.gate_sql import Related, eligible_select
from accord.campaigns.models import Campaign
from accord.campaigns.service import MESSAGE_PURPOSES
from accord.core.db import utcnow
from accord.core.direct import Direct
from accord.core.principals import BrandCaller
from accord.outbox.models import DeliveryEvent, OutboxMessage
from accord.relationships.models import Topic
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
SCHEDULED = 10
SENT = ("sending", "done")
HANDED = ("sent", "delivered", "undelivered")
FOLLOWED = ("unsubscribed", "complained", "opted_out")


# The console's home reads these on every view: built once and run on the session's cursor
# (`core.direct`; through the ORM each cost several times what the database spends on it), with
# only the columns the section shows.
_BRAND = bindparam("brand", type_=Uuid())
_TOPICS = Direct(
    select(Topic.id, Topic.name, Topic.purpose)
    .where(
        Topic.brand_id == _BRAND,
        Topic.retired_at.is_(None),
        Topic.purpose.in_([literal(p) for p in MESSAGE_PURPOSES]),
    )
    .order_by(Topic.name)
)


def _campaigns() -> Direct:
    """The last campaigns that went out (RECENT) and the next scheduled ones (up to
    SCHEDULED), each part in its own order (`n`), in one statement."""
    c = Campaign.__table__.c
    shown = (c.id, c.name, c.state, c.schedule_kind, c.send_at, c.local_date, c.local_time)

    def part(name: str, where: Any, order: tuple[Any, ...], limit: int) -> Any:
        n = func.row_number().over(order_by=order).label("n")
        rows = select(literal(name).label("part"), *shown, n).where(c.brand_id == _BRAND, where)
        return select(rows.order_by(*order).limit(limit).subquery())

    both = union_all(
        part("recent", c.state.in_([literal(s) for s in SENT]), (c.send_at.desc(), c.id), RECENT),
        part("scheduled", c.state == "scheduled", (c.send_at, c.id), SCHEDULED),
    ).subquery()
    return Direct(select(both).order_by(both.c.part, both.c.n))


def _outcomes() -> Direct:
    """Messages handed over, and unsubscribes, opt-outs and complaints, of up to RECENT
    campaigns (`c0`…: unused ones NULL): a fixed list, so the statement is built once."""
    ids = [bindparam(f"c{i}", type_=Uuid()) for i in range(RECENT)]
    o, e = OutboxMessage.__table__.c, DeliveryEvent.__table__.c
    handed = (
        select(o.campaign_id.label("campaign_id"), literal("sent").label("what"), func.count())
        .where(o.campaign_id.in_(ids), o.state.in_([literal(s) for s in HANDED]))
        .group_by(o.campaign_id)
    )
    followed = (
        select(e.campaign_id, e.kind, func.count())
        .where(e.campaign_id.in_(ids), e.kind.in_([literal(k) for k in FOLLOWED]))
        .group_by(e.campaign_id, e.kind)
    )
    return Direct(union_all(handed, followed))


_CAMPAIGNS = _campaigns()
_OUTCOMES = _outcomes()
_SENT_ANY = Direct(
    select(Campaign.id).where(Campaign.brand_id == _BRAND, Campaign.state != "draft").limit(1)
)


def message_topics(session: Session, brand_id: uuid.UUID) -> list[Any]:
    """The brand's topics a campaign can be about (id, name, purpose), by name."""
    return _TOPICS.all(session, brand=brand_id)


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
    # Each topic's row of cells, written once with the counts (kept with them) rather than on
    # every view: a figure a cell, formatted in the template, was a fifth of the home's render.
    cells = {
        topic.id: Markup("".join(f"<td>{counts[(topic.id, c)]:,}</td>" for c, _ in CHANNELS))
        for topic in topics
    }
    return {"topics": topics, "channels": CHANNELS, "counts": counts, "cells": cells}


def campaigns(session: Session, brand_id: uuid.UUID) -> tuple[list[Any], list[Any]]:
    """The last campaigns that went out, with messages sent, unsubscribes and complaints; and
    the scheduled ones, with when they go."""
    rows = _CAMPAIGNS.all(session, brand=brand_id)
    latest = [r for r in rows if r.part == "recent"]
    counts: dict[tuple[uuid.UUID, str], int] = {}
    if latest:
        ids = {f"c{i}": (latest[i].id if i < len(latest) else None) for i in range(RECENT)}
        for campaign_id, what, n in _OUTCOMES.all(session, **ids):
            counts[(campaign_id, what)] = int(n)
    recent = [
        {
            "campaign": c,
            "state": view.STATE_TEXT.get(c.state, c.state),
            "sent": counts.get((c.id, "sent"), 0),
            "unsubscribed": counts.get((c.id, "unsubscribed"), 0)
            + counts.get((c.id, "opted_out"), 0),
            "complaints": counts.get((c.id, "complained"), 0),
        }
        for c in latest
    ]
    scheduled = [
        {"campaign": c, "when": view.schedule_text(c)} for c in rows if c.part == "scheduled"
    ]
    return recent, scheduled


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
        recent, scheduled = campaigns(session, caller.brand_id)
        return {
            "reachable": cached[1],
            "reachable_at": cached[0],
            "recent": recent,
            "scheduled": scheduled,
        }


def has_sent(session: Session, brand_id: uuid.UUID) -> bool:
    """The checklist's last step: a campaign has been sent or scheduled."""
    return _SENT_ANY.first(session, brand=brand_id) is not None
