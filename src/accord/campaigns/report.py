"""A campaign's report: audience by reason, delivery states, what people did, and rates."""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from accord.campaigns.models import Campaign
from accord.outbox.models import DeliveryEvent, OutboxMessage

STATES = (
    "queued",
    "sending",
    "sent",
    "delivered",
    "undelivered",
    "deferred",
    "skipped",
    "failed",
    "dead",
    "cancelled",
)
# Handed to the channel: what a receipt may have moved on from `sent`.
HANDED = ("sent", "delivered", "undelivered")
EVENTS = ("bounced", "complained", "unsubscribed", "opted_out", "replied")


@dataclass
class Report:
    audience: dict[str, int]
    states: dict[str, int]
    skipped_by_reason: dict[str, int]
    events: dict[str, int]
    rates: dict[str, float] = field(default_factory=dict)


def build(session: Session, campaign: Campaign) -> Report:
    states = dict.fromkeys(STATES, 0)
    for state, count in session.execute(
        select(OutboxMessage.state, func.count())
        .where(OutboxMessage.campaign_id == campaign.id)
        .group_by(OutboxMessage.state)
    ):
        states[state] = count
    skipped = {
        str(reason): count
        for reason, count in session.execute(
            select(OutboxMessage.reason, func.count())
            .where(OutboxMessage.campaign_id == campaign.id, OutboxMessage.state == "skipped")
            .group_by(OutboxMessage.reason)
        )
    }
    events = dict.fromkeys(EVENTS, 0)
    for kind, count in session.execute(
        select(DeliveryEvent.kind, func.count())
        .where(DeliveryEvent.campaign_id == campaign.id)
        .group_by(DeliveryEvent.kind)
    ):
        events[kind] = count
    sent = sum(states[state] for state in HANDED)
    rates = {f"{kind}_rate": (events[kind] / sent if sent else 0.0) for kind in EVENTS}
    return Report(dict(campaign.audience_counts), states, skipped, events, rates)
