"""The analytics pages: the person's scores panel (shown only with profiling, withdrawn in one
click, scores gone at once) and the brand console (charts each followed by a table, groups
under 5 suppressed, the fit form with its errors beside the fields)."""

from __future__ import annotations

import os
import random
import re
import shutil
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any
from unittest.mock import patch

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from accord.analytics import snapshot
from accord.analytics.models import Customer, CustomerScore, ModelFit, Transaction
from accord.brands.models import Brand
from accord.core.permissions import Role
from accord.core.settings import Settings
from accord.demo import analytics_seed
from accord.demo.seed import seed
from accord.people.models import Person
from accord.relationships import decisions
from accord.relationships.vocabulary import Purpose
from tests.builders import PASSWORD, make_brand, make_member, make_relationship
from tests.helpers import csrf_of, sign_in_member
from tests.relationships.page_helpers import HTML, events, post, signed_in

CUTOFF = datetime(1997, 9, 30, tzinfo=UTC)


def fit_row(session: Session, brand: Brand, **over: Any) -> ModelFit:
    fit = ModelFit(
        brand_id=brand.id,
        model="bgnbd",
        params={"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426},
        log_likelihood=-9582.4,
        customers=2357,
        calibration_start=datetime(1997, 1, 1, tzinfo=UTC),
        cutoff=CUTOFF,
        options={"horizon_months": 12, "discount_monthly": 0.01, "currency": "USD"},
        **over,
    )
    session.add(fit)
    session.flush()
    return fit


def scored(session: Session, brand: Brand, person: Person, fit: ModelFit) -> CustomerScore:
    customer = Customer(brand_id=brand.id, external_id=f"c-{person.id}", person_id=person.id)
    session.add(customer)
    session.flush()
    score = CustomerScore(
        person_id=person.id,
        brand_id=brand.id,
        customer_id=customer.id,
        fit_id=fit.id,
        frequency=3,
        recency_weeks=20.0,
        age_weeks=38.0,
        average_spend=35.5,
        p_alive=0.87,
        expected_purchases=1.42,
        expected_spend=33.1,
        clv=123.45,
        rfm="455",
        segment="clv_top_10",
    )
    session.add(score)
    session.flush()
    return score


def panel_of(page: str) -> str:
    return page.split('id="scores"', 1)[1].split("</section>", 1)[0]


def test_a_consenting_person_sees_every_score_and_what_it_means(
    client: TestClient, session: Session
) -> None:
    me = signed_in(client, session)
    brand = make_brand(session, name="Groove Records")
    rel = make_relationship(session, person=me, brand=brand)
    decisions.set_purpose(session, rel, Purpose.profiling, True, decisions.PORTAL)
    scored(session, brand, me, fit_row(session, brand))
    panel = panel_of(client.get(f"/relationships/{brand.id}", headers=HTML).text)
    assert "Scores Groove Records holds about you" in panel
    assert '<th scope="col">What it means</th>' in panel
    for text in (
        "Customer lifetime value</th><td>123.45 USD",
        "Chance you are still a customer</th><td>87%",
        "Expected purchases</th><td>1.42",
        "Expected spend per purchase</th><td>33.10 USD",
        "Value group</th><td>Top 10% by lifetime value",
        "Purchase segment</th><td>Loyal (455)",
        "the next 12 months",
        "BG/NBD",
        "1997-09-30",
    ):
        assert text in panel, text
    assert 'action="/relationships/' + str(brand.id) + '/profiling/withdraw"' in panel


def test_without_profiling_the_panel_says_no_scores_are_held(
    client: TestClient, session: Session
) -> None:
    me = signed_in(client, session)
    brand = make_brand(session, name="Velo Cycles")
    make_relationship(session, person=me, brand=brand, marketing=True, channels=("email",))
    panel = panel_of(client.get(f"/relationships/{brand.id}", headers=HTML).text)
    assert "holds no individual scores about you" in panel
    assert "have not allowed profiling" in panel
    assert "<table" not in panel and "withdraw" not in panel


def test_withdrawing_profiling_from_the_panel_deletes_the_scores(
    client: TestClient, session: Session
) -> None:
    me = signed_in(client, session)
    brand = make_brand(session, name="Groove Records")
    rel = make_relationship(session, person=me, brand=brand)
    decisions.set_purpose(session, rel, Purpose.profiling, True, decisions.PORTAL)
    scored(session, brand, me, fit_row(session, brand))
    path = f"/relationships/{brand.id}/profiling/withdraw"
    refused = client.post(path, data={}, headers=HTML, follow_redirects=False)
    assert refused.status_code == 403  # no CSRF token
    done = post(client, path, {}, f"/relationships/{brand.id}")
    assert done.status_code == 303
    assert done.headers["location"] == f"/relationships/{brand.id}#scores-h"
    session.expire_all()
    left = select(func.count()).select_from(CustomerScore).where(CustomerScore.person_id == me.id)
    assert session.scalar(left) == 0
    assert events(session, me.id)[-1]["action"] == "withdraw"
    page = client.get(f"/relationships/{brand.id}", headers=HTML).text
    assert "no longer holds any scores about you" in page
    assert "holds no individual scores about you" in panel_of(page)


def shop(session: Session, brand: Brand, customers: int = 150) -> None:
    """Customers who buy at their own rate and may drop out after each purchase (as the
    BG/NBD story goes), over 1997-1998, reproducibly."""
    rng = random.Random(7)
    start = datetime(1997, 1, 1, 12, tzinfo=UTC)
    end = datetime(1998, 6, 30, tzinfo=UTC)
    n = 0
    for k in range(customers):
        customer = Customer(brand_id=brand.id, external_id=f"s{k:03}")
        session.add(customer)
        session.flush()
        rate = rng.gammavariate(0.8, 1 / 30)  # purchases a day
        drop = rng.betavariate(0.8, 2.5)
        nu = rng.gammavariate(3.0, 1 / 45)  # spend heterogeneity, as Gamma-Gamma has it
        day = start + timedelta(days=rng.randrange(0, 84))
        days = [day]
        while rng.random() >= drop:
            day += timedelta(days=max(1.0, rng.expovariate(rate)))
            if day > end:
                break
            days.append(day)
        channels = ("web", "store") if k % 3 == 0 else ("web",)
        for i, when in enumerate(days):
            n += 1
            session.add(
                Transaction(
                    brand_id=brand.id,
                    customer_id=customer.id,
                    occurred_at=when,
                    amount=Decimal(str(round(1 + rng.gammavariate(4.0, 1 / nu), 2))),
                    currency="USD",
                    channel=channels[i % len(channels)],
                    order_id=f"shop-{n}",
                    product=rng.choice(["CD", "LP", "Box set"]),
                    cost=Decimal("6.00"),
                )
            )
    session.flush()


def console(client: TestClient, session: Session, role: Role = Role.analyst) -> Brand:
    brand = make_brand(session, name="Groove Records")
    member = make_member(session, brand=brand, role=role)
    sign_in_member(client, member.email, PASSWORD)
    return brand


def run_fit(client: TestClient, **fields: str) -> Any:
    data = {
        "csrf_token": csrf_of(client, "/console/analytics/fits"),
        "cutoff": "1997-09-30",
        "model": "bgnbd",
        "spend": "on",
        "horizon_months": "12",
        "margin_percent": "30",
        "discount_percent": "1",
        **fields,
    }
    return client.post("/console/analytics/fits", data=data, headers=HTML, follow_redirects=False)


def after(page: str, marker: str) -> str:
    return page.split(marker, 1)[1]


TABS = {
    "/equity": [],
    "/clv": [("clv-chart", "clv-table")],
    "/rfm": [("rfm-grid-chart", "rfm-grid-table"), ("segments-chart", "segments-table")],
    "/channels": [("channel-mix-chart", "channel-mix-table")],
    "/profitability": [
        ("profit-bands-chart", "profit-bands-table"),
        ("products-chart", "products-table"),
    ],
    "/fits": [("holdout-chart", "holdout-table")],
}


def test_every_tab_draws_its_charts_each_followed_by_its_table(
    client: TestClient, session: Session
) -> None:
    brand = console(client, session)
    shop(session, brand)
    done = run_fit(client)
    assert done.status_code == 303, done.text
    assert done.headers["location"] == "/console/analytics"
    overview = client.get("/console/analytics", headers=HTML)
    assert overview.status_code == 200
    text = overview.text
    assert 'href="/console/analytics" aria-current="page">Analytics</a>' in text
    assert 'href="/console/analytics" aria-current="page">Overview</a>' in text
    assert "The BG/NBD fit at 1997-09-30 is stored: 150 customers" in text
    tile = after(text, 'id="tile-equity"').split("</li>", 1)[0]
    assert re.search(r"[\d,]+\.\d\d USD", tile) and "at a 30% margin" in tile
    assert "<script>" not in text and "style=" not in text
    for tab, pairs in TABS.items():
        page = client.get(f"/console/analytics{tab}", headers=HTML)
        assert page.status_code == 200, tab
        text = page.text
        assert f'href="/console/analytics{tab}" aria-current="page">' in text, tab
        for chart, table in pairs:
            svg = re.search(rf'<svg role="img" aria-label="[^"]+"[^>]*id="{chart}"><title>', text)
            assert svg is not None, chart
            rest = text[svg.end() :]
            assert rest.index("</figure>") < rest.index(f'<table id="{table}">'), chart
            body = after(rest, f'<table id="{table}">').split("</table>", 1)[0]
            assert "<caption" in body and '<th scope="col">' in body, table
    equity = client.get("/console/analytics/equity", headers=HTML).text
    assert "Total customer equity" in equity and "did not converge" not in equity
    # One fit is one point: no line, but a sentence saying what a line needs.
    assert 'id="equity-one-fit"' in equity and 'id="equity-chart"' not in equity
    channels = client.get("/console/analytics/channels", headers=HTML).text
    assert re.search(r'id="channel-ratio">[^<]*<strong>\d+\.\d\d times</strong>', channels)
    assert "Spend (USD)" in channels


def test_tabs_read_what_the_fit_stored(client: TestClient, session: Session) -> None:
    brand = console(client, session)
    shop(session, brand)
    assert run_fit(client).status_code == 303
    client.get("/console/analytics", headers=HTML)  # the flash is shown once
    before = client.get("/console/analytics/rfm", headers=HTML).text
    # New purchases change nothing until the next fit: the figures are the fit's.
    customer = session.scalars(select(Customer).where(Customer.brand_id == brand.id)).first()
    assert customer is not None
    session.add(
        Transaction(
            brand_id=brand.id,
            customer_id=customer.id,
            occurred_at=datetime(1998, 7, 1, tzinfo=UTC),
            amount=Decimal("10.00"),
            currency="USD",
            order_id="late-1",
        )
    )
    session.flush()
    assert client.get("/console/analytics/rfm", headers=HTML).text == before


def test_missing_data_gets_an_empty_state_that_says_how_to_import_it(
    client: TestClient, session: Session
) -> None:
    brand = console(client, session)
    shop(session, brand)
    session.execute(
        update(Transaction)
        .where(Transaction.brand_id == brand.id)
        .values(channel=None, product=None, cost=None)
    )
    session.flush()
    assert run_fit(client).status_code == 303
    channels = client.get("/console/analytics/channels", headers=HTML).text
    assert 'id="channels-empty"' in channels and "<code>channel</code> column" in channels
    assert 'id="channel-mix-chart"' not in channels
    profit = client.get("/console/analytics/profitability", headers=HTML).text
    assert 'id="products-empty"' in profit and "<code>product</code> column" in profit
    assert 'id="costs-empty"' in profit and "(no product given)" not in profit


def test_before_any_fit_each_tab_says_so(client: TestClient, session: Session) -> None:
    console(client, session, Role.marketer)
    for tab in ["", *TABS]:
        text = client.get(f"/console/analytics{tab}", headers=HTML).text
        if tab != "/fits":
            assert "No fit yet" in text, tab
        assert 'action="/console/analytics/fits"' not in text, tab
    rates = client.get("/console/analytics/rates", headers=HTML).text
    assert 'id="rates-empty"' in rates


def test_groups_under_five_are_suppressed(client: TestClient, session: Session) -> None:
    brand = console(client, session, Role.marketer)
    shop(session, brand, customers=12)
    snapshot.store(session, brand.id, fit_row(session, brand).id)
    text = client.get("/console/analytics/rfm", headers=HTML).text
    grid = after(text, '<table id="rfm-grid-table">').split("</table>", 1)[0]
    assert "fewer than 5" in grid
    assert not re.search(r"<td>[1-4]</td>", grid)
    text = client.get("/console/analytics/profitability", headers=HTML).text
    bands = after(text, '<table id="profit-bands-table">').split("</table>", 1)[0]
    assert "Needs at least 50 customers" in bands


def test_the_fit_form_puts_each_error_beside_its_field(
    client: TestClient, session: Session
) -> None:
    brand = console(client, session)
    shop(session, brand, customers=8)
    bad_date = run_fit(client, cutoff="30/09/1997")
    assert bad_date.status_code == 422
    assert re.search(r'id="f-cutoff-error" role="alert">Enter a date as YYYY-MM-DD', bad_date.text)
    assert 'aria-current="page">Fits</a>' in bad_date.text
    assert 'value="30/09/1997"' in bad_date.text
    too_early = run_fit(client, cutoff="1990-01-01")
    assert too_early.status_code == 422
    assert re.search(r'id="f-cutoff-error" role="alert">No customers', too_early.text)
    margin = run_fit(client, margin_percent="0")
    assert re.search(r'id="f-margin_percent-error" role="alert">', margin.text)
    few = run_fit(client, cutoff="1997-01-05", spend="")
    assert few.status_code == 422
    assert re.search(r'id="f-(cutoff|model)-error" role="alert">(Too little|The BG/NBD)', few.text)
    assert session.scalar(select(func.count()).select_from(ModelFit)) == 0


def test_analytics_needs_its_permission(client: TestClient, session: Session) -> None:
    console(client, session, Role.support)
    assert client.get("/console/analytics", headers=HTML).status_code == 403
    marketer = TestClient(client.app)
    brand = make_brand(session)
    member = make_member(session, brand=brand, role=Role.marketer)
    sign_in_member(marketer, member.email, PASSWORD)
    assert run_fit(marketer).status_code == 403


def test_the_demo_seed_imports_cdnow_links_people_and_fits_once(
    session: Session, settings: Settings, tmp_path: Path
) -> None:
    sample = analytics_seed.cdnow_dir() / "CDNOW_sample.txt"
    if not sample.is_file():
        pytest.skip(f"no CDNOW sample at {sample}")
    # The 1/10 sample under the master's name keeps this test quick.
    shutil.copy(sample, tmp_path / analytics_seed.MASTER)
    with patch.dict(os.environ, {"ACCORD_CDNOW_DIR": str(tmp_path)}):
        first = seed(session, settings).analytics
        assert first is not None
        assert (first.imported, first.fitted) == (6919, True)
        assert first.linked >= 1 and first.scored >= 1
        fits = session.scalar(select(func.count()).select_from(ModelFit))
        again = seed(session, settings).analytics
    assert again is not None
    assert (again.imported, again.linked, again.fitted) == (0, 0, False)
    assert session.scalar(select(func.count()).select_from(ModelFit)) == fits
    costs = session.scalars(select(Transaction.cost).limit(3)).all()
    assert all(cost is not None for cost in costs)
    # Demo person 20 (Uma) allows Groove to profile her and is CDNOW customer 00021.
    uma = session.scalars(select(Person).where(Person.email == "uma@people.example")).one()
    linked = session.scalars(select(Customer).where(Customer.person_id == uma.id)).one()
    assert linked.external_id == analytics_seed.customer_id_for(20) == "00021"
    assert session.scalar(select(func.count()).where(CustomerScore.person_id == uma.id)) == 1


def test_without_cdnow_the_demo_says_so(
    session: Session, settings: Settings, tmp_path: Path
) -> None:
    messages: list[str] = []
    brand = make_brand(session)
    report = analytics_seed.seed_analytics(
        session, settings, brand, [], say=messages.append, directory=tmp_path
    )
    assert report.imported == 0 and not report.fitted
    assert messages and "No CDNOW data" in messages[0]
