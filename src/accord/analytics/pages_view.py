"""What the analytics tabs show about customers and campaigns: RFM, channel mix, rates,
profitability. Each section is a chart (SVG, from `charts`) plus the rows of its data table.

RFM, channel mix and profitability come from the figures stored with the fit (`snapshot`);
campaign rates are read live (they change with every message). Everything is an aggregate over
at least 5 customers (or 5 messages); smaller groups are shown as "fewer than 5". Money is
always shown with its currency.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from markupsafe import Markup, escape
from sqlalchemy.orm import Session

from accord.analytics import charts, profitability, rates, segments
from accord.analytics.charts import Series
from accord.analytics.snapshot import Snapshot
from accord.core.kept import Kept

FEWER = "fewer than 5"
T = TypeVar("T")


def money(value: float | None, currency: str | None = None) -> str:
    if value is None:
        return FEWER
    return f"{value:,.2f} {currency}" if currency else f"{value:,.2f}"


def in_currency(heading: str, currency: str | None) -> str:
    """A column heading for money, with the currency it is in."""
    return f"{heading} ({currency})" if currency else heading


def count(value: int | None) -> str:
    return FEWER if value is None else f"{value:,}"


def percent(value: float | None, digits: int = 1) -> str:
    return "not shown" if value is None else f"{value * 100:.{digits}f}%"


@dataclass(frozen=True)
class Table:
    """A data table: caption, column headings, rows (first cell is the row header)."""

    id: str
    caption: str
    columns: list[str]
    rows: list[list[str]]

    def markup(self, empty: str = "No data yet.") -> Markup:
        """The table as table.html's `data_table` writes it, in one pass (a template's loop
        escaped and joined each of a long table's cells on its own), kept with the table: a
        section built once per stored fit is written once too."""
        cache: dict[str, Markup] = self.__dict__.setdefault("_markup", {})
        found = cache.get(empty)
        if found is None:
            found = cache[empty] = _table_markup(self, empty)
        return found


def _table_markup(t: Table, empty: str) -> Markup:
    ident = escape(t.id)
    heads = "".join(f'<th scope="col">{escape(c)}</th>' for c in t.columns)
    rows = "".join(
        f'\n    <tr><th scope="row">{escape(row[0])}</th>'
        + "".join(f"<td>{escape(cell)}</td>" for cell in row[1:])
        + "</tr>\n  "
        for row in t.rows
    )
    if not t.rows:
        rows = f'\n    <tr><td colspan="{len(t.columns)}">{escape(empty)}</td></tr>\n  '
    return Markup(
        f'<div class="table-scroll" tabindex="0" role="region" aria-labelledby="{ident}-caption">'
        f'\n<table id="{ident}">\n  <caption id="{ident}-caption">{escape(t.caption)}</caption>'
        f"\n  <thead><tr>{heads}</tr></thead>\n  <tbody>\n  {rows}\n  </tbody>\n</table>\n</div>"
    )


# Sections built from a stored fit's figures, by (fit, computed at, section): a stored snapshot
# never changes (`snapshot.load` keeps it likewise), so each tab builds its charts and tables
# (and writes its tables, `Table.markup`) once per fit instead of on every view.
_BUILT: Kept[Any] = Kept(256)


def of_snapshot(snap: Snapshot, build: Callable[[Snapshot], T]) -> T:
    """`build(snap)`, once per stored snapshot."""
    key = (snap.fit_id, snap.computed_at, f"{build.__module__}.{build.__qualname__}")
    result: T = _BUILT.get(key, lambda: build(snap))
    return result


def rfm_section(snap: Snapshot) -> dict[str, Any]:
    grid, cur = snap.grid, snap.currency
    ranks = [5, 4, 3, 2, 1]
    grid_chart = charts.heat_grid(
        "rfm-grid-chart",
        "Customers by recency (R) and frequency (F) score",
        ranks,
        [1, 2, 3, 4, 5],
        grid.cells,
    )
    grid_table = Table(
        "rfm-grid-table",
        "Customers by R and F score (5 is best): the data",
        ["R score", *[f"F {f}" for f in range(1, 6)]],
        [[f"R {r}", *[count(grid.cells[(r, f)]) for f in range(1, 6)]] for r in ranks],
    )
    counted = snap.segments
    segment_chart = charts.bar_chart(
        "segments-chart",
        "Customers per RFM segment",
        [(c.segment.label, c.customers) for c in counted],
    )
    segment_table = Table(
        "segments-table",
        "RFM segments: the data",
        [
            "Segment",
            "Customers",
            in_currency("Spend", cur),
            in_currency("Average spend", cur),
            "Average days since last purchase",
            "Who they are",
        ],
        [
            [
                c.segment.label,
                count(c.customers),
                money(c.spend),
                money(c.average_spend),
                FEWER if c.average_recency_days is None else f"{c.average_recency_days:,.0f}",
                c.segment.meaning,
            ]
            for c in counted
        ],
    )
    thin_table = Table(
        "thin-segments-table",
        "Thin segments: RFM segment by channels used, CLV band and chosen topic "
        "(groups of 5 or more, largest first)",
        [
            "Segment",
            "Purchase channels",
            "CLV band",
            "Topic",
            "Customers",
            in_currency("Spend", cur),
        ],
        [
            [
                segments.SEGMENTS[t.segment].label if t.segment in segments.SEGMENTS else "",
                str(t.channels) if t.channels else "not recorded",
                segments.CLV_BAND_LABELS.get(t.clv_band, t.clv_band),
                t.topic,
                f"{t.customers:,}",
                money(t.spend),
            ]
            for t in snap.thin[:40]
        ],
    )
    champions = next((c for c in counted if c.segment.key == "champions"), None)
    return {
        "total": grid.total,
        "champions": champions,
        "grid_chart": grid_chart,
        "grid_table": grid_table,
        "segment_chart": segment_chart,
        "segment_table": segment_table,
        "thin_table": thin_table,
    }


def rfm_tile(snap: Snapshot) -> dict[str, Any]:
    """The overview's RFM tile: champions of all customers (the tab draws the rest)."""
    champions = next((c for c in snap.segments if c.segment.key == "champions"), None)
    return {"total": snap.grid.total, "champions": champions}


def channel_tile(snap: Snapshot) -> dict[str, Any]:
    """The overview's channel mix tile (the figures of `channel_section`, no chart)."""
    mix = snap.channel_mix
    return {
        "ratio": None if mix.ratio is None else f"{mix.ratio:.2f}",
        "has_data": any(r.channels > 0 for r in mix.rows) and snap.gaps.with_channel > 0,
    }


def channel_section(snap: Snapshot) -> dict[str, Any]:
    mix, cur = snap.channel_mix, snap.currency
    label = {0: "Channel not recorded", 1: "1 channel"}
    rows = [(label.get(r.channels, f"{r.channels} channels"), r.average_spend) for r in mix.rows]
    known = [r for r in mix.rows if r.channels > 0]
    return {
        "ratio": None if mix.ratio is None else f"{mix.ratio:.2f}",
        # One bar for "not recorded" is not a mix: the page says what data is missing instead.
        "has_data": bool(known) and snap.gaps.with_channel > 0,
        "missing": snap.gaps.transactions - snap.gaps.with_channel,
        "chart": charts.bar_chart(
            "channel-mix-chart",
            f"Average spend per customer by purchase channels used{_in(cur)}",
            rows,
            fmt=lambda v: f"{v:,.2f}",
        ),
        "table": Table(
            "channel-mix-table",
            "Spend per customer by number of purchase channels: the data",
            [
                "Channels used",
                "Customers",
                in_currency("Spend", cur),
                in_currency("Average spend per customer", cur),
            ],
            [
                [name, count(r.customers), money(r.spend), money(r.average_spend)]
                for (name, _), r in zip(rows, mix.rows, strict=True)
            ],
        ),
    }


def _in(currency: str | None) -> str:
    return f", in {currency}" if currency else ""


def rates_tile(session: Session, brand_id: uuid.UUID) -> dict[str, Any]:
    """The overview's rates tile, live: all weeks added up (no per channel and topic rows)."""
    weekly = rates.rates_by_week(session, brand_id, by_channel_and_topic=False)
    return {"total": rates.totals(weekly) if weekly else None, "weeks": len(weekly)}


def rates_section(session: Session, brand_id: uuid.UUID) -> dict[str, Any]:
    """Live: the only section that changes between fits."""
    weekly = rates.rates_by_week(session, brand_id, by_channel_and_topic=False)
    detail = rates.rates_by_week(session, brand_id)
    shown_kinds = ["replied", "unsubscribed", "opted_out"]
    series = [
        Series(f"{rates.KINDS[k][0]} rate", [_pct(r.rate(k)) for r in weekly]) for k in shown_kinds
    ]
    chart = charts.line_chart(
        "rates-chart",
        "Response, unsubscribe and opt-out rates per week (% of messages sent)",
        [r.week.isoformat() for r in weekly],
        series,
        fmt=lambda v: f"{v:.1f}%",
    )
    kinds = list(rates.KINDS)
    table = Table(
        "rates-table",
        "Rates per week, channel and topic: the data (weeks start on Monday, UTC)",
        ["Week", "Channel", "Topic", "Sent", *[f"{rates.KINDS[k][0]} rate" for k in kinds]],
        [
            [
                r.week.isoformat(),
                r.channel,
                r.topic,
                f"{r.sent:,}",
                *[percent(r.rate(k)) for k in kinds],
            ]
            for r in detail
        ],
    )
    total = rates.totals(weekly) if weekly else None
    return {
        "chart": chart if len(weekly) > 1 else None,
        "table": table,
        "has_data": bool(weekly),
        "weeks": len(weekly),
        "total": total,
        "meanings": [(v[0], v[1]) for v in rates.KINDS.values()],
    }


def _pct(value: float | None) -> float | None:
    return None if value is None else value * 100


def _tenth(rank: int) -> str:
    return {1: "Tenth 1 (most profitable)", 10: "Tenth 10 (least profitable)"}.get(
        rank, f"Tenth {rank}"
    )


def profit_tile(snap: Snapshot) -> dict[str, Any]:
    """The overview's profit tile (the summary of `profit_section`, no charts)."""
    summary = snap.profit
    return {
        "summary": summary if summary.customers >= segments.MIN_GROUP else None,
        "figures": {"profit": money(summary.profit, snap.currency)},
    }


def profit_section(snap: Snapshot) -> dict[str, Any]:
    summary, bands, cur = snap.profit, snap.deciles, snap.currency
    products = snap.products[:15]
    band_rows = [(_tenth(11 - b.band), b.profit) for b in bands]
    named = [
        p
        for p in products
        if p.product not in (profitability.UNKNOWN_PRODUCT, profitability.OTHER_PRODUCTS)
    ]
    return {
        "currency": cur,
        "summary": summary if summary.customers >= segments.MIN_GROUP else None,
        "figures": {
            "revenue": money(summary.revenue, cur),
            "cost": money(summary.cost, cur),
            "message_cost": money(summary.message_cost, cur),
            "profit": money(summary.profit, cur),
        },
        "costs": ", ".join(f"{ch} {v:g}" for ch, v in profitability.MESSAGE_COSTS.items()),
        "has_costs": snap.gaps.with_cost > 0,
        "has_products": snap.gaps.with_product > 0,
        "missing_products": snap.gaps.transactions - snap.gaps.with_product,
        "bands_chart": charts.bar_chart(
            "profit-bands-chart",
            f"Profit by tenth of customers, most profitable first{_in(cur)}",
            band_rows,
            fmt=lambda v: f"{v:,.2f}",
        )
        if bands
        else None,
        "bands_table": Table(
            "profit-bands-table",
            "Customer profit by tenth of customers: the data",
            [
                "Tenth",
                "Customers",
                in_currency("Revenue", cur),
                in_currency("Profit", cur),
                "Share of all profit, cumulative",
            ],
            [
                [
                    name,
                    f"{b.customers:,}",
                    money(b.revenue),
                    money(b.profit),
                    percent(b.cumulative_share, 0),
                ]
                for (name, _), b in zip(band_rows, bands, strict=True)
            ],
        ),
        "best_product": named[0] if named else None,
        "best_profit": money(named[0].profit, cur) if named else "",
        "products_chart": charts.bar_chart(
            "products-chart",
            f"Profit per product{_in(cur)}",
            [(p.product, p.profit) for p in named],
            fmt=lambda v: f"{v:,.2f}",
        )
        if named
        else None,
        "products_table": Table(
            "products-table",
            "Product profitability: the data",
            [
                "Product",
                "Buyers",
                "Orders",
                in_currency("Revenue", cur),
                in_currency("Cost", cur),
                in_currency("Profit", cur),
                "Margin",
            ],
            [
                [
                    p.product,
                    f"{p.buyers:,}",
                    f"{p.orders:,}",
                    money(p.revenue),
                    money(p.cost),
                    money(p.profit),
                    percent(p.margin),
                ]
                for p in (products if named else [])
            ],
        ),
    }
