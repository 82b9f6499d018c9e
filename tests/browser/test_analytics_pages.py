"""In a real Chromium: an analyst reads the analytics overview (charts with their tables) and
runs a fit; a person finds the brand's scores about them and withdraws profiling."""

from __future__ import annotations

import re
from datetime import date

from playwright.sync_api import Page, expect
from sqlalchemy import select, update

from accord.analytics import service
from accord.analytics.models import Customer
from accord.core.permissions import Role
from accord.relationships import decisions
from accord.relationships.vocabulary import Purpose
from tests.analytics.test_analytics_pages import shop
from tests.browser.conftest import LiveServer
from tests.browser.test_portal import sign_in
from tests.builders import PASSWORD, make_brand, make_member, make_person, make_relationship

ANALYST = "analyst@browser-records.example"
PERSON = "scored.person@example.com"


def a_brand_with_a_fit(live: LiveServer) -> str:
    with live.database.transaction() as session:
        brand = make_brand(session, name="Browser Records")
        make_member(session, brand=brand, role=Role.analyst, email=ANALYST)
        shop(session, brand)
        person = make_person(session, email=PERSON)
        rel = make_relationship(session, person=person, brand=brand)
        decisions.set_purpose(session, rel, Purpose.profiling, True, decisions.PORTAL)
        first = session.scalars(
            select(Customer.id).where(Customer.brand_id == brand.id).order_by(Customer.external_id)
        ).first()
        session.execute(update(Customer).where(Customer.id == first).values(person_id=person.id))
        service.fit(session, brand.id, cutoff=date(1997, 9, 30))
        return str(brand.id)


def test_analyst_reads_the_overview_and_a_person_withdraws_profiling(
    live: LiveServer, page: Page
) -> None:
    brand_id = a_brand_with_a_fit(live)
    page.goto(live.url + "/console/signin")
    page.get_by_label("E-mail address").first.fill(ANALYST)
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_role("button", name="Sign in", exact=True).click()
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Analytics").click()
    expect(page.get_by_role("heading", name="Analytics", level=1)).to_be_visible()
    tabs = page.get_by_role("navigation", name="Analytics sections")
    expect(tabs.get_by_role("link", name="Overview")).to_have_attribute("aria-current", "page")
    expect(page.locator("#tile-equity")).to_contain_text("USD")

    for tab, chart, table in [
        ("Equity", None, "Customer equity per stored fit: the data"),
        (
            "Lifetime value",
            "Average customer lifetime value per CLV band",
            "CLV distribution by band: the data",
        ),
        (
            "RFM and segments",
            "Customers by recency (R) and frequency (F) score",
            "Customers by R and F score",
        ),
        ("Fits", "Cumulative repeat purchases", "Fits of Browser Records"),
    ]:
        tabs.get_by_role("link", name=tab).click()
        expect(tabs.get_by_role("link", name=tab)).to_have_attribute("aria-current", "page")
        if chart:
            expect(page.get_by_role("img", name=re.compile(re.escape(chart)))).to_be_visible()
        expect(page.get_by_role("table", name=re.compile(re.escape(table)))).to_be_visible()

    page.get_by_role("textbox", name=re.compile("^Cut-off date")).fill("1997-12-31")
    page.get_by_label("Purchase model").select_option("paretonbd")
    page.get_by_role("button", name="Run the fit").click()
    expect(
        page.get_by_text(re.compile(r"The Pareto/NBD fit at 1997-12-31 is stored"))
    ).to_be_visible()
    tabs.get_by_role("link", name="Equity").click()
    expect(
        page.get_by_role("img", name=re.compile("Customer equity per stored fit"))
    ).to_be_visible()
    equity = page.get_by_role("table", name=re.compile("Customer equity per stored fit"))
    expect(equity.get_by_role("row")).to_have_count(3)  # the header and two fits

    sign_in(live, page, PERSON)
    page.goto(f"{live.url}/relationships/{brand_id}")
    panel = page.get_by_role("region", name="Scores Browser Records holds about you")
    expect(panel).to_be_visible()
    scores = panel.get_by_role("table", name=re.compile("Every score Browser Records holds"))
    expect(scores.get_by_role("row", name=re.compile("Customer lifetime value"))).to_be_visible()
    expect(scores).to_contain_text("Chance you are still a customer")
    panel.get_by_role("button", name="Withdraw profiling and delete these scores").click()
    expect(page.get_by_text(re.compile("Profiling is withdrawn"))).to_be_visible()
    expect(
        page.get_by_role("region", name="Scores Browser Records holds about you")
    ).to_contain_text("holds no individual scores about you")
    expect(page.get_by_role("checkbox", name="Profiling")).not_to_be_checked()
