"""The console's saved segments: the brand's named audiences with how many people each holds
now, and deleting one (after a confirmation page, so it works without script)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from accord.brands import service as brands
from accord.brands.deps import BrandDep
from accord.campaigns import saved_segments
from accord.campaigns.models import SavedSegment
from accord.campaigns.page_forms import SEGMENT_OPTIONS
from accord.core.errors import NotFound
from accord.core.permissions import Permission, role_allows
from accord.core.web.deps import SessionDep
from accord.core.web.forms import read_form
from accord.core.web.templates import flash, render

# Included by the campaigns pages' router (its prefix, its CSRF check) before its
# `/{campaign_id}` routes, so that `segments` is never read as a campaign id.
router = APIRouter(prefix="/segments")

LIST = "campaigns/segments.html"
CONFIRM = "campaigns/segment_delete.html"
HOME = "/console/campaigns/segments"
SEGMENT_NAMES = dict(SEGMENT_OPTIONS)


def describe(segment: SavedSegment) -> str:
    """What the segment picks, in words."""
    audience = segment.audience
    if audience.get("kind") == "filter":
        facts = dict(audience.get("filter") or {})
        shown = ", ".join(f"{key} is {value}" for key, value in facts.items())
        return f"People whose shared facts say {shown}" if shown else "Everyone"
    key = str(audience.get("segment") or "")
    return f"RFM segment {SEGMENT_NAMES.get(key, key)}"


def basis(segment: SavedSegment) -> str:
    """What the size counts: people now (a filter), customers at the last fit (RFM)."""
    if segment.audience.get("kind") == "filter":
        return "people now"
    return "customers at the last fit"


@router.get("", response_class=HTMLResponse)
def listing(request: Request, caller: BrandDep, session: SessionDep) -> HTMLResponse:
    caller.require(Permission.read_brand)
    found = saved_segments.listing(session, caller.brand_id)
    sizes = saved_segments.sizes(session, found)
    rows = [
        {"segment": s, "what": describe(s), "size": sizes.get(s.id), "basis": basis(s)}
        for s in found
    ]
    context: dict[str, Any] = {
        "brand": brands.caller_brand(session, caller),
        "rows": rows,
        "can_write": role_allows(caller.role, Permission.write_campaigns),
    }
    return render(request, LIST, context)


def _found(session: SessionDep, caller: BrandDep, segment_id: str) -> SavedSegment:
    found = saved_segments.get(session, caller.brand_id, segment_id)
    if found is None:
        raise NotFound("No such saved segment.")
    return found


@router.get("/{segment_id}/delete", response_class=HTMLResponse)
def confirm_delete(
    segment_id: str, request: Request, caller: BrandDep, session: SessionDep
) -> HTMLResponse:
    caller.require(Permission.write_campaigns)
    segment = _found(session, caller, segment_id)
    context = {
        "brand": brands.caller_brand(session, caller),
        "segment": segment,
        "what": describe(segment),
        "size": saved_segments.sizes(session, [segment]).get(segment.id),
        "basis": basis(segment),
    }
    return render(request, CONFIRM, context)


@router.post("/{segment_id}/delete")
async def delete(
    segment_id: str, request: Request, caller: BrandDep, session: SessionDep
) -> Response:
    """Deletes only when the confirmation page's button sent `confirm=yes`; otherwise it asks."""
    caller.require(Permission.write_campaigns)
    values = await read_form(request, ["confirm"])
    if values["confirm"] != "yes":
        _found(session, caller, segment_id)
        return RedirectResponse(f"{HOME}/{segment_id}/delete", status_code=303)
    name = saved_segments.remove(session, caller.brand_id, segment_id)
    flash(
        request,
        f"The segment '{name}' is deleted. Campaigns that used it keep their audience.",
        "success",
    )
    return RedirectResponse(HOME, status_code=303)
