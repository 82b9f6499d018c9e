"""A campaign's report: audience by reason, delivery states, what people did, and rates."""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import Uuid, and_, bindparam, case, distinct, func, literal, select
from sqlalchemy.orm import Session

from accord.campaigns.models import Campaign
from accord.core.direct import Direct
from accord.outbox.models import DeliveryEvent, OutboxMessage
from accord.relationships.models import PurposeGrant
from accord.relationships.vocabulary import GrantStatus, Purpose
from accord.terms import service as terms

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
# Gave up on: refused by the provider for good, or out of attempts.
NOT_HANDED = ("failed", "dead")
# Opened and clicked: counted only for people who allowed tracking (delivery.tracking).
EVENTS = ("bounced", "complained", "unsubscribed", "opted_out", "replied", "opened", "clicked")


@dataclass(frozen=True)
class ChannelDelivery:
    """One channel's delivery: of the messages Accord tried to hand over (handed or given up
    on), how many a receipt says were delivered (SMS carriers, push services; e-mail has no
    receipts, its bounces are events)."""

    handed: int
    delivered: int
    undelivered: int
    failed: int
    awaiting_receipt: int
    delivery_rate: float
    handover_rate: float


def channel_delivery(states: dict[str, int]) -> ChannelDelivery:
    handed = sum(states.get(state, 0) for state in HANDED)
    failed = sum(states.get(state, 0) for state in NOT_HANDED)
    tried = handed + failed
    delivered = states.get("delivered", 0)
    return ChannelDelivery(
        handed=handed,
        delivered=delivered,
        undelivered=states.get("undelivered", 0),
        failed=failed,
        awaiting_receipt=states.get("sent", 0),
        delivery_rate=delivered / tried if tried else 0.0,
        handover_rate=handed / tried if tried else 0.0,
    )


@dataclass
class Report:
    audience: dict[str, int]
    states: dict[str, int]
    skipped_by_reason: dict[str, int]
    events: dict[str, int]
    rates: dict[str, float] = field(default_factory=dict)
    # Per channel (a column each in the console): its messages by state.
    by_channel: dict[str, dict[str, int]] = field(default_factory=dict)
    # Per channel: delivery rates from the receipts.
    delivery: dict[str, ChannelDelivery] = field(default_factory=dict)
    # Of the messages handed over, those whose person has erased their data since: counted in
    # `states` like any other, with nothing left that leads back to the person.
    erased_after_sending: int = 0


# A report's reads, built once with the campaign bound and run on the session's cursor
# (`core.direct`): the report page runs them on every view, and building them (the terms'
# conditions of `untracked` most) cost more than running them.
_CAMPAIGN = bindparam("campaign", type_=Uuid())
_O, _E = OutboxMessage.__table__.c, DeliveryEvent.__table__.c
_IS_HANDED = _O.state.in_([literal(s) for s in HANDED])
# Its messages per channel and state (their sum per state is the report's states).
_BY_CHANNEL = Direct(
    select(_O.channel, _O.state, func.count())
    .where(_O.campaign_id == _CAMPAIGN)
    .group_by(_O.channel, _O.state)
)
_SKIPPED = Direct(
    select(_O.reason, func.count())
    .where(_O.campaign_id == _CAMPAIGN, _O.state == "skipped")
    .group_by(_O.reason)
)
_EVENTS = Direct(select(_E.kind, func.count()).where(_E.campaign_id == _CAMPAIGN).group_by(_E.kind))
_ERASED = Direct(
    select(func.count()).where(_O.campaign_id == _CAMPAIGN, _O.person_id.is_(None), _IS_HANDED)
)


def build(session: Session, campaign: Campaign) -> Report:
    by_channel: dict[str, dict[str, int]] = {}
    states = dict.fromkeys(STATES, 0)
    for channel, state, count in _BY_CHANNEL.all(session, campaign=campaign.id):
        by_channel.setdefault(channel, dict.fromkeys(STATES, 0))[state] = count
        states[state] = states.get(state, 0) + count
    skipped = {str(reason): count for reason, count in _SKIPPED.all(session, campaign=campaign.id)}
    events = dict.fromkeys(EVENTS, 0)
    for kind, count in _EVENTS.all(session, campaign=campaign.id):
        events[kind] = count
    sent = sum(states[state] for state in HANDED)
    rates = {f"{kind}_rate": (events[kind] / sent if sent else 0.0) for kind in EVENTS}
    erased = _ERASED.first(session, campaign=campaign.id)[0]
    delivery = {channel: channel_delivery(counts) for channel, counts in by_channel.items()}
    return Report(
        dict(campaign.audience_counts),
        states,
        skipped,
        events,
        rates,
        by_channel,
        delivery,
        erased_after_sending=int(erased or 0),
    )


def _untracked() -> Direct:
    o = _O
    g = PurposeGrant.__table__.c
    granted = and_(
        g.person_id == o.person_id,
        g.brand_id == o.brand_id,
        g.purpose == Purpose.profiling.value,
        g.status == GrantStatus.granted.value,
    )
    forbidden = terms.holds(terms.Effect.no_tracking, o.person_id, o.brand_id)
    return Direct(
        select(
            func.count(distinct(o.person_id)),
            func.count(distinct(case((g.person_id.is_(None), o.person_id)))),
            func.count(distinct(case((and_(g.person_id.is_not(None), forbidden), o.person_id)))),
        )
        .select_from(OutboxMessage.__table__)
        .outerjoin(PurposeGrant.__table__, granted)
        .where(o.campaign_id == _CAMPAIGN, _IS_HANDED)
    )


_UNTRACKED = _untracked()


def untracked(session: Session, campaign: Campaign) -> dict[str, int]:
    """Of the people the campaign reached, how many were not tracked, and why: opens and
    clicks are tracked only for people who granted profiling and whose terms do not forbid
    tracking (the rule delivery.tracking applies), and only in e-mail."""
    row = _UNTRACKED.first(session, campaign=campaign.id)
    reached, no_profiling, terms_forbid = (int(n or 0) for n in row)
    return {
        "reached": reached,
        "no_profiling": no_profiling,
        "terms": terms_forbid,
        "tracked": reached - no_profiling - terms_forbid if campaign.channel == "email" else 0,
    }
