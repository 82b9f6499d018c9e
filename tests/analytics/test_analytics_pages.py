"""The analytics pages: the person's scores panel (shown only with profiling, withdrawn in one
click, scores gone at once) and the brand console (charts each followed by a table, groups
under 5 suppressed, the fit form with its errors beside the fields)."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from accord.analytics.models import Customer, CustomerScore, ModelFit, Transaction
from accord.brands.models import Brand
from accord.core.permissions import Role
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
        segment="loyal",
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
        "Segment</th><td>Loyal",
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
