"""Saved segments: a brand's named audiences (a filter on shared facts or an RFM segment),
picked in the composer. Every query filters by the brand."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import Uuid, bindparam, delete, func, literal, select, union_all
from sqlalchemy.orm import Session

from accord.analytics import service as analytics
from accord.campaigns.audience import audience_select
from accord.campaigns.models import Campaign, SavedSegment
from accord.core.direct import Direct
from accord.core.errors import Conflict, NotFound

SAVABLE = ("filter", "segment")


def listing(session: Session, brand_id: uuid.UUID) -> list[SavedSegment]:
    return list(
        session.scalars(
            select(SavedSegment)
            .where(SavedSegment.brand_id == brand_id)
            .order_by(SavedSegment.name)
        )
    )


# The composer's choice of segments (every campaign page shows it): ids and names only, built
# once and run on the cursor (an ORM read of the rows cost several times more).
_NAMES = Direct(
    select(SavedSegment.id, SavedSegment.name)
    .where(SavedSegment.brand_id == bindparam("brand", type_=Uuid()))
    .order_by(SavedSegment.name)
)


def names(session: Session, brand_id: uuid.UUID) -> list[tuple[uuid.UUID, str]]:
    """(id, name) of the brand's segments, by name."""
    return [(row.id, row.name) for row in _NAMES.all(session, brand=brand_id)]


def get(session: Session, brand_id: uuid.UUID, segment_id: str) -> SavedSegment | None:
    """The brand's segment with this id, or None (another brand's, or not an id at all)."""
    try:
        wanted = uuid.UUID(segment_id.strip())
    except ValueError:
        return None
    return session.scalar(
        select(SavedSegment).where(SavedSegment.brand_id == brand_id, SavedSegment.id == wanted)
    )


def save(
    session: Session, brand_id: uuid.UUID, name: str, audience: dict[str, Any]
) -> SavedSegment:
    taken = session.scalar(
        select(SavedSegment.id).where(SavedSegment.brand_id == brand_id, SavedSegment.name == name)
    )
    if taken is not None:
        raise Conflict(
            f"You already have a segment named '{name}': choose another name.",
            field="save_segment_as",
        )
    row = SavedSegment(brand_id=brand_id, name=name, audience=audience)
    session.add(row)
    session.flush()
    return row


def as_form_values(segment: SavedSegment) -> dict[str, str]:
    """The composer's fields that state the segment's audience."""
    audience = segment.audience
    if audience.get("kind") == "filter":
        text = "\n".join(f"{k}={v}" for k, v in dict(audience.get("filter") or {}).items())
        return {"audience_kind": "filter", "audience_filter": text}
    return {"audience_kind": "segment", "audience_segment": str(audience.get("segment") or "")}


def sizes(session: Session, segments: list[SavedSegment]) -> dict[uuid.UUID, int | None]:
    """How many each segment holds, before the gate checks each person. A filter: the people
    whose shared facts match now, counted in one statement for the list (a COUNT per segment
    joined by UNION ALL). An RFM segment: its customers at the latest fit, as the fit stored
    them (None when too few to show, or before a fit): RFM computed live would take a pass
    over every purchase on each view."""
    found: dict[uuid.UUID, int | None] = {}
    counts = []
    for segment in segments:
        if segment.audience.get("kind") != "filter":
            continue
        # The audience a campaign picking this segment would have (never stored).
        as_campaign = Campaign(
            brand_id=segment.brand_id, audience_kind="filter", audience=segment.audience
        )
        people = audience_select(as_campaign).subquery()
        counts.append(
            select(literal(str(segment.id)).label("id"), func.count(people.c.person_id.distinct()))
        )
    if counts:
        statement = union_all(*counts) if len(counts) > 1 else counts[0]
        found.update((uuid.UUID(str(i)), int(n)) for i, n in session.execute(statement))
    rfm = [s for s in segments if s.audience.get("kind") == "segment"]
    if rfm:
        at_fit = analytics.segment_sizes_at_fit(session, rfm[0].brand_id)
        found.update((s.id, at_fit.get(str(s.audience.get("segment")))) for s in rfm)
    return found


def remove(session: Session, brand_id: uuid.UUID, segment_id: str) -> str:
    """Delete the brand's segment; its name, for the message. Campaigns that picked it keep
    their audience: a campaign stores the audience itself, not the segment."""
    found = get(session, brand_id, segment_id)
    if found is None:
        raise NotFound("No such saved segment.")
    name = found.name
    session.execute(
        delete(SavedSegment).where(SavedSegment.brand_id == brand_id, SavedSegment.id == found.id)
    )
    session.expunge(found)
    session.flush()
    return name
