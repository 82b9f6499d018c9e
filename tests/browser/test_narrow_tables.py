"""In a real Chromium at phone width: tables scroll in their own named box (which takes the
keyboard focus), never the whole page."""

from __future__ import annotations

from playwright.sync_api import Page, expect

from tests.browser.conftest import LiveServer
from tests.browser.test_portal import a_person_with_a_brand, sign_in


def test_tables_scroll_in_their_own_box_at_390_px(live: LiveServer, page: Page) -> None:
    a_person_with_a_brand(live, "narrow.tables@example.com", "A Brand With A Rather Long Name Ltd")
    sign_in(live, page, "narrow.tables@example.com")
    page.set_viewport_size({"width": 390, "height": 800})
    for path in ("/home", "/history", "/contacts"):
        page.goto(live.url + path)
        boxes = page.locator("main .table-scroll")
        expect(boxes.first).to_be_attached()
        for n in range(boxes.count()):
            expect(boxes.nth(n)).to_have_attribute("tabindex", "0")
        assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth"), path
    expect(page.get_by_role("button", name="Menu")).to_be_visible()
