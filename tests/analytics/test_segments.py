"""RFM in SQL against hand-computed quintiles, the R-by-F grid, suppression below 5, thin
segments, and a segment as a campaign audience that the gate still filters."""

from __future__ import annotations

import itertools
import uuid
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy.orm import Session

from accord.analytics import segments
from accord.analytics.models import Customer, CustomerScore, ModelFit, Transaction
from accord.brands.models import Brand
from accord.campaigns import service as campaigns
from accord.campaigns.schemas import Audience, CampaignCreate
from accord.people.models import Person
from accord.relationships import decisions
from accord.relationships.vocabulary import Purpose
from tests.builders import make_brand, make_person, make_relationship, make_topic

AS_OF = date(2024, 1, 31)
_orders = itertools.count(1)


def at(day: date, hour: int = 12) -> datetime:
    return datetime(day.year, day.month, day.day, hour, tzinfo=UTC)


def add_customer(
    session: Session,
    brand: Brand,
    external_id: str,
    purchases: list[tuple[date, float] | tuple[date, float, str]],
    *,
    person: Person | None = None,
    refunds: list[tuple[date, float]] = (),  # type: ignore[assignment]
) -> Customer:
    customer = Customer(
        brand_id=brand.id, external_id=external_id, person_id=person.id if person else None
    )
    session.add(customer)
    session.flush()
    rows = [(p[0], p[1], p[2] if len(p) > 2 else "web", False) for p in purchases]  # type: ignore[misc]
    rows += [(day, amount, "web", True) for day, amount in refunds]
    for day, amount, channel, refund in rows:
        session.add(
            Transaction(
                brand_id=brand.id,
                customer_id=customer.id,
                occurred_at=at(day),
                amount=Decimal(str(amount)),
                currency="USD",
                channel=channel,
                order_id=f"o-{next(_orders)}",
                is_refund=refund,
            )
        )
    session.flush()
    return customer


def history(recency: int, frequency: int, monetary: float) -> list[tuple[date, float]]:
    """`frequency` purchase days, the last `recency` days before AS_OF, summing to `monetary`."""
    last = AS_OF - timedelta(days=recency)
    each = monetary / frequency
    return [(last - timedelta(days=7 * i), each) for i in range(frequency)]


# (recency days, purchase days, spend) and the scores worked out by hand in the module notes.
TEN = {
    "c0": ((5, 1, 10), (4, 1, 1), "promising"),
    "c1": ((50, 3, 300), (2, 4, 4), "at_risk"),
    "c2": ((1, 6, 600), (5, 5, 5), "champions"),
    "c3": ((100, 2, 20), (2, 2, 2), "hibernating"),
    "c4": ((10, 4, 90), (4, 4, 3), "loyal"),
    "c5": ((200, 5, 500), (1, 5, 5), "cant_lose"),
    "c6": ((2, 1, 15), (5, 2, 2), "potential_loyalists"),
    "c7": ((30, 2, 250), (3, 3, 4), "loyal"),
    "c8": ((300, 1, 5), (1, 1, 1), "lost"),
    "c9": ((20, 3, 45), (3, 3, 3), "need_attention"),
}
# R: by recency, oldest first: c8 c5 | c3 c1 | c7 c9 | c4 c0 | c6 c2.
# F: by purchase days, ties by spend: c8 c0 | c6 c3 | c7 c9 | c1 c4 | c5 c2.
# M: by spend: c8 c0 | c6 c3 | c9 c4 | c7 c1 | c5 c2.  FM = (F + M + 1) // 2.


def ten_customers(session: Session) -> Brand:
    brand = make_brand(session)
    for name, ((recency, frequency, monetary), _, _) in TEN.items():
        purchases = history(recency, frequency, monetary)
        if name == "c4":
            # 100 spent, 10 refunded on the as-of day: spend 90, and a refund is no purchase.
            purchases = history(recency, frequency, 100)
            add_customer(session, brand, name, purchases, refunds=[(AS_OF, 10)])  # type: ignore[arg-type]
            continue
        if name == "c1":
            purchases.append((purchases[0][0], 0.0))  # a second order on a day already counted
        if name == "c2":
            purchases.append((AS_OF + timedelta(days=3), 999.0))  # after the as-of day: ignored
        add_customer(session, brand, name, purchases)  # type: ignore[arg-type]
    other = make_brand(session)
    add_customer(session, other, "c0", history(1, 9, 9000))  # type: ignore[arg-type]
    return brand


def test_rfm_scores_match_the_hand_computed_quintiles(session: Session) -> None:
    brand = ten_customers(session)
    rows = {row.external_id: row for row in segments.rfm_table(session, brand.id, AS_OF)}
    assert set(rows) == set(TEN)
    for name, ((recency, frequency, monetary), scores, segment) in TEN.items():
        row = rows[name]
        assert (row.recency_days, row.frequency) == (recency, frequency), name
        assert row.monetary == pytest.approx(monetary), name
        assert (row.r, row.f, row.m) == scores, name
        assert row.segment == segment == segments.segment_of(*scores), name
    assert rows["c2"].rfm == "555"


def test_default_as_of_is_the_brands_latest_purchase_day(session: Session) -> None:
    brand = ten_customers(session)
    rows = {row.external_id: row for row in segments.rfm_table(session, brand.id)}
    # c2's late order (AS_OF + 3) is now the latest day and counts.
    assert rows["c2"].recency_days == 0 and rows["c2"].frequency == 7
    assert rows["c8"].recency_days == 303


def test_the_segment_map_covers_every_cell_exactly_once() -> None:
    cells = [(r, fm) for key, rs, fms in segments.SEGMENT_MAP for r in rs for fm in fms]
    assert sorted(cells) == [(r, fm) for r in range(1, 6) for fm in range(1, 6)]
    assert {key for key, _, _ in segments.SEGMENT_MAP} == set(segments.SEGMENTS)


def diagonal(session: Session, brand: Brand, n: int = 25) -> list[Customer]:
    """n customers whose recency, frequency and spend rise together: R = F = M = tile."""
    made = []
    for k in range(n):
        channels = ("web", "store") if k >= 15 else ("web",)
        purchases = [
            (AS_OF - timedelta(days=200 - 5 * k + 10 * i), 10.0 + k, channels[i % len(channels)])
            for i in range(k + 1)
        ]
        made.append(add_customer(session, brand, f"d{k:02}", purchases))  # type: ignore[arg-type]
    return made


def test_grid_and_segment_counts_show_groups_of_five_and_suppress_smaller(
    session: Session,
) -> None:
    brand = make_brand(session)
    diagonal(session, brand)
    grid = segments.rfm_grid(session, brand.id, AS_OF)
    assert grid.total == 25
    assert grid.cells == {(r, f): 5 if r == f else 0 for r in range(1, 6) for f in range(1, 6)}
    counts = {c.segment.key: c.customers for c in segments.segment_counts(session, brand.id, AS_OF)}
    assert counts == {
        **dict.fromkeys(segments.SEGMENTS, 0),
        "lost": 5,
        "hibernating": 5,
        "need_attention": 5,
        "loyal": 5,
        "champions": 5,
    }

    small = ten_customers(session)
    grid = segments.rfm_grid(session, small.id, AS_OF)
    assert grid.total == 10 and grid.suppressed == 9
    assert all(v in (None, 0) for v in grid.cells.values())
    rows = segments.segment_counts(session, small.id, AS_OF)
    loyal = next(c for c in rows if c.segment.key == "loyal")
    assert loyal.customers is None and loyal.spend is None


def test_thin_segments_cross_channels_bands_and_topics(session: Session) -> None:
    brand = make_brand(session)
    made = diagonal(session, brand)
    topic = make_topic(session, brand=brand, name="Jazz")
    fit = ModelFit(
        brand_id=brand.id,
        model="bgnbd",
        params={},
        customers=25,
        calibration_start=at(AS_OF - timedelta(days=400)),
        cutoff=at(AS_OF),
    )
    session.add(fit)
    for i, customer in enumerate(made[20:23]):  # three champions chose a topic
        person = make_person(session)
        rel = make_relationship(session, person=person, brand=brand, topics_on=(topic,))
        customer.person_id = person.id
        if i < 2:  # two of them grant profiling and hold a score
            decisions.set_purpose(session, rel, Purpose.profiling, True, decisions.PORTAL)
            session.add(score_row(person, customer, fit, "clv_top_10"))
    session.flush()
    fine = segments.thin_segments(session, brand.id, AS_OF, min_group=1)
    found = {(t.segment, t.channels, t.clv_band, t.topic): t.customers for t in fine}
    assert found == {
        ("lost", 1, "unscored", segments.NO_TOPIC): 5,
        ("hibernating", 1, "unscored", segments.NO_TOPIC): 5,
        ("need_attention", 1, "unscored", segments.NO_TOPIC): 5,
        ("loyal", 2, "unscored", segments.NO_TOPIC): 5,
        ("champions", 2, "unscored", segments.NO_TOPIC): 2,
        ("champions", 2, "clv_top_10", "Jazz"): 2,
        ("champions", 2, "unscored", "Jazz"): 1,
    }
    shown = segments.thin_segments(session, brand.id, AS_OF)
    assert {t.segment for t in shown} == {"lost", "hibernating", "need_attention", "loyal"}
    assert all(t.customers >= 5 for t in shown)


def score_row(person: Person, customer: Customer, fit: ModelFit, band: str) -> CustomerScore:
    return CustomerScore(
        person_id=person.id,
        brand_id=customer.brand_id,
        customer_id=customer.id,
        fit_id=fit.id,
        frequency=1,
        recency_weeks=1.0,
        age_weeks=2.0,
        average_spend=10.0,
        p_alive=0.5,
        expected_purchases=1.0,
        expected_spend=10.0,
        clv=10.0,
        segment=band,
    )


def test_a_segment_audience_is_profiled_people_and_passes_through_the_gate(
    session: Session,
) -> None:
    brand = make_brand(session)
    made = diagonal(session, brand)
    topic = make_topic(session, brand=brand)
    consenting: list[Any] = []
    others: list[Any] = []
    for i, customer in enumerate(made[20:]):  # the five champions
        person = make_person(session)
        rel = make_relationship(
            session,
            person=person,
            brand=brand,
            marketing=i != 3,
            channels=("email",),
            topics_on=(topic,),
        )
        if i != 4:
            decisions.set_purpose(session, rel, Purpose.profiling, True, decisions.PORTAL)
        (consenting if i < 3 else others).append(person.id)
        customer.person_id = person.id
    outsider = make_person(session)  # a loyal customer, consenting, but not a champion
    rel = make_relationship(
        session,
        person=outsider,
        brand=brand,
        marketing=True,
        channels=("email",),
        topics_on=(topic,),
    )
    decisions.set_purpose(session, rel, Purpose.profiling, True, decisions.PORTAL)
    made[17].person_id = outsider.id
    session.flush()
    members = set(session.scalars(segments.segment_people(brand.id, "champions", AS_OF)))
    # The fifth champion did not grant profiling: never picked for being a champion.
    assert members == {*consenting, others[0]}

    campaign = campaigns.create(
        session,
        brand.id,
        CampaignCreate(
            name="For champions",
            topic_id=topic.id,
            subject="Thank you",
            text="A pressing for our best customers.",
            audience=Audience(kind="segment", segment="champions"),
        ),
        member_id=None,
    )
    preview = campaigns.preview(session, campaign)
    assert preview.total == 4
    assert preview.eligible == 3
    assert preview.excluded == {"no_marketing_consent": 1}


def test_an_unknown_segment_is_refused() -> None:
    with pytest.raises(ValueError, match="needs a segment"):
        Audience(kind="segment", segment="whales")
    with pytest.raises(ValueError):
        segments.segment_people(uuid.uuid4(), "whales")
