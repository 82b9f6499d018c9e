"""Customer and product profitability, and channel mix, in SQL.

Customer profit = revenue - cost of goods - cost of the messages sent to them. Revenue and cost
come from the brand's transactions (refunds count against both); message cost is the number of
messages handed to each channel (outbox rows in state ``sent``) times a cost per message by
channel. Messages reach people, so they count for customers linked to a person.

Product profit = revenue - cost per product. Channel mix compares spend per customer by the
number of distinct purchase channels a customer used.

Every aggregate a page shows covers at least ``MIN_GROUP`` customers.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Float, Integer, Select, case, cast, distinct, func, literal, select
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement

from accord.analytics.models import Customer, Transaction
from accord.analytics.segments import MIN_GROUP, signed_amount
from accord.outbox.models import OutboxMessage

# Cost of one message by channel, in the brand's currency. Configurable per call.
MESSAGE_COSTS: dict[str, float] = {
    "email": 0.001,
    "sms": 0.05,
    "push": 0.0005,
    "inapp": 0.0,
    "postal": 0.60,
    "webhook": 0.0,
}
OTHER_PRODUCTS = "Other products (fewer than 5 buyers each)"
UNKNOWN_PRODUCT = "(no product given)"


def _signed_cost() -> ColumnElement[object]:
    cost = func.coalesce(Transaction.cost, 0)
    return case((Transaction.is_refund, -func.abs(cost)), else_=cost)


def _message_cost(costs: Mapping[str, float]) -> ColumnElement[float]:
    return case(
        *[(OutboxMessage.channel == ch, literal(float(v))) for ch, v in costs.items()],
        else_=literal(0.0),
    )


def customer_profit_select(
    brand_id: uuid.UUID, costs: Mapping[str, float] | None = None
) -> Select[*tuple[Any, ...]]:
    """One row per customer: customer_id, external_id, person_id, revenue, cost, messages,
    message_cost, profit."""
    costs = MESSAGE_COSTS if costs is None else costs
    t = Transaction
    sales = (
        select(
            t.customer_id.label("cid"),
            func.sum(signed_amount()).label("revenue"),
            func.sum(_signed_cost()).label("cost"),
        )
        .where(t.brand_id == brand_id)
        .group_by(t.customer_id)
        .subquery("sales")
    )
    o = OutboxMessage
    sent = (
        select(
            o.person_id.label("pid"),
            func.count().label("messages"),
            func.sum(_message_cost(costs)).label("message_cost"),
        )
        .where(o.brand_id == brand_id, o.state == "sent")
        .group_by(o.person_id)
        .subquery("sent")
    )
    revenue = cast(func.coalesce(sales.c.revenue, 0), Float())
    cost = cast(func.coalesce(sales.c.cost, 0), Float())
    message_cost = cast(func.coalesce(sent.c.message_cost, 0.0), Float())
    return (
        select(
            Customer.id.label("customer_id"),
            Customer.external_id,
            Customer.person_id,
            revenue.label("revenue"),
            cost.label("cost"),
            func.coalesce(sent.c.messages, 0).label("messages"),
            message_cost.label("message_cost"),
            (revenue - cost - message_cost).label("profit"),
        )
        .join(sales, sales.c.cid == Customer.id)
        .outerjoin(sent, sent.c.pid == Customer.person_id)
        .where(Customer.brand_id == brand_id)
    )


@dataclass(frozen=True)
class ProfitSummary:
    customers: int
    revenue: float
    cost: float
    messages: int
    message_cost: float
    profit: float
    profitable: int
    unprofitable: int


def customer_profitability(
    session: Session, brand_id: uuid.UUID, costs: Mapping[str, float] | None = None
) -> ProfitSummary:
    """The brand's customers in aggregate: revenue, cost, message cost, profit."""
    sub = customer_profit_select(brand_id, costs).subquery("profits")
    row = session.execute(
        select(
            func.count(),
            func.coalesce(func.sum(sub.c.revenue), 0),
            func.coalesce(func.sum(sub.c.cost), 0),
            func.coalesce(func.sum(sub.c.messages), 0),
            func.coalesce(func.sum(sub.c.message_cost), 0.0),
            func.coalesce(func.sum(sub.c.profit), 0),
            func.coalesce(func.sum(case((sub.c.profit > 0, 1), else_=0)), 0),
        )
    ).one()
    n, revenue, cost, messages, message_cost, profit, profitable = row
    return ProfitSummary(
        customers=int(n),
        revenue=float(revenue),
        cost=float(cost),
        messages=int(messages),
        message_cost=float(message_cost),
        profit=float(profit),
        profitable=int(profitable),
        unprofitable=int(n) - int(profitable),
    )


@dataclass(frozen=True)
class ProfitBand:
    """One tenth of the customers ranked by profit (band 10 is the most profitable)."""

    band: int
    customers: int
    revenue: float
    profit: float
    cumulative_share: float  # of total profit, from the most profitable band down


def profit_deciles(
    session: Session, brand_id: uuid.UUID, costs: Mapping[str, float] | None = None
) -> list[ProfitBand]:
    """Customers in ten bands by profit (NTILE(10)); empty when a band would hold < 5."""
    sub = customer_profit_select(brand_id, costs).subquery("profits")
    ranked = select(
        sub.c.revenue,
        sub.c.profit,
        func.ntile(10, type_=Integer())
        .over(order_by=[sub.c.profit, sub.c.customer_id])
        .label("band"),
    ).subquery("ranked")
    rows = session.execute(
        select(
            ranked.c.band,
            func.count(),
            func.sum(ranked.c.revenue),
            func.sum(ranked.c.profit),
        )
        .group_by(ranked.c.band)
        .order_by(ranked.c.band.desc())
    ).all()
    if not rows or min(int(n) for _, n, _, _ in rows) < MIN_GROUP:
        return []
    total = sum(float(p or 0) for _, _, _, p in rows)
    running = 0.0
    out = []
    for band, n, revenue, profit in rows:
        running += float(profit or 0)
        out.append(
            ProfitBand(
                band=int(band),
                customers=int(n),
                revenue=float(revenue or 0),
                profit=float(profit or 0),
                cumulative_share=running / total if total else 0.0,
            )
        )
    return out


@dataclass(frozen=True)
class ProductProfit:
    product: str
    buyers: int
    orders: int
    revenue: float
    cost: float

    @property
    def profit(self) -> float:
        return self.revenue - self.cost

    @property
    def margin(self) -> float | None:
        return self.profit / self.revenue if self.revenue else None


def product_profitability(session: Session, brand_id: uuid.UUID) -> list[ProductProfit]:
    """Revenue, cost and profit per product, most profitable first. Products with fewer than
    5 buyers are pooled into one row so that no single customer's spend shows."""
    t = Transaction
    product = func.coalesce(t.product, literal(UNKNOWN_PRODUCT))
    per = (
        select(
            product.label("product"),
            func.count(distinct(t.customer_id)).label("buyers"),
            func.count(distinct(t.order_id)).label("orders"),
            func.sum(signed_amount()).label("revenue"),
            func.sum(_signed_cost()).label("cost"),
        )
        .where(t.brand_id == brand_id)
        .group_by(product)
        .subquery("per_product")
    )
    small = per.c.buyers < MIN_GROUP
    name = case((small, literal(OTHER_PRODUCTS)), else_=per.c.product)
    rows = session.execute(
        select(
            name.label("name"),
            func.sum(per.c.buyers),
            func.sum(per.c.orders),
            func.sum(per.c.revenue),
            func.sum(per.c.cost),
        ).group_by(name)
    ).all()
    # Buyers of pooled products may overlap: the pooled row counts purchases, not people, and
    # is itself shown only when it covers at least 5 buyer-product pairs.
    out = [
        ProductProfit(
            product=str(n),
            buyers=int(b),
            orders=int(o),
            revenue=float(r or 0),
            cost=float(c or 0),
        )
        for n, b, o, r, c in rows
        if int(b) >= MIN_GROUP
    ]
    return sorted(out, key=lambda p: (p.product == OTHER_PRODUCTS, -p.profit, p.product))


@dataclass(frozen=True)
class ChannelMixRow:
    channels: int
    customers: int | None
    spend: float | None
    average_spend: float | None


@dataclass(frozen=True)
class ChannelMix:
    rows: list[ChannelMixRow]
    single_average: float | None
    multi_average: float | None

    @property
    def ratio(self) -> float | None:
        """How many times more a multichannel customer spends than a single-channel one."""
        if not self.single_average or self.multi_average is None:
            return None
        return self.multi_average / self.single_average


def channel_mix(session: Session, brand_id: uuid.UUID) -> ChannelMix:
    """Spend per customer by the number of distinct purchase channels used (0 = unknown)."""
    t = Transaction
    per_customer = (
        select(
            t.customer_id,
            func.count(distinct(t.channel)).label("channels"),
            func.sum(signed_amount()).label("spend"),
        )
        .where(t.brand_id == brand_id)
        .group_by(t.customer_id)
        .subquery("per_customer")
    )
    c = per_customer.c
    multi = case((c.channels >= 2, 2), else_=c.channels)
    rows = session.execute(
        select(c.channels, func.count(), func.sum(c.spend))
        .group_by(c.channels)
        .order_by(c.channels)
    ).all()
    groups = session.execute(
        select(multi, func.count(), func.sum(c.spend)).where(c.channels > 0).group_by(multi)
    ).all()
    averages: dict[int, float | None] = {}
    for key, n, spend in groups:
        averages[int(key)] = float(spend or 0) / int(n) if int(n) >= MIN_GROUP else None
    out = []
    for channels, n, spend in rows:
        big = int(n) >= MIN_GROUP
        out.append(
            ChannelMixRow(
                channels=int(channels),
                customers=int(n) if big else None,
                spend=float(spend or 0) if big else None,
                average_spend=float(spend or 0) / int(n) if big else None,
            )
        )
    return ChannelMix(rows=out, single_average=averages.get(1), multi_average=averages.get(2))
