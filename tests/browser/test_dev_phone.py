"""In a real Chromium, the whole STOP flow without a provider: a person verifies their phone
with the code the dev phone shows, texts STOP to the brand from the dev phone, gets the one
confirmation, sees SMS marketing off on their relationship page, and texts START to undo it."""

from __future__ import annotations

import re

from playwright.sync_api import Page, expect

from accord.sms import numbers
from tests.browser.conftest import LiveServer
from tests.browser.test_portal import sign_in
from tests.builders import make_brand, make_person, make_relationship, make_topic

EMAIL, PHONE, BRAND_NUMBER = "texter@example.com", "+13055550181", "+12025550100"


def test_stop_and_start_from_the_dev_phone(live: LiveServer, page: Page) -> None:
    with live.database.transaction() as session:
        brand = make_brand(session, name="Groove Records")
        numbers.register(session, brand.id, BRAND_NUMBER)
        topic = make_topic(session, brand=brand, name="New vinyl")
        person = make_person(session, email=EMAIL)
        make_relationship(
            session,
            person=person,
            brand=brand,
            marketing=True,
            channels=("sms",),
            topics_on=(topic,),
        )
        brand_id = brand.id
    sign_in(live, page, EMAIL)

    page.goto(live.url + "/contacts")
    page.get_by_role("textbox", name="Phone number").fill("(305) 555-0181")
    page.get_by_role("combobox", name="Country", exact=True).select_option("US")
    page.get_by_role("button", name="Add phone number").click()
    page.get_by_role("link", name="dev phone").click()
    expect(page.get_by_role("heading", name=f"Phone {PHONE}")).to_be_visible()
    code_text = page.locator(".sms-body").filter(has_text="Your Accord code is").first.inner_text()
    code = re.search(r"\d{6}", code_text)
    assert code is not None
    page.goto(live.url + "/contacts")
    page.get_by_label("Code sent to +1 305-555-0181").fill(code.group(0))
    page.get_by_role("button", name=f"Verify {PHONE}").click()
    expect(page.get_by_text("Your phone number is verified.")).to_be_visible()

    sms_marketing = f"{live.url}/relationships/{brand_id}"
    page.goto(sms_marketing)
    expect(page.locator("#c-channel-marketing-sms")).to_be_checked()

    page.goto(f"{live.url}/dev/phone/{PHONE}")
    page.get_by_label("To").select_option(BRAND_NUMBER)
    page.get_by_label("Text", exact=True).fill("Stop texting me please")
    page.get_by_role("button", name="Send text").click()
    expect(page.get_by_text("Accord read it as stop: withdrawn.")).to_be_visible()
    confirmation = page.locator(".sms-body").filter(has_text="no more marketing texts")
    expect(confirmation).to_have_count(1)
    expect(confirmation).to_have_text(
        "Groove Records: you will get no more marketing texts from us. "
        "Reply START to get them again."
    )
    page.goto(sms_marketing)
    expect(page.locator("#c-channel-marketing-sms")).not_to_be_checked()

    page.goto(f"{live.url}/dev/phone/{PHONE}")
    page.get_by_label("Text", exact=True).fill("START")
    page.get_by_role("button", name="Send text").click()
    expect(page.get_by_text("Accord read it as start: granted.")).to_be_visible()
    page.goto(sms_marketing)
    expect(page.locator("#c-channel-marketing-sms")).to_be_checked()
