"""What the analytics overview shows about model fits: customer equity (now and per stored fit),
the CLV distribution by band, holdout tracking, and the form that runs a fit.

Figures come from `service` (fits, equity, holdout), which withholds any segment behind which
fewer than 5 customers stand.
"""

from __future__ import annotations

import uuid
from datetime import date
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator
from sqlalchemy import select
from sqlalchemy.orm import Session

from accord.analytics import charts, predict, service
from accord.analytics.charts import Series
from accord.analytics.models import ModelFit, SegmentAggregate
from accord.analytics.pages_view import FEWER, Table, money, percent
from accord.analytics.segments import CLV_BAND_LABELS
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


def _money_in(value: float | None, currency: str | None) -> str:
    text = money(value)
    return f"{text} {currency}" if value is not None and currency else text


def equity_section(session: Session, brand_id: uuid.UUID) -> dict[str, Any]:
    latest = service.equity(session, brand_id)
    history = session.execute(
        select(ModelFit, SegmentAggregate)
        .join(SegmentAggregate, SegmentAggregate.fit_id == ModelFit.id)
        .where(
            ModelFit.brand_id == brand_id,
            ModelFit.model.in_(predict.PURCHASE_MODELS),
            SegmentAggregate.segment == predict.ALL,
        )
        .order_by(ModelFit.cutoff, ModelFit.fitted_at)
    ).all()
    labels = [fit.cutoff.date().isoformat() for fit, _ in history]
    over_time = charts.line_chart(
        "equity-chart",
        "Customer equity per stored fit, by cut-off date",
        labels,
        [
            Series("All customers", [agg.equity for _, agg in history]),
            Series("Customers who allow profiling", [agg.consented_equity for _, agg in history]),
        ],
    )
    table = Table(
        "equity-table",
        "Customer equity per stored fit: the data",
        [
            "Cut-off",
            "Model",
            "Fitted",
            "Customers",
            "Equity",
            "Of people allowing profiling",
            "Lost",
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
            ]
            for i, (fit, agg) in enumerate(history)
        ],
    )
    context: dict[str, Any] = {"latest": latest, "chart": over_time, "table": table}
    if latest is not None:
        total = latest.total
        currency = latest.currency
        context["figures"] = {
            "total": _money_in(total.equity, currency) if total else FEWER,
            "consented": _money_in(total.consented_equity, currency) if total else FEWER,
            "consented_customers": f"{total.consented_customers:,}" if total else FEWER,
            "lost": _money_in(total.lost_equity, currency) if total else FEWER,
            "customers": f"{latest.customers:,}",
            "model": MODEL_NAMES.get(latest.model, latest.model),
        }
        context["clv"] = _clv_distribution(latest)
    return context


def _clv_distribution(latest: service.FitResult) -> dict[str, Any]:
    bands = [s for s in latest.segments if s.segment != predict.ALL]
    total = latest.total.equity if latest.total else sum(b.equity for b in bands)
    rows = [(CLV_BAND_LABELS.get(b.segment, b.segment), b) for b in bands]
    chart = charts.bar_chart(
        "clv-chart",
        "Average customer lifetime value per CLV band",
        [(label, b.equity / b.customers if b.customers else 0.0) for label, b in rows],
        fmt=lambda v: f"{v:,.2f}",
    )
    table = Table(
        "clv-table",
        "CLV distribution by band: the data",
        [
            "Band",
            "Customers",
            "Equity",
            "Average CLV",
            "Share of equity",
            "Allowing profiling",
            "Their equity",
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
    return {"chart": chart, "table": table, "withheld": withheld}


def holdout_section(
    session: Session, brand_id: uuid.UUID, fit_id: uuid.UUID | None
) -> dict[str, Any] | None:
    fit_id = fit_id or service.latest_fit_id(session, brand_id)
    if fit_id is None:
        return None
    try:
        result = service.holdout(session, brand_id, fit_id)
    except InvalidInput as exc:
        return {"message": exc.detail}
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
    return {"result": result, "chart": chart, "table": table}
