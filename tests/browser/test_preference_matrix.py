"""In a real Chromium: the relationship page's topic by channel matrix. Rows stay grey until
their purpose is allowed, a topic's cells follow the switches, the summary says what the brand
may do after Save, Pause and Resume sit beside the state; the same form works without
JavaScript."""

from __future__ import annotations

from playwright.sync_api import Browser, Page, expect

from tests.browser.conftest import LiveServer
from tests.browser.test_portal import sign_in
from tests.builders import make_brand, make_person, make_relationship, make_topic

GREY = "rgb(244, 245, 247)"  # --wash


def a_person_following(live: LiveServer, email: str, brand_name: str) -> None:
    with live.database.transaction() as session:
        brand = make_brand(session, name=brand_name)
        make_topic(session, brand=brand, name="New releases")
        make_topic(session, brand=brand, name="Order updates", purpose="transactional")
        person = make_person(session, email=email)
        make_relationship(session, person=person, brand=brand)


def background(page: Page, topic: str) -> str:
    row = page.locator("tr.topic-row").filter(has_text=topic).locator("th")
    found: str = row.evaluate("el => getComputedStyle(el).backgroundColor")
    return found


def test_the_matrix_greys_rows_follows_switches_and_saves(live: LiveServer, page: Page) -> None:
    a_person_following(live, "matrix.person@example.com", "Groove Records")
    sign_in(live, page, "matrix.person@example.com")
    page.get_by_role("link", name="Groove Records").first.click()
    expect(page.get_by_role("heading", name="Groove Records", level=1)).to_be_visible()
    expect(page.locator("#summary")).to_have_text(
        "Groove Records may send you no marketing; only messages about what you asked for."
    )

    # Marketing is not allowed: its topic row is grey and says why; transactional is on.
    assert background(page, "New releases") == GREY
    expect(page.get_by_text("Off until you allow marketing.")).to_be_visible()
    transactional = page.locator("tr.topic-row").filter(has_text="Order updates")
    expect(transactional.get_by_text("Always on")).to_be_visible()
    expect(transactional.get_by_role("checkbox")).to_have_count(0)

    page.get_by_role("checkbox", name="Marketing", exact=True).check()
    assert background(page, "New releases") != GREY
    expect(page.get_by_text("Off until you allow marketing.")).to_be_hidden()

    cell = page.locator("tr.topic-row").filter(has_text="New releases").locator("td.reach").first
    expect(cell).to_contain_text("New releases by E-mail: no")
    page.get_by_role("checkbox", name="New releases").check()
    page.get_by_role("checkbox", name="Marketing by e-mail").check()
    expect(cell).to_contain_text("New releases by E-mail: yes")
    expect(cell.locator(".reach-mark")).to_have_text("✓")

    page.get_by_label("At most this many marketing messages a week").fill("2")
    page.get_by_role("button", name="Save", exact=True).click()
    expect(page.get_by_text("Your choices are saved.")).to_be_visible()
    expect(page.locator("#summary")).to_have_text(
        "Groove Records may e-mail you about New releases, at most 2 a week."
    )
    expect(page.get_by_role("checkbox", name="Marketing by e-mail")).to_be_checked()

    page.get_by_role("button", name="Pause now").click()
    expect(page.locator("main .state-paused").first).to_have_text("paused")
    expect(page.locator("#summary")).to_contain_text("Groove Records is paused")
    page.get_by_role("button", name="Resume now").click()
    expect(page.get_by_text("The relationship is active again.")).to_be_visible()
    expect(page.get_by_role("button", name="Pause now")).to_be_visible()


def test_the_matrix_works_without_javascript(live: LiveServer, browser: Browser) -> None:
    a_person_following(live, "nojs.person@example.com", "Quiet Records")
    context = browser.new_context(java_script_enabled=False)
    try:
        page = context.new_page()
        sign_in(live, page, "nojs.person@example.com")
        page.get_by_role("link", name="Quiet Records").first.click()
        page.get_by_role("checkbox", name="Marketing", exact=True).check()
        page.get_by_role("checkbox", name="New releases").check()
        page.get_by_role("checkbox", name="Marketing by SMS").check()
        page.get_by_label("At most this many marketing messages a week").fill("101")
        page.get_by_role("button", name="Save", exact=True).click()
        # Refused beside the field; the ticks are kept.
        expect(page.locator("#f-brand_cap-error")).to_have_text(
            "Give a whole number from 0 to 100."
        )
        expect(page.get_by_role("checkbox", name="New releases")).to_be_checked()
        page.get_by_label("At most this many marketing messages a week").fill("3")
        page.get_by_role("button", name="Save", exact=True).click()
        expect(page.locator("#summary")).to_have_text(
            "Quiet Records may text you about New releases, at most 3 a week."
        )
        cell = page.locator("tr.topic-row").filter(has_text="New releases").locator("td.reach")
        expect(cell.nth(1)).to_contain_text("New releases by SMS: yes")
    finally:
        context.close()
