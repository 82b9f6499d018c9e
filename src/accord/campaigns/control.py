"""Operating a campaign in flight: pause and resume it.

Pausing holds every message not yet claimed by a worker (state `paused`, which no worker
claims); the messages a worker holds already (at most one batch) still go. Resuming puts them
back as they were: queued, or deferred until their time (a deferral keeps its reason).
"""

from __future__ import annotations

from sqlalchemy import case, update
from sqlalchemy.orm import Session

from accord.campaigns.models import Campaign
from accord.core.errors import Conflict
from accord.outbox.models import OutboxMessage

HELD = "paused"


def pause(session: Session, campaign: Campaign) -> Campaign:
    """Hold the campaign: nothing more goes out until it is resumed. Again: no change."""
    if campaign.state == HELD:
        return campaign
    if campaign.state == "resolving":
        raise Conflict(
            "The campaign's audience is being resolved right now; pause it in a moment.",
            field="state",
        )
    if campaign.state not in ("scheduled", "sending"):
        raise Conflict(f"A campaign that is {campaign.state} cannot be paused.", field="state")
    campaign.state = HELD
    session.execute(
        update(OutboxMessage)
        .where(
            OutboxMessage.campaign_id == campaign.id,
            OutboxMessage.state.in_(("queued", "deferred")),
        )
        .values(state=HELD)
    )
    session.flush()
    return campaign


def resume(session: Session, campaign: Campaign) -> Campaign:
    """Let a paused campaign go on where it stopped. Not paused: no change."""
    if campaign.state != HELD:
        return campaign
    campaign.state = "sending" if campaign.started_at is not None else "scheduled"
    session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.campaign_id == campaign.id, OutboxMessage.state == HELD)
        .values(
            state=case((OutboxMessage.reason.is_(None), "queued"), else_="deferred"),
        )
    )
    session.flush()
    return campaign
