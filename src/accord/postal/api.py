"""Postal mailings through the API: export (once), and the file (the same every time)."""

from __future__ import annotations

import uuid
from datetime import datetime

from fastapi import APIRouter, Response
from pydantic import BaseModel

from accord.brands.deps import BrandDep
from accord.core.errors import NotFound
from accord.core.permissions import Permission
from accord.core.web.deps import SessionDep
from accord.postal import service

router = APIRouter(tags=["postal mailings"])


class ExportOut(BaseModel):
    id: uuid.UUID
    campaign_id: uuid.UUID
    created_at: datetime
    exported: int
    left_out: dict[str, int]
    sha256: str


def _out(export: object) -> ExportOut:
    return ExportOut.model_validate(export, from_attributes=True)


@router.post("/campaigns/{campaign_id}/postal-export", response_model=ExportOut)
def export(campaign_id: uuid.UUID, caller: BrandDep, session: SessionDep) -> ExportOut:
    """Run a postal mailing through the gate and keep its addresses (once: asking again returns
    the same export). People without a postal address are counted in `left_out`
    (`no_contact_point`), not an error."""
    caller.require(Permission.send_campaigns)
    return _out(service.export(session, caller.brand_id, campaign_id, caller.member_id))


@router.get(
    "/campaigns/{campaign_id}/postal-export.csv",
    responses={200: {"content": {"text/csv": {}}}},
)
def export_file(campaign_id: uuid.UUID, caller: BrandDep, session: SessionDep) -> Response:
    """The mailing's addresses as CSV (name, line1..line5, country): the same file every time."""
    caller.require(Permission.send_campaigns)
    found = service.find(session, caller.brand_id, campaign_id)
    if found is None:
        raise NotFound("This mailing has not been exported yet.", field="campaign_id")
    body = service.to_csv(service.rows_of(session, found))
    return Response(
        body,
        media_type="text/csv; charset=utf-8",
        headers={
            "Content-Disposition": f'attachment; filename="mailing-{campaign_id}.csv"',
            "ETag": f'"{found.sha256}"',
        },
    )
