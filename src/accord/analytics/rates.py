"""Response, opt-out and unsubscribe rates per week, channel and topic, in SQL.

A week is the UTC week (Monday) in which messages were handed to a channel (outbox rows in
state ``sent``). What people did afterwards (delivery events attributed to a message: replied,
unsubscribed, opted out, complained, bounced) counts for the week its message was sent, so a
rate is "of the messages sent that week, the share that led to ...". Each message counts at
most once per kind. Groups of fewer than 5 messages show no rates.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import date
from functools import cache
from typing import Any

from sqlalchemy import Select, Uuid, bindparam, case, distinct, func, select
from sqlalchemy.orm import Session

from accord.analytics.segments import MIN_GROUP, utc_week
from accord.core.db import utcnow
from accord.core.direct import Direct
from accord.outbox.models import DeliveryEvent, OutboxMessage
from accord.relationships.models import Topic

# Event kind -> (label, what the rate means). "opted_out" is an opt-out of the whole brand's
# marketing; "unsubscribed" leaves one topic or channel.
KINDS: dict[str, tuple[str, str]] = {
    "replied": ("Response", "replied to the message"),
    "unsubscribed": ("Unsubscribe", "unsubscribed from the topic through the message"),
    "opted_out": ("Opt-out", "withdrew marketing consent from the brand through the message"),
    "complained": ("Complaint", "reported the message as spam"),
    "bounced": ("Bounce", "could not be delivered (hard bounce)"),
}


def _day(value: Any) -> date:
    return value if isinstance(value, date) else date.fromisoformat(str(value)[:10])


@dataclass(frozen=True)
class RateRow:
    week: date
    channel: str
    topic: str
    sent: int
    events: dict[str, int] = field(default_factory=dict)

    @property
    def shown(self) -> bool:
        return self.sent >= MIN_GROUP

    def rate(self, kind: str) -> float | None:
        if not self.shown:
            return None
        return self.events.get(kind, 0) / self.sent


@cache
def _rates_select(by_group: bool) -> Select[Any]:
    """Built once per grouping (the console's home and the rates page run it on every view;
    building it, a count per kind, cost more than running it): the brand is bound."""
    o = OutboxMessage
    e = DeliveryEvent
    week = utc_week(o.sent_at)
    columns: list[Any] = [week.label("week")]
    group: list[Any] = [week]
    if by_group:
        columns += [o.channel.label("channel"), Topic.name.label("topic")]
        group += [o.channel, Topic.name]
    counts = [func.count(distinct(case((e.kind == kind, o.id)))).label(kind) for kind in KINDS]
    return (
        select(*columns, func.count(distinct(o.id)).label("sent"), *counts)
        .select_from(o)
        .join(Topic, Topic.id == o.topic_id)
        .outerjoin(e, e.message_id == o.id)
        .where(
            o.brand_id == bindparam("brand", type_=Uuid()),
            o.state == "sent",
            o.sent_at.is_not(None),
        )
        .group_by(*group)
        .order_by(*group)
    )


def rates_by_week(
    session: Session, brand_id: uuid.UUID, *, by_channel_and_topic: bool = True
) -> list[RateRow]:
    """Per week (and, by default, per channel and topic): messages sent and what followed."""
    rows = _rates(by_channel_and_topic).all(session, brand=brand_id)
    return [
        RateRow(
            week=_day(row.week),
            channel=row.channel if by_channel_and_topic else "all",
            topic=row.topic if by_channel_and_topic else "all",
            sent=int(row.sent),
            events={kind: int(getattr(row, kind)) for kind in KINDS},
        )
        for row in rows
    ]


@cache
def _rates(by_group: bool) -> Direct:
    """`_rates_select`, run on the session's cursor (`core.direct`): through the ORM it cost
    several times what it took to run on a small brand."""
    return Direct(_rates_select(by_group))


def totals(rows: list[RateRow]) -> RateRow:
    """All rows added up (for a summary line)."""
    events = {kind: sum(r.events.get(kind, 0) for r in rows) for kind in KINDS}
    first = min((r.week for r in rows), default=utcnow().date())
    return RateRow(
        week=first, channel="all", topic="all", sent=sum(r.sent for r in rows), events=events
    )
