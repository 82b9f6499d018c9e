"""In a real Chromium: a decision opens as its receipt page, Verify checks it on the server,
and the checked page and the pasted-receipt check pass axe."""

from __future__ import annotations

from playwright.sync_api import Page, expect

from tests.browser.conftest import LiveServer
from tests.browser.test_accessibility import violations
from tests.browser.test_portal import a_person_with_a_brand, sign_in


def test_a_receipt_page_verifies_and_passes_axe(live: LiveServer, page: Page) -> None:
    a_person_with_a_brand(live, "receipt.page@example.com", "Receipt Cycles")
    sign_in(live, page, "receipt.page@example.com")
    page.get_by_role("navigation", name="Main").get_by_role("link", name="History").click()
    page.get_by_role("link", name="You granted marketing to Receipt Cycles").click()
    expect(page.get_by_role("heading", name="Receipt for decision 2")).to_be_visible()
    expect(page.get_by_text("Not checked yet.")).to_be_visible()
    page.get_by_role("button", name="Verify").click()
    expect(page.get_by_text("Valid: every check passed.")).to_be_visible()
    assert violations(page) == []

    page.get_by_role("link", name="Check a receipt you kept").click()
    page.get_by_role("button", name="Check the receipt").click()
    expect(page.locator("#f-receipt-error")).to_contain_text("Paste the receipt you kept")
    assert violations(page) == []
