"""The analytics part of the console's home: customer equity from the latest fit and the
opt-out trend of the last weeks (live). Registered by the composition root."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from accord.analytics import charts, rates, service
from accord.analytics.charts import Series
from accord.analytics.pages_fits import MODEL_NAMES, terms_text
from accord.analytics.pages_view import FEWER, money, percent
from accord.core.permissions import Permission, role_allows
from accord.core.principals import BrandCaller

WEEKS = 8


def panel(session: Session, caller: BrandCaller) -> dict[str, Any] | None:
    if not role_allows(caller.role, Permission.read_analytics):
        return None
    latest = service.equity_summary(session, caller.brand_id)
    equity = None
    if latest is not None:
        total = latest.total
        equity = {
            "figure": money(total.equity, latest.currency) if total else FEWER,
            "terms": terms_text(latest),
            "model": MODEL_NAMES.get(latest.model, latest.model),
            "cutoff": latest.cutoff.isoformat(),
            "customers": f"{latest.customers:,}",
        }
    weekly = rates.rates_by_week(session, caller.brand_id, by_channel_and_topic=False)[-WEEKS:]
    trend = [
        {
            "week": r.week.isoformat(),
            "sent": f"{r.sent:,}",
            "unsubscribed": percent(r.rate("unsubscribed"), 2),
            "opted_out": percent(r.rate("opted_out"), 2),
        }
        for r in weekly
    ]
    chart = (
        charts.line_chart(
            "optout-chart",
            "Unsubscribe and opt-out rates per week (% of messages sent)",
            [r.week.isoformat() for r in weekly],
            [
                Series("Unsubscribe rate", [_pct(r.rate("unsubscribed")) for r in weekly]),
                Series("Opt-out rate", [_pct(r.rate("opted_out")) for r in weekly]),
            ],
            fmt=lambda v: f"{v:.2f}%",
        )
        if len(weekly) > 1
        else None
    )
    return {"equity": equity, "trend": trend, "chart": chart}


def _pct(value: float | None) -> float | None:
    return None if value is None else value * 100
