"""What the analytics overview shows about model fits: customer equity (now and per stored fit),
the CLV distribution by band, holdout tracking, and the form that runs a fit.

Figures come from `service` (fits, equity, holdout), which withholds any segment behind which
fewer than 5 customers stand.
"""

from __future__ import annotations

import uuid
from datetime import date
from typing import Annotated, Any, Literal, Protocol

from pydantic import BaseModel, ConfigDict, Field, field_validator
from sqlalchemy import Uuid, bindparam, literal, select
from sqlalchemy.orm import Session

from accord.analytics import charts, predict, service
from accord.analytics.charts import Series
from accord.analytics.models import ModelFit, SegmentAggregate
from accord.analytics.pages_view import FEWER, Table, in_currency, money, percent
from accord.analytics.segments import CLV_BAND_LABELS
from accord.analytics.snapshot import Snapshot
from accord.core.direct import Direct
from accord.core.errors import InvalidInput
from accord.core.web.forms import parse_form

MODELS = [
    ("bgnbd", "BG/NBD (Fader, Hardie and Lee 2005)"),
    ("paretonbd", "Pareto/NBD (Schmittlein, Morrison and Colombo 1987)"),
]
MODEL_NAMES = {"bgnbd": "BG/NBD", "paretonbd": "Pareto/NBD"}
FIT_FIELDS = [
    "cutoff",
    "calibration_start",
    "model",
    "spend",
    "horizon_months",
    "margin_percent",
    "discount_percent",
]
# Service error fields -> the form field the message sits beside.
FORM_FIELD = {
    "discount_monthly": "discount_percent",
    "margin": "margin_percent",
    "currency": "form",
}
DATE_HINT = "Enter a date as YYYY-MM-DD, for example 1997-09-30."


class FitForm(BaseModel):
    model_config = ConfigDict(extra="ignore")

    cutoff: date
    calibration_start: date | None = None
    model: Literal["bgnbd", "paretonbd"] = "bgnbd"
    spend: bool = False
    horizon_months: Annotated[int, Field(ge=1, le=120)] = 12
    margin_percent: Annotated[float, Field(gt=0, le=100)] = 30
    discount_percent: Annotated[float, Field(ge=0, lt=100)] = 1

    @field_validator("calibration_start", mode="before")
    @classmethod
    def _blank(cls, value: Any) -> Any:
        return None if value == "" else value


def blank_form() -> dict[str, str]:
    return {
        "cutoff": "",
        "calibration_start": "",
        "model": "bgnbd",
        "spend": "on",
        "horizon_months": "12",
        "margin_percent": "30",
        "discount_percent": "1",
    }


def read_fit_form(values: dict[str, str]) -> FitForm | dict[str, str]:
    """The typed form, or the errors keyed by the field they belong beside."""
    data = parse_form(FitForm, {**values, "spend": bool(values.get("spend"))})
    if isinstance(data, dict):
        for name in ("cutoff", "calibration_start"):
            if name in data:
                data[name] = DATE_HINT if values.get(name) else "Enter the cut-off date."
        if "model" in data:
            data["model"] = "Choose BG/NBD or Pareto/NBD."
    return data


def run_fit(session: Session, brand_id: uuid.UUID, form: FitForm) -> service.FitResult:
    """Run the fit; InvalidInput (too few customers, no convergence, ...) names a form field."""
    if form.calibration_start is not None and form.calibration_start > form.cutoff:
        raise InvalidInput(
            "The calibration start must be on or before the cut-off.", field="calibration_start"
        )
    try:
        return service.fit(
            session,
            brand_id,
            calibration_start=form.calibration_start,
            cutoff=form.cutoff,
            model=form.model,
            spend=form.spend,
            discount_monthly=form.discount_percent / 100,
            margin=form.margin_percent / 100,
            horizon_months=form.horizon_months,
        )
    except InvalidInput as exc:
        field = FORM_FIELD.get(exc.field or "", exc.field or "form")
        raise InvalidInput(exc.detail, field=field if field in FIT_FIELDS else "form") from None


def _in(currency: str | None) -> str:
    return f", in {currency}" if currency else ""


class FitTerms(Protocol):
    """What a fit assumed: `FitResult` and `EquitySummary` both say."""

    @property
    def margin(self) -> float: ...
    @property
    def horizon_months(self) -> int: ...
    @property
    def discount_monthly(self) -> float: ...


def terms_text(latest: FitTerms) -> str:
    """What the equity figure assumes, said next to it."""
    return (
        f"at a {latest.margin * 100:.0f}% margin on spend, over the next "
        f"{latest.horizon_months} months, discounted {latest.discount_monthly * 100:g}% a month"
    )


# Every purchase fit's cut-off and total equity (the Equity tab's chart and table): the
# columns shown, built once and run on the session's cursor (`core.direct`) on every view.
_EQUITY_HISTORY = Direct(
    select(
        ModelFit.cutoff,
        ModelFit.model,
        ModelFit.fitted_at,
        ModelFit.options,
        SegmentAggregate.customers,
        SegmentAggregate.equity,
        SegmentAggregate.consented_equity,
        SegmentAggregate.lost_equity,
    )
    .join(SegmentAggregate, SegmentAggregate.fit_id == ModelFit.id)
    .where(
        ModelFit.brand_id == bindparam("brand", type_=Uuid()),
        ModelFit.model.in_([literal(m) for m in predict.PURCHASE_MODELS]),
        SegmentAggregate.segment == literal(predict.ALL),
    )
    .order_by(ModelFit.cutoff, ModelFit.fitted_at)
)


def equity_section(session: Session, brand_id: uuid.UUID) -> dict[str, Any]:
    latest = service.equity_summary(session, brand_id)
    # Each row holds the fit's columns and its total's: read as (fit, aggregate) below.
    history = [(row, row) for row in _EQUITY_HISTORY.all(session, brand=brand_id)]
    currency = latest.currency if latest is not None else None
    labels = [fit.cutoff.date().isoformat() for fit, _ in history]
    # One fit is one point: the page says so instead of drawing a line that is not one.
    over_time = (
        charts.line_chart(
            "equity-chart",
            "Customer equity per stored fit, by cut-off date" + _in(currency),
            labels,
            [
                Series("All customers", [agg.equity for _, agg in history]),
                Series(
                    "Customers who allow profiling", [agg.consented_equity for _, agg in history]
                ),
            ],
        )
        if len(history) > 1
        else None
    )
    table = Table(
        "equity-table",
        "Customer equity per stored fit: the data",
        [
            "Cut-off",
            "Model",
            "Fitted",
            "Customers",
            in_currency("Equity", currency),
            in_currency("Of people allowing profiling", currency),
            in_currency("Lost", currency),
            "Margin",
        ],
        [
            [
                labels[i],
                MODEL_NAMES.get(fit.model, fit.model),
                fit.fitted_at.strftime("%Y-%m-%d %H:%M"),
                f"{agg.customers:,}",
                money(agg.equity),
                money(agg.consented_equity),
                FEWER
                if predict.ALL in fit.options.get("lost_withheld", [])
                else money(agg.lost_equity),
                f"{float(fit.options.get('margin', 0.3)) * 100:.0f}%",
            ]
            for i, (fit, agg) in enumerate(history)
        ],
    )
    context: dict[str, Any] = {
        "latest": latest,
        "chart": over_time,
        "table": table,
        "fits": len(history),
    }
    if latest is not None:
        total = latest.total
        context["terms"] = terms_text(latest)
        context["figures"] = {
            "total": money(total.equity, currency) if total else FEWER,
            "consented": money(total.consented_equity, currency) if total else FEWER,
            "consented_customers": f"{total.consented_customers:,}" if total else FEWER,
            "lost": money(total.lost_equity, currency) if total else FEWER,
            "customers": f"{latest.customers:,}",
            "model": MODEL_NAMES.get(latest.model, latest.model),
        }
    return context


def clv_section(session: Session, brand_id: uuid.UUID) -> dict[str, Any]:
    """The CLV tab: the latest fit's bands and terms (not the history of fits that the Equity
    tab draws)."""
    latest = service.equity(session, brand_id)
    if latest is None:
        return {"latest": None, "clv": None}
    return {"latest": latest, "terms": terms_text(latest), "clv": _clv_distribution(latest)}


def equity_tiles(session: Session, brand_id: uuid.UUID) -> dict[str, Any]:
    """What the overview's equity and lifetime value tiles show: the latest fit's headline
    figures, without the history of fits, charts and tables of the Equity and CLV tabs."""
    latest = service.equity_summary(session, brand_id)
    if latest is None:
        return {"latest": None}
    total, top, currency = latest.total, latest.top_band, latest.currency
    return {
        "latest": latest,
        "terms": terms_text(latest),
        "figures": {
            "total": money(total.equity, currency) if total else FEWER,
            "customers": f"{latest.customers:,}",
            "model": MODEL_NAMES.get(latest.model, latest.model),
        },
        "clv": {
            "top_average": money(top.equity / top.customers, currency)
            if top and top.customers
            else None
        },
    }


def _clv_distribution(latest: service.FitResult) -> dict[str, Any]:
    bands = [s for s in latest.segments if s.segment != predict.ALL]
    total = latest.total.equity if latest.total else sum(b.equity for b in bands)
    currency = latest.currency
    rows = [(CLV_BAND_LABELS.get(b.segment, b.segment), b) for b in bands]
    chart = charts.bar_chart(
        "clv-chart",
        "Average customer lifetime value per CLV band" + _in(currency),
        [(label, b.equity / b.customers if b.customers else 0.0) for label, b in rows],
        fmt=lambda v: f"{v:,.2f}",
    )
    table = Table(
        "clv-table",
        "CLV distribution by band: the data",
        [
            "Band",
            "Customers",
            in_currency("Equity", currency),
            in_currency("Average CLV", currency),
            "Share of equity",
            "Allowing profiling",
            in_currency("Their equity", currency),
        ],
        [
            [
                label,
                f"{b.customers:,}",
                money(b.equity),
                money(b.equity / b.customers),
                percent(b.equity / total if total else None),
                f"{b.consented_customers:,}",
                money(b.consented_equity),
            ]
            for label, b in rows
        ],
    )
    withheld = [CLV_BAND_LABELS.get(w, w) for w in latest.withheld if w != predict.ALL]
    top = next((b for b in bands if b.segment == "clv_top_10"), None)
    return {
        "chart": chart if rows else None,
        "table": table,
        "withheld": withheld,
        "top_average": money(top.equity / top.customers, currency)
        if top and top.customers
        else None,
    }


def holdout_section(snap: Snapshot | None) -> dict[str, Any] | None:
    """The holdout check stored with the fit: expected against actual repeat purchases."""
    if snap is None:
        return None
    if snap.holdout is None:
        return {"message": snap.holdout_message or "No holdout check for this fit."}
    result = snap.holdout
    labels = [w.ends.isoformat() for w in result.weeks]
    chart = charts.line_chart(
        "holdout-chart",
        "Cumulative repeat purchases after the cut-off: expected by the model and actual",
        labels,
        [
            Series("Expected", [w.expected for w in result.weeks]),
            Series("Actual", [float(w.actual) for w in result.weeks]),
        ],
    )
    table = Table(
        "holdout-table",
        "Holdout tracking, cumulative repeat purchases: the data",
        ["Week", "Ends", "Expected", "Actual", "Actual / expected"],
        [
            [
                str(w.week),
                w.ends.isoformat(),
                f"{w.expected:,.1f}",
                f"{w.actual:,}",
                percent(w.actual / w.expected if w.expected else None),
            ]
            for w in result.weeks
        ],
    )
    return {"result": result, "chart": chart if len(result.weeks) > 1 else None, "table": table}


_FIT_ROWS = Direct(
    select(
        ModelFit.id,
        ModelFit.model,
        ModelFit.cutoff,
        ModelFit.fitted_at,
        ModelFit.customers,
        ModelFit.log_likelihood,
        ModelFit.options,
    )
    .where(
        ModelFit.brand_id == bindparam("brand", type_=Uuid()),
        ModelFit.model.in_([literal(m) for m in predict.PURCHASE_MODELS]),
    )
    .order_by(ModelFit.fitted_at.desc(), ModelFit.id)
    .limit(50)
)


def fit_rows(session: Session, brand_id: uuid.UUID) -> list[Any]:
    """The brand's purchase-model fits, newest first (the Fits tab lists them): the columns
    the table shows, read on the session's cursor (`core.direct`) on every view."""
    rows: list[Any] = _FIT_ROWS.all(session, brand=brand_id)
    return rows
