"""Customer and product profitability, channel mix and weekly rates in SQL, checked against
small examples worked out by hand, with groups under 5 kept out."""

from __future__ import annotations

import itertools
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from sqlalchemy.orm import Session

from accord.analytics import profitability, rates
from accord.analytics.models import Customer, Transaction
from accord.brands.models import Brand
from accord.outbox.models import DeliveryEvent, OutboxMessage
from accord.people.models import Person
from accord.relationships.models import Topic
from tests.builders import make_brand, make_person, make_topic

_seq = itertools.count(1)
DAY = datetime(2024, 3, 4, 12, tzinfo=UTC)


def customer(session: Session, brand: Brand, person: Person | None = None) -> Customer:
    row = Customer(
        brand_id=brand.id, external_id=f"x{next(_seq)}", person_id=person.id if person else None
    )
    session.add(row)
    session.flush()
    return row


def buy(
    session: Session,
    who: Customer,
    amount: float,
    cost: float | None = None,
    *,
    product: str | None = None,
    channel: str | None = "web",
    refund: bool = False,
) -> None:
    session.add(
        Transaction(
            brand_id=who.brand_id,
            customer_id=who.id,
            occurred_at=DAY,
            amount=Decimal(str(amount)),
            currency="USD",
            channel=channel,
            order_id=f"o{next(_seq)}",
            product=product,
            cost=None if cost is None else Decimal(str(cost)),
            is_refund=refund,
        )
    )
    session.flush()


def message(
    session: Session,
    brand: Brand,
    person: Person,
    topic: Topic,
    channel: str = "email",
    *,
    state: str = "sent",
    sent_at: datetime = DAY,
) -> OutboxMessage:
    row = OutboxMessage(
        brand_id=brand.id,
        person_id=person.id,
        topic_id=topic.id,
        channel=channel,
        purpose=topic.purpose,
        idempotency_key=f"k{next(_seq)}",
        state=state,
        sent_at=sent_at if state == "sent" else None,
    )
    session.add(row)
    session.flush()
    return row


def test_customer_profit_is_revenue_less_cost_less_messages(session: Session) -> None:
    brand = make_brand(session)
    topic = make_topic(session, brand=brand)
    pa = make_person(session)
    a = customer(session, brand, pa)
    buy(session, a, 30, 20, product="LP")
    buy(session, a, 10, 4, product="CD")
    buy(session, a, 10, 4, product="CD", refund=True)
    for _ in range(3):
        message(session, brand, pa, topic, "email")
    message(session, brand, pa, topic, "sms")
    message(session, brand, pa, topic, "email", state="skipped")
    b = customer(session, brand)
    buy(session, b, 50, 30, product="LP")
    c = customer(session, brand)
    buy(session, c, 5, 8, product="CD")
    other = make_brand(session)
    buy(session, customer(session, other), 1000, 1)

    rows = {
        r.external_id: r
        for r in session.execute(profitability.customer_profit_select(brand.id)).all()
    }
    assert float(rows[a.external_id].revenue) == pytest.approx(30)
    assert float(rows[a.external_id].cost) == pytest.approx(20)
    assert rows[a.external_id].messages == 4
    assert float(rows[a.external_id].profit) == pytest.approx(30 - 20 - 0.053)
    assert float(rows[b.external_id].profit) == pytest.approx(20)
    assert float(rows[c.external_id].profit) == pytest.approx(-3)

    summary = profitability.customer_profitability(session, brand.id)
    assert (summary.customers, summary.messages) == (3, 4)
    assert (summary.revenue, summary.cost) == (pytest.approx(85), pytest.approx(58))
    assert summary.message_cost == pytest.approx(0.053)
    assert summary.profit == pytest.approx(85 - 58 - 0.053)
    assert (summary.profitable, summary.unprofitable) == (2, 1)
    cheap = profitability.customer_profitability(session, brand.id, {"email": 0.01})
    assert cheap.message_cost == pytest.approx(0.03)


def test_profit_deciles_need_five_customers_a_band(session: Session) -> None:
    brand = make_brand(session)
    for k in range(1, 51):
        buy(session, customer(session, brand), k + 1, 1)
    bands = profitability.profit_deciles(session, brand.id)
    assert [b.band for b in bands] == list(range(10, 0, -1))
    assert bands[0].customers == 5 and bands[0].profit == pytest.approx(46 + 47 + 48 + 49 + 50)
    assert bands[0].cumulative_share == pytest.approx(240 / 1275)
    assert bands[-1].cumulative_share == pytest.approx(1.0)

    few = make_brand(session)
    for k in range(49):
        buy(session, customer(session, few), k + 2, 1)
    assert profitability.profit_deciles(session, few.id) == []


def test_product_profit_pools_products_with_few_buyers(session: Session) -> None:
    brand = make_brand(session)
    buyers = [customer(session, brand) for _ in range(5)]
    for who in buyers:
        buy(session, who, 100, 60, product="Box set")
    for who in buyers[:3]:
        buy(session, who, 10, 4, product="CD")
    for who in buyers[3:]:
        buy(session, who, 15, 5, product="Poster")
    found = profitability.product_profitability(session, brand.id)
    assert [(p.product, p.buyers, p.revenue, p.cost) for p in found] == [
        ("Box set", 5, 500, 300),
        (profitability.OTHER_PRODUCTS, 5, 60, 22),
    ]
    assert found[0].profit == 200 and found[0].margin == pytest.approx(0.4)

    lonely = make_brand(session)
    buy(session, customer(session, lonely), 10, 2, product="Rare LP")
    assert profitability.product_profitability(session, lonely.id) == []


def test_channel_mix_compares_multichannel_with_single_channel_spend(session: Session) -> None:
    brand = make_brand(session)
    for _ in range(5):
        buy(session, customer(session, brand), 10, channel="web")
    for _ in range(5):
        who = customer(session, brand)
        buy(session, who, 20, channel="web")
        buy(session, who, 15, channel="store")
    for _ in range(2):
        buy(session, customer(session, brand), 99, channel=None)
    mix = profitability.channel_mix(session, brand.id)
    assert [(r.channels, r.customers, r.average_spend) for r in mix.rows] == [
        (0, None, None),
        (1, 5, pytest.approx(10)),
        (2, 5, pytest.approx(35)),
    ]
    assert mix.ratio == pytest.approx(3.5)


def test_weekly_rates_by_channel_and_topic(session: Session) -> None:
    brand = make_brand(session)
    topic = make_topic(session, brand=brand, name="Jazz news")
    people = [make_person(session) for _ in range(11)]
    monday = datetime(2024, 1, 1, 9, tzinfo=UTC)
    sent = [message(session, brand, p, topic, sent_at=monday) for p in people[:10]]
    message(session, brand, people[10], topic, sent_at=datetime(2024, 1, 7, 23, 30, tzinfo=UTC))
    message(session, brand, people[10], topic, state="skipped")
    for row, kind in [
        (sent[0], "replied"),
        (sent[1], "unsubscribed"),
        (sent[2], "unsubscribed"),
        (sent[2], "opted_out"),
        (sent[2], "unsubscribed"),  # twice for one message counts once
    ]:
        session.add(
            DeliveryEvent(brand_id=brand.id, message_id=row.id, person_id=row.person_id, kind=kind)
        )
    texts = [
        message(session, brand, p, topic, "sms", sent_at=datetime(2024, 1, 9, tzinfo=UTC))
        for p in people[:4]
    ]
    session.add(DeliveryEvent(brand_id=brand.id, message_id=texts[0].id, kind="bounced"))
    session.flush()

    rows = rates.rates_by_week(session, brand.id)
    assert [(r.week, r.channel, r.topic, r.sent) for r in rows] == [
        (date(2024, 1, 1), "email", "Jazz news", 11),
        (date(2024, 1, 8), "sms", "Jazz news", 4),
    ]
    email, sms = rows
    assert email.events == {
        "replied": 1,
        "unsubscribed": 2,
        "opted_out": 1,
        "complained": 0,
        "bounced": 0,
    }
    assert email.rate("unsubscribed") == pytest.approx(2 / 11)
    assert email.rate("replied") == pytest.approx(1 / 11)
    assert sms.events["bounced"] == 1 and sms.rate("bounced") is None  # 4 messages: not shown
    weekly = rates.rates_by_week(session, brand.id, by_channel_and_topic=False)
    assert [(r.week, r.sent) for r in weekly] == [(date(2024, 1, 1), 11), (date(2024, 1, 8), 4)]
    assert rates.totals(rows).sent == 15
