"""In a real Chromium: a marketer finds the saved segments from Campaigns, sees how many people
each holds, deletes one after confirming; both pages pass axe at both widths."""

from __future__ import annotations

from playwright.sync_api import Page, expect

from accord.campaigns import saved_segments
from accord.core.permissions import Role
from accord.relationships import decisions
from tests.browser.conftest import LiveServer
from tests.browser.test_accessibility import WIDTHS, violations
from tests.builders import PASSWORD, make_brand, make_member, make_person, make_relationship


def no_violations(page: Page) -> None:
    problems = []
    for width in WIDTHS:
        page.set_viewport_size({"width": width, "height": 900})
        problems += [f"{page.url} at {width}px: {v}" for v in violations(page)]
    assert not problems, "\n".join(problems)


def test_a_marketer_lists_and_deletes_a_saved_segment(live: LiveServer, page: Page) -> None:
    with live.database.transaction() as session:
        brand = make_brand(session, name="Segment Records")
        marketer = make_member(session, brand=brand, role=Role.marketer).email
        for n in range(3):
            rel = make_relationship(session, person=make_person(session), brand=brand)
            if n < 2:
                decisions.share(session, rel, {"city": "Lisbon"}, decisions.PORTAL)
        saved_segments.save(
            session, brand.id, "Lisbon fans", {"kind": "filter", "filter": {"city": "Lisbon"}}
        )
        saved_segments.save(
            session, brand.id, "Best buyers", {"kind": "segment", "segment": "champions"}
        )

    page.goto(live.url + "/console/signin")
    page.get_by_label("E-mail address").first.fill(marketer)
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_role("button", name="Sign in", exact=True).click()
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Campaigns").click()
    page.get_by_role("link", name="Saved segments").click()
    expect(page.get_by_role("heading", name="Saved segments", level=1)).to_be_visible()
    lisbon = page.get_by_role("row").filter(has_text="Lisbon fans")
    expect(lisbon).to_contain_text("city is Lisbon")
    expect(lisbon.locator("td.num")).to_have_text("2 people now")
    no_violations(page)

    page.set_viewport_size({"width": 1280, "height": 900})
    lisbon.get_by_role("link", name="Delete the segment Lisbon fans").click()
    expect(page.get_by_role("heading", name="Delete the segment “Lisbon fans”?")).to_be_visible()
    no_violations(page)
    page.set_viewport_size({"width": 1280, "height": 900})
    page.get_by_role("link", name="No, keep it").click()
    expect(page.get_by_role("row").filter(has_text="Lisbon fans")).to_have_count(1)

    page.get_by_role("row").filter(has_text="Lisbon fans").get_by_role("link").click()
    page.get_by_role("button", name="Delete the segment").click()
    expect(page.get_by_text("The segment 'Lisbon fans' is deleted.")).to_be_visible()
    expect(page.get_by_role("row").filter(has_text="Lisbon fans")).to_have_count(0)
    expect(page.get_by_role("row").filter(has_text="Best buyers")).to_have_count(1)
