"""In a real Chromium: the sign-up pickers take the browser's time zone and language, the
search box narrows a list and picks what it finds, and the page passes axe."""

from __future__ import annotations

from playwright.sync_api import Browser, expect

from tests.browser.conftest import LiveServer
from tests.browser.test_accessibility import violations


def test_pickers_default_from_the_browser_and_search(live: LiveServer, browser: Browser) -> None:
    context = browser.new_context(timezone_id="America/New_York", locale="de-DE")
    refused: list[str] = []
    try:
        page = context.new_page()
        page.on(
            "console",
            lambda m: refused.append(m.text) if "Content Security Policy" in m.text else None,
        )
        page.goto(live.url + "/signup")
        zone = page.get_by_role("combobox", name="Time zone")
        expect(zone).to_have_value("America/New_York")
        expect(page.get_by_role("combobox", name="Language")).to_have_value("de")

        page.get_by_label("Search time zone").fill("lisbon")
        expect(zone).to_have_value("Europe/Lisbon")
        expect(page.get_by_text("1 found")).to_be_visible()
        assert zone.locator("option").count() == 1
        assert violations(page) == []

        page.get_by_label("E-mail address").fill("picker.browser@example.com")
        page.get_by_role("button", name="Send me a sign-in link").click()
        expect(page.get_by_role("heading", name="Check your inbox")).to_be_visible()
    finally:
        context.close()
    assert refused == []
    with live.database.session() as session:
        from sqlalchemy import select

        from accord.people.models import Person

        person = session.scalars(
            select(Person).where(Person.email == "picker.browser@example.com")
        ).one()
        assert (person.time_zone, person.locale) == ("Europe/Lisbon", "de")
