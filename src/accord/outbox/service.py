"""The outbox's one door for other domains: erasure detaches a person's delivery rows."""

from __future__ import annotations

import uuid

from sqlalchemy import String, cast, literal, null, update
from sqlalchemy.orm import Session

from accord.outbox.models import DeliveryEvent, OutboxMessage

# Not handed to any channel yet: an erasure stops them (skipped, reason `erased`).
OPEN_STATES = ("queued", "deferred", "sending")
ERASED = "erased"


def detach_person(
    session: Session, person_id: uuid.UUID, brand_id: uuid.UUID | None = None
) -> None:
    """Keep the person's delivery rows (of one brand, or every brand) for the counts, with
    nothing left that leads back to them: no person id, no address, no content, no error text,
    no provider reference, an idempotency key of the row's own. Rows not handed over yet are
    skipped (`erased`), so the campaign's report still adds up to its audience. Run with the
    person's ledger head written first (the erasure's ledger event), like every decision: a
    worker holding the person's rows finishes its hand-over before this runs."""
    o = OutboxMessage
    mine = [o.person_id == person_id]
    if brand_id is not None:
        mine.append(o.brand_id == brand_id)
    session.execute(
        update(o)
        .where(*mine, o.state.in_(OPEN_STATES))
        .values(state="skipped", reason=ERASED, lease_owner=None, lease_expires_at=None)
    )
    session.execute(
        update(o)
        .where(*mine)
        .values(
            person_id=None,
            to_address=None,
            payload=null(),
            last_error=None,
            provider_ref=None,
            idempotency_key=literal("erased:") + cast(o.id, String),
        )
    )
    events = [DeliveryEvent.person_id == person_id]
    if brand_id is not None:
        events.append(DeliveryEvent.brand_id == brand_id)
    session.execute(update(DeliveryEvent).where(*events).values(person_id=None, detail=None))
