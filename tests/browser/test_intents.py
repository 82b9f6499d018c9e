"""In a real Chromium: a person publishes an intent, two brands offer, the person compares the
offers side by side and accepts one; that brand sees who the person is, the other does not."""

from __future__ import annotations

import re
from datetime import timedelta

from playwright.sync_api import Browser, Page, expect

from accord.core.db import utcnow
from accord.core.permissions import Role
from tests.browser.conftest import LiveServer
from tests.browser.test_portal import sign_in
from tests.builders import PASSWORD, make_member, make_person
from tests.intents.world import ready_brand

PERSON = "intent.person@example.com"


def member_page(browser: Browser, live: LiveServer, email: str) -> Page:
    context = browser.new_context()
    context.set_default_timeout(15_000)
    page = context.new_page()
    page.goto(live.url + "/console/signin")
    page.get_by_label("E-mail address").first.fill(email)
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_role("button", name="Sign in", exact=True).click()
    expect(page).to_have_url(re.compile(r"/console$"))
    return page


def offer(page: Page, live: LiveServer, pseudonym: str, price: str) -> None:
    page.goto(live.url + "/console/intents")
    page.get_by_role("link", name=pseudonym, exact=True).click()
    page.get_by_label("Price").fill(price)
    page.get_by_label("What you offer").fill(f"A cargo bike for {price} euros, delivered.")
    page.get_by_role("button", name="Send offer").click()
    expect(page.get_by_text("Offer sent.")).to_be_visible()


def test_publish_two_offers_compare_and_accept_one(
    live: LiveServer, page: Page, browser: Browser
) -> None:
    with live.database.transaction() as session:
        members = []
        for name in ("Lastenrad Nord", "Cargo Süd"):
            brand = ready_brand(session, name=name)
            members.append(make_member(session, brand=brand, role=Role.marketer).email)
        make_person(session, email=PERSON, display_name="Hedy Lamarr")

    sign_in(live, page, PERSON)
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Intents").click()
    expect(page.get_by_role("heading", name="Intents", level=1)).to_be_visible()
    page.get_by_label("Category").select_option("bicycles")
    page.get_by_label("What you want").fill("A cargo bike that carries two children.")
    page.get_by_label("Budget from").fill("1500")
    page.get_by_label("Budget up to").fill("3000")
    page.get_by_label("Currency").fill("EUR")
    page.get_by_label("Offers wanted until").fill(
        (utcnow().date() + timedelta(days=20)).isoformat()
    )
    page.get_by_label("Country").fill("DE")
    page.get_by_label("Region (optional)").fill("DE-HH")
    page.get_by_role("checkbox", name="No stalking").check()
    page.get_by_role("button", name="Publish").click()
    notice = page.get_by_text(re.compile(r"Published as Shopper [A-Z0-9]{4}-[A-Z0-9]{4}"))
    expect(notice).to_be_visible()
    pseudonym = re.search(r"Shopper [A-Z0-9]{4}-[A-Z0-9]{4}", notice.inner_text())
    assert pseudonym is not None
    intent_url = page.url

    chosen, passed = (member_page(browser, live, email) for email in members)
    for brand_page in (chosen, passed):
        listing = brand_page.goto(live.url + "/console/intents")
        assert listing is not None and "Hedy" not in listing.text() and PERSON not in listing.text()
    offer(chosen, live, pseudonym.group(0), "2400")
    offer(passed, live, pseudonym.group(0), "2200")

    page.goto(intent_url)
    table = page.locator("#offers")
    expect(table.get_by_role("row")).to_have_count(3)  # a header and two offers
    expect(table).to_contain_text("Lastenrad Nord")
    expect(table).to_contain_text("Cargo Süd")
    expect(table.get_by_role("row").nth(1)).to_contain_text("2200")  # cheapest first
    page.get_by_role("button", name="Accept Lastenrad Nord's offer").click()
    expect(page.get_by_text(re.compile("You accepted Lastenrad Nord's offer"))).to_be_visible()
    expect(page.locator("#intent-state")).to_have_text("closed")

    chosen.reload()
    expect(chosen.get_by_role("heading", name="They chose your offer")).to_be_visible()
    expect(chosen.locator("#customer")).to_contain_text("Hedy Lamarr")
    expect(chosen.locator("#customer")).to_contain_text(PERSON)
    passed.reload()
    expect(passed.locator("#intent-state")).to_have_text("closed")
    expect(passed.get_by_role("heading", name="They chose your offer")).to_have_count(0)
    body = passed.content()
    assert "Hedy" not in body and PERSON not in body
    chosen.context.close()
    passed.context.close()
