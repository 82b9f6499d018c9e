"""In a real Chromium: a person signs up through the dev mailbox; a member creates an API key."""

from __future__ import annotations

import re

from playwright.sync_api import Page, expect

from accord.core.permissions import Role
from tests.browser.conftest import LiveServer
from tests.builders import PASSWORD, make_brand, make_member


def test_person_signs_up_and_follows_the_link_from_the_dev_mailbox(
    live: LiveServer, page: Page
) -> None:
    page.goto(live.url + "/")
    page.get_by_role("link", name="Create an account").first.click()
    page.get_by_label("E-mail address").fill("browser.person@example.com")
    page.get_by_label("Your name (optional)").fill("Browser Person")
    page.get_by_role("combobox", name="Time zone").select_option("Europe/Lisbon")
    page.get_by_role("button", name="Send me a sign-in link").click()
    expect(page.get_by_role("heading", name="Check your inbox")).to_be_visible()

    page.get_by_role("link", name="dev mailbox", exact=True).click()
    page.get_by_role("link", name="Your Accord sign-in link").first.click()
    page.locator("pre.mail-text a").first.click()
    page.get_by_role("button", name="Sign me in").click()

    expect(page).to_have_url(re.compile(r"/home$"))
    expect(page.get_by_role("heading", name="Hello, Browser Person")).to_be_visible()
    expect(page.get_by_text("browser.person@example.com").first).to_be_visible()
    expect(page.get_by_text("verified", exact=True)).to_be_visible()


def test_a_form_error_sits_by_its_field_and_keeps_what_was_typed(
    live: LiveServer, page: Page
) -> None:
    page.goto(live.url + "/signup")
    page.get_by_label("E-mail address").fill("typo@example.com")
    page.get_by_label("Your name (optional)").fill("Kept Name")
    # A value the list lacks, as a hand-made request would send it.
    page.locator("#f-time_zone").evaluate(
        "s => { s.add(new Option('Europe/Atlantis', 'Europe/Atlantis'));"
        " s.value = 'Europe/Atlantis'; }"
    )
    page.get_by_role("button", name="Send me a sign-in link").click()
    zone = page.get_by_role("combobox", name="Time zone")
    expect(zone).to_have_value("Europe/Atlantis")
    expect(zone).to_have_attribute("aria-invalid", "true")
    expect(page.locator("#f-time_zone-error")).to_contain_text(
        "Choose your time zone from the list"
    )
    expect(page.get_by_label("Your name (optional)")).to_have_value("Kept Name")
    expect(page.get_by_label("E-mail address")).to_have_value("typo@example.com")


def test_member_signs_in_and_creates_an_api_key(live: LiveServer, page: Page) -> None:
    with live.database.transaction() as session:
        brand = make_brand(session, name="Browser Brand")
        member = make_member(session, brand=brand, role=Role.owner)
        email = member.email
    page.goto(live.url + "/console/signin")
    page.get_by_label("E-mail address").first.fill(email)
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_role("button", name="Sign in", exact=True).click()
    expect(page.get_by_role("heading", name="Browser Brand", exact=True)).to_be_visible()

    page.get_by_role("link", name="API keys").click()
    page.get_by_label("Name").fill("browser key")
    page.get_by_role("button", name="Create key").click()
    secret = page.locator("#new-key")
    expect(secret).to_contain_text("acc_")
    expect(page.get_by_role("cell", name="browser key", exact=True)).to_be_visible()

    page.get_by_role("link", name="API keys").click()
    expect(page.get_by_role("cell", name="browser key", exact=True)).to_be_visible()
    expect(page.locator("#new-key")).to_have_count(0)


def test_keyboard_user_can_skip_to_content(live: LiveServer, page: Page) -> None:
    page.goto(live.url + "/")
    page.keyboard.press("Tab")
    skip = page.get_by_role("link", name="Skip to main content")
    expect(skip).to_be_focused()
    page.keyboard.press("Enter")
    expect(page.locator("main#main")).to_be_focused()
