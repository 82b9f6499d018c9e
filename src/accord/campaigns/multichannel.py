"""Which channel a person gets a several-channel campaign on (`preferred` mode), set-based.

Per person, the campaign's channels are taken in the person's own order for the brand
(`ChannelPreference`, rank 1 first; channels they did not rank follow, in the campaign's order).
The first channel the gate allows is chosen. A channel where the gate defers the message (quiet
hours) is not passed over lightly: the next possible channel is taken instead only when the
gate allows it and it is not interruptive (an e-mail now rather than a push in the morning,
but never an SMS in place of a deferred push); otherwise the message waits on the deferred
channel. Channels the gate refuses for any other reason (no contact point, not chosen,
suppressed, …) are passed over. One statement for the whole audience: the gate's reason per
channel (`gate_sql.gate_select`), ranked with a window function."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from sqlalchemy import Select, String, and_, case, func, literal, or_, select, union_all
from sqlalchemy.orm import Session

from accord.campaigns.audience import audience_of
from accord.campaigns.gate_rules import INTERRUPTIVE, Reason, Sending
from accord.campaigns.gate_sql import gate_select
from accord.campaigns.models import Campaign
from accord.relationships.models import ChannelPreference

UNRANKED = 1000  # after every channel the person ranked
SendingOf = Callable[[Session, Campaign, datetime, str], Sending]


def choose(
    session: Session,
    campaign: Campaign,
    at: datetime,
    channels: list[str],
    sending_of: SendingOf,
) -> Select[Any]:
    """SELECT person_id, channel: the one channel each person who can be reached gets."""
    audience = audience_of(campaign)
    deferring = Reason.quiet_hours.value
    parts = []
    for position, channel in enumerate(channels):
        gate = gate_select(session, sending_of(session, campaign, at, channel), audience)
        g = gate.subquery(f"g{position}")
        parts.append(
            select(
                g.c.person_id,
                literal(channel, String()).label("channel"),
                literal(position).label("position"),
                g.c.reason,
            ).where(or_(g.c.reason.is_(None), g.c.reason == deferring))
        )
    candidates = union_all(*parts).subquery("candidates")
    pref = ChannelPreference.__table__.c
    rank = func.coalesce(pref.rank, UNRANKED + candidates.c.position)
    ranked = (
        select(
            candidates.c.person_id,
            candidates.c.channel,
            candidates.c.reason,
            func.row_number()
            .over(partition_by=candidates.c.person_id, order_by=(rank, candidates.c.position))
            .label("n"),
        )
        .select_from(candidates)
        .outerjoin(
            ChannelPreference.__table__,
            and_(
                pref.person_id == candidates.c.person_id,
                pref.brand_id == campaign.brand_id,
                pref.channel == candidates.c.channel,
            ),
        )
        .subquery("ranked")
    )
    first, second = ranked.alias("first"), ranked.alias("second")
    fall_back = and_(
        first.c.reason == deferring,
        second.c.person_id.is_not(None),
        second.c.reason.is_(None),
        second.c.channel.not_in([c.value for c in INTERRUPTIVE]),
    )
    return (
        select(
            first.c.person_id,
            case((fall_back, second.c.channel), else_=first.c.channel).label("channel"),
        )
        .select_from(first)
        .outerjoin(second, and_(second.c.person_id == first.c.person_id, second.c.n == 2))
        .where(first.c.n == 1)
    )
