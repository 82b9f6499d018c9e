"""The brand console's Analytics: one overview (equity, CLV, holdout, RFM, channel mix, campaign
rates, profitability) and the form that runs a fit. Aggregates only, over 5 customers or more.
"""

from __future__ import annotations

import uuid
from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.orm import Session

from accord.analytics import pages_fits, pages_view
from accord.brands import service as brands
from accord.brands.deps import BrandDep
from accord.core.permissions import Permission, role_allows
from accord.core.principals import BrandCaller
from accord.core.web.csrf import csrf_protect
from accord.core.web.deps import SessionDep
from accord.core.web.forms import handle_form, show_form
from accord.core.web.templates import flash

router = APIRouter(
    prefix="/console/analytics",
    tags=["console"],
    include_in_schema=False,
    dependencies=[Depends(csrf_protect)],
)

OVERVIEW = "analytics/overview.html"


def _overview_context(
    session: Session, caller: BrandCaller, fit_id: uuid.UUID | None = None
) -> dict[str, Any]:
    brand_id = caller.brand_id
    equity = pages_fits.equity_section(session, brand_id)
    values = pages_fits.blank_form()
    if equity["latest"] is not None:  # start from the latest fit's cut-off
        values["cutoff"] = equity["latest"].cutoff.isoformat()
    return {
        "brand": brands.get_brand(session, brand_id),
        "can_fit": role_allows(caller.role, Permission.write_analytics),
        "models": pages_fits.MODELS,
        "values": values,
        "equity": equity,
        "holdout": pages_fits.holdout_section(session, brand_id, fit_id),
        "rfm": pages_view.rfm_section(session, brand_id, None),
        "channels": pages_view.channel_section(session, brand_id),
        "rates": pages_view.rates_section(session, brand_id),
        "profit": pages_view.profit_section(session, brand_id),
    }


@router.get("", response_class=HTMLResponse)
def overview(
    request: Request, caller: BrandDep, session: SessionDep, fit: uuid.UUID | None = None
) -> HTMLResponse:
    caller.require(Permission.read_analytics)
    context = _overview_context(session, caller, fit)
    return show_form(request, OVERVIEW, context.pop("values"), **context)


@router.post("/fits", response_class=HTMLResponse)
async def run_fit(request: Request, caller: BrandDep, session: SessionDep) -> Response:
    """Run a fit from the form; a fit that cannot run says why beside the field concerned."""
    caller.require(Permission.write_analytics)

    def act(data: pages_fits.FitForm) -> Response:
        result = pages_fits.run_fit(session, caller.brand_id, data)
        name = pages_fits.MODEL_NAMES.get(result.model, result.model)
        flash(
            request,
            f"The {name} fit at {result.cutoff.isoformat()} is stored: {result.customers:,} "
            f"customers, {result.scored:,} individual scores for people who allow profiling.",
            "success",
        )
        return RedirectResponse("/console/analytics#equity-h", status_code=303)

    return await handle_form(
        request,
        session,
        pages_fits.read_fit_form,
        act,
        template=OVERVIEW,
        fields=pages_fits.FIT_FIELDS,
        context=lambda: _overview_context(session, caller),
    )
