"""Demo analytics: the CDNOW master log as Groove Records' purchase history, and a fit.

Groove Records (slug "groove") gets the 69,659 purchases of the CDNOW master log (Fader and
Hardie's public data set: 23,570 customers who first bought in the first quarter of 1997),
imported through the transaction importer, with a cost of goods of 70% of the price, and a
purchase channel and a product department for every purchase (CDNOW has none of these).
Demo person i is linked to CDNOW customer i + 1, so the people who allow Groove to profile
them see real scores on their relationship page. A
BG/NBD + Gamma-Gamma fit at the cut-off 1997-09-30 then computes equity and those scores.

Idempotent: the import is skipped when Groove already has transactions (the importer itself
would skip every order id it has), links are only added, and no fit runs when one exists.
The data set is looked up in $ACCORD_CDNOW_DIR or ``../shared/data/cdnow`` beside the
repository; without it the demo says so and goes on without analytics.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from pathlib import Path

from sqlalchemy import Integer, case, cast, func, literal, select, update
from sqlalchemy.orm import Session

from accord.analytics import service
from accord.analytics.models import Customer, Transaction
from accord.brands.models import Brand
from accord.core.db import rowcount
from accord.core.settings import Settings
from accord.people.models import Person
from accord.relationships.models import Relationship

MASTER = "CDNOW_master.txt"
CUTOFF = date(1997, 9, 30)
COST_SHARE = Decimal("0.70")
REPO_ROOT = Path(__file__).resolve().parents[3]


@dataclass
class AnalyticsReport:
    imported: int = 0
    linked: int = 0
    fitted: bool = False
    scored: int = 0
    note: str = ""


def cdnow_dir() -> Path:
    configured = os.environ.get("ACCORD_CDNOW_DIR")
    return Path(configured) if configured else REPO_ROOT.parent / "shared" / "data" / "cdnow"


def customer_id_for(index: int) -> str:
    """The CDNOW customer id of demo person `index` (0-based): person i is customer i + 1."""
    return f"{index + 1:05d}"


def seed_analytics(
    session: Session,
    settings: Settings,
    brand: Brand,
    people: Sequence[Person],
    *,
    say: Callable[[str], None] = print,
    directory: Path | None = None,
) -> AnalyticsReport:
    report = AnalyticsReport()
    master = (directory or cdnow_dir()) / MASTER
    has_data = session.scalar(
        select(Transaction.order_id).where(Transaction.brand_id == brand.id).limit(1)
    )
    if has_data is None:
        if not master.is_file():
            report.note = f"No CDNOW data at {master}: the demo has no analytics."
            say(report.note)
            return report
        result = service.import_csv(session, settings, brand.id, master, None, None, fmt="cdnow")
        report.imported = result.imported
        # CDNOW records prices only. The demo assumes Groove's goods cost 70% of the price (the
        # 30% margin its fit uses), so that customer profitability has something to show.
        session.execute(
            update(Transaction)
            .where(Transaction.brand_id == brand.id, Transaction.cost.is_(None))
            .values(cost=func.round(Transaction.amount * COST_SHARE, 2))
        )
        _give_channels_and_products(session, brand)
    report.linked = _link_people(session, brand, people)
    if service.latest_fit_id(session, brand.id) is None:
        fit = service.fit(session, brand.id, cutoff=CUTOFF, model="bgnbd", spend=True)
        report.fitted, report.scored = True, fit.scored
    return report


# A music retailer's departments; CDNOW's log names none, so the demo gives each purchase one.
PRODUCTS = [
    "Rock and pop CDs",
    "Jazz and blues CDs",
    "Classical CDs",
    "Soul and R&B CDs",
    "Country and folk CDs",
    "Film soundtracks",
    "Vinyl LPs",
]
BOX_SETS = "Box sets"
BOX_SET_FROM = 60  # a purchase worth this much or more is a box set


def _give_channels_and_products(session: Session, brand: Brand) -> None:
    """Where and what each purchase was, derived from its numbers, so every seed agrees.

    CDNOW records neither. A customer has a home channel (6 in 10 the web shop, 3 the store,
    1 the phone line); a quarter of them also buy in the store now and then, so the channel
    mix compares multichannel with single-channel customers on real purchase histories. The
    product follows the price: big baskets are box sets, the rest spread over departments.
    """
    t = Transaction
    customer = (
        select(cast(Customer.external_id, Integer))
        .where(Customer.id == t.customer_id)
        .scalar_subquery()
    )
    cents = cast(t.amount * 100, Integer)
    home = case(
        (customer % 10 < 6, literal("web")),
        (customer % 10 < 9, literal("store")),
        else_=literal("phone"),
    )
    channel = case(((customer % 4 == 0) & (cents % 3 == 0), literal("store")), else_=home)
    department = case(
        *[(cents % len(PRODUCTS) == i, literal(name)) for i, name in enumerate(PRODUCTS)],
        else_=literal(PRODUCTS[0]),
    )
    product = case((t.amount >= BOX_SET_FROM, literal(BOX_SETS)), else_=department)
    session.execute(
        update(t)
        .where(t.brand_id == brand.id, t.channel.is_(None))
        .values(channel=channel, product=product)
    )


def _link_people(session: Session, brand: Brand, people: Sequence[Person]) -> int:
    """Link demo person i to CDNOW customer i + 1 if the person knows the brand."""
    related = set(
        session.scalars(select(Relationship.person_id).where(Relationship.brand_id == brand.id))
    )
    linked = 0
    for index, person in enumerate(people):
        if person.id not in related:
            continue
        result = session.execute(
            update(Customer)
            .where(
                Customer.brand_id == brand.id,
                Customer.external_id == customer_id_for(index),
                Customer.person_id.is_(None),
            )
            .values(person_id=person.id)
        )
        linked += rowcount(result)
    return linked
