"""Saved segments: a brand's named audiences (a filter on shared facts or an RFM segment),
picked in the composer. Every query filters by the brand."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from accord.campaigns.models import SavedSegment
from accord.core.errors import Conflict

SAVABLE = ("filter", "segment")


def listing(session: Session, brand_id: uuid.UUID) -> list[SavedSegment]:
    return list(
        session.scalars(
            select(SavedSegment)
            .where(SavedSegment.brand_id == brand_id)
            .order_by(SavedSegment.name)
        )
    )


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
