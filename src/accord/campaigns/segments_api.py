"""Brand API: the saved segments the composer offers (list with sizes, delete), as the console's
saved segments page shows them."""

from __future__ import annotations

import uuid

from fastapi import APIRouter, Response, status

from accord.brands.deps import BrandDep
from accord.campaigns import saved_segments
from accord.campaigns.schemas import SavedSegmentOut
from accord.core.pagination import Page
from accord.core.permissions import Permission
from accord.core.web.deps import SessionDep

router = APIRouter()


@router.get("/segments", response_model=Page[SavedSegmentOut])
def listing(caller: BrandDep, session: SessionDep) -> Page[SavedSegmentOut]:
    """Every saved segment of the brand, by name (a brand has few: one page, no cursor)."""
    caller.require(Permission.read_brand)
    found = saved_segments.listing(session, caller.brand_id)
    sizes = saved_segments.sizes(session, found)
    items = [
        SavedSegmentOut(
            id=s.id,
            name=s.name,
            audience=s.audience,
            size=sizes.get(s.id),
            size_as_of="now" if s.audience.get("kind") == "filter" else "last_fit",
            created_at=s.created_at,
        )
        for s in found
    ]
    return Page(items=items, next_cursor=None)


@router.delete("/segments/{segment_id}", status_code=status.HTTP_204_NO_CONTENT)
def delete(segment_id: uuid.UUID, caller: BrandDep, session: SessionDep) -> Response:
    """Delete a saved segment. Campaigns that picked it keep their audience."""
    caller.require(Permission.write_campaigns)
    saved_segments.remove(session, caller.brand_id, str(segment_id))
    return Response(status_code=status.HTTP_204_NO_CONTENT)
