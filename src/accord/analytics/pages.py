"""The brand console's Analytics: tabs with their own URLs (overview, equity, CLV, RFM and
segments, channel mix, campaign rates, profitability, fits) and the form that runs a fit.

Every tab but campaign rates reads what the latest fit stored (`snapshot`), so a tab opens in
milliseconds whatever the size of the purchase history; the rates are read live. Aggregates
only, over 5 customers or more.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.orm import Session

from accord.analytics import pages_fits, pages_view, snapshot
from accord.analytics import service as analytics
from accord.brands import service as brands
from accord.brands.deps import BrandDep
from accord.core.permissions import Permission, role_allows
from accord.core.principals import BrandCaller
from accord.core.web.csrf import csrf_protect
from accord.core.web.deps import SessionDep
from accord.core.web.forms import handle_form, show_form
from accord.core.web.templates import flash, render

router = APIRouter(
    prefix="/console/analytics",
    tags=["console"],
    include_in_schema=False,
    dependencies=[Depends(csrf_protect)],
)

BASE = "/console/analytics"
# (path under BASE, tab name): the order of the tab bar.
TABS = [
    ("", "Overview"),
    ("/equity", "Equity"),
    ("/clv", "Lifetime value"),
    ("/rfm", "RFM and segments"),
    ("/channels", "Channel mix"),
    ("/rates", "Campaign rates"),
    ("/profitability", "Profitability"),
    ("/fits", "Fits"),
]


def _common(
    session: Session, caller: BrandCaller, tab: str, fit_id: uuid.UUID | None = None
) -> dict[str, Any]:
    """What every tab needs: the brand, the tabs, the latest fit and what it stored."""
    brand_id = caller.brand_id
    latest_id = analytics.latest_fit_id(session, brand_id)
    chosen = fit_id or latest_id
    snap = snapshot.load(session, brand_id, chosen) if chosen is not None else None
    if chosen is not None and snap is None:
        # A fit stored before its figures were: compute them once, as the fit would have.
        snapshot.store(session, brand_id, chosen)
        snap = snapshot.load(session, brand_id, chosen)
    return {
        "brand": brands.get_brand(session, brand_id),
        "can_fit": role_allows(caller.role, Permission.write_analytics),
        "tabs": [(BASE + path, name) for path, name in TABS],
        "current_tab": BASE + tab,
        "snap": snap,
        "has_fit": latest_id is not None,
    }


def _tab(
    request: Request,
    caller: BrandCaller,
    session: Session,
    tab: str,
    template: str,
    build: Callable[[dict[str, Any]], dict[str, Any]] = lambda context: {},
) -> HTMLResponse:
    caller.require(Permission.read_analytics)
    context = _common(session, caller, tab)
    context.update(build(context))
    return render(request, template, context)


@router.get("", response_class=HTMLResponse)
def overview(request: Request, caller: BrandDep, session: SessionDep) -> HTMLResponse:
    def build(context: dict[str, Any]) -> dict[str, Any]:
        snap = context["snap"]
        # The tiles' figures only: each tab draws its own charts and tables.
        return {
            "equity": pages_fits.equity_tiles(session, caller.brand_id),
            "rfm": pages_view.of_snapshot(snap, pages_view.rfm_tile) if snap else None,
            "channels": pages_view.of_snapshot(snap, pages_view.channel_tile) if snap else None,
            "profit": pages_view.of_snapshot(snap, pages_view.profit_tile) if snap else None,
            "holdout": pages_view.of_snapshot(snap, pages_fits.holdout_section) if snap else None,
            "rates": pages_view.rates_tile(session, caller.brand_id),
        }

    return _tab(request, caller, session, "", "analytics/overview.html", build)


@router.get("/equity", response_class=HTMLResponse)
def equity(request: Request, caller: BrandDep, session: SessionDep) -> HTMLResponse:
    def build(context: dict[str, Any]) -> dict[str, Any]:
        return {"equity": pages_fits.equity_section(session, caller.brand_id)}

    return _tab(request, caller, session, "/equity", "analytics/equity.html", build)


@router.get("/clv", response_class=HTMLResponse)
def clv(request: Request, caller: BrandDep, session: SessionDep) -> HTMLResponse:
    def build(context: dict[str, Any]) -> dict[str, Any]:
        return {"equity": pages_fits.clv_section(session, caller.brand_id)}

    return _tab(request, caller, session, "/clv", "analytics/clv.html", build)


@router.get("/rfm", response_class=HTMLResponse)
def rfm(request: Request, caller: BrandDep, session: SessionDep) -> HTMLResponse:
    def build(context: dict[str, Any]) -> dict[str, Any]:
        snap = context["snap"]
        return {"rfm": pages_view.of_snapshot(snap, pages_view.rfm_section) if snap else None}

    return _tab(request, caller, session, "/rfm", "analytics/rfm.html", build)


@router.get("/channels", response_class=HTMLResponse)
def channels(request: Request, caller: BrandDep, session: SessionDep) -> HTMLResponse:
    def build(context: dict[str, Any]) -> dict[str, Any]:
        snap = context["snap"]
        shown = pages_view.of_snapshot(snap, pages_view.channel_section) if snap else None
        return {"channels": shown}

    return _tab(request, caller, session, "/channels", "analytics/channels.html", build)


@router.get("/rates", response_class=HTMLResponse)
def campaign_rates(request: Request, caller: BrandDep, session: SessionDep) -> HTMLResponse:
    def build(context: dict[str, Any]) -> dict[str, Any]:
        return {"rates": pages_view.rates_section(session, caller.brand_id)}

    return _tab(request, caller, session, "/rates", "analytics/rates.html", build)


@router.get("/profitability", response_class=HTMLResponse)
def profit(request: Request, caller: BrandDep, session: SessionDep) -> HTMLResponse:
    def build(context: dict[str, Any]) -> dict[str, Any]:
        snap = context["snap"]
        return {"profit": pages_view.of_snapshot(snap, pages_view.profit_section) if snap else None}

    return _tab(request, caller, session, "/profitability", "analytics/profitability.html", build)


def _fits_context(
    session: Session, caller: BrandCaller, fit_id: uuid.UUID | None = None
) -> dict[str, Any]:
    context = _common(session, caller, "/fits", fit_id)
    latest = analytics.equity(session, caller.brand_id)
    values = pages_fits.blank_form()
    if latest is not None:  # start from the latest fit's cut-off
        values["cutoff"] = latest.cutoff.isoformat()
    shown = fit_id or (latest.fit_id if latest else None)
    snap = context["snap"]
    return {
        **context,
        "models": pages_fits.MODELS,
        "model_names": pages_fits.MODEL_NAMES,
        "fits": pages_fits.fit_rows(session, caller.brand_id),
        "shown_fit": shown,
        "holdout": pages_view.of_snapshot(snap, pages_fits.holdout_section) if snap else None,
        "values": values,
    }


@router.get("/fits", response_class=HTMLResponse)
def fits(
    request: Request, caller: BrandDep, session: SessionDep, fit: uuid.UUID | None = None
) -> HTMLResponse:
    caller.require(Permission.read_analytics)
    if fit is not None:
        analytics.get_fit(session, caller.brand_id, fit)  # another brand's fit is a 404
    context = _fits_context(session, caller, fit)
    return show_form(request, "analytics/fits.html", context.pop("values"), **context)


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
        return RedirectResponse(BASE, status_code=303)

    return await handle_form(
        request,
        session,
        pages_fits.read_fit_form,
        act,
        template="analytics/fits.html",
        fields=pages_fits.FIT_FIELDS,
        context=lambda: _fits_context(session, caller),
    )
