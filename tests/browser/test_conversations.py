"""In a real Chromium: a person writes to a brand from the relationship page, a member answers
from the console inbox, the person is told by e-mail (with the thread's reply address) and
sees the answer in the thread."""

from __future__ import annotations

import re

from playwright.sync_api import Browser, Page, expect

from accord.delivery.worker import Worker
from tests.browser.conftest import LiveServer
from tests.browser.test_campaign_flow import live_settings
from tests.browser.test_portal import sign_in
from tests.builders import PASSWORD, make_brand, make_member, make_person, make_relationship
from tests.waiting import drain

PERSON = "talk.person@example.com"


def test_person_writes_member_answers_person_reads(
    live: LiveServer, page: Page, browser: Browser
) -> None:
    with live.database.transaction() as session:
        brand = make_brand(session, name="Talk Records")
        member = make_member(session, brand=brand, email="support@talk.example").email
        person = make_person(session, email=PERSON, display_name="Tess Talker")
        make_relationship(session, person=person, brand=brand)

    sign_in(live, page, PERSON)
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Relationships").click()
    page.get_by_role("link", name="Talk Records").click()
    page.get_by_role("link", name="Write to Talk Records").click()
    expect(page.get_by_label("Brand")).to_have_value(str(brand.id))
    page.get_by_role("button", name="Send").click()
    expect(page.locator("#f-body-error")).to_have_text("Write a message (it is empty).")
    page.get_by_label("Subject").fill("Signed copy?")
    page.get_by_label("Your message").fill("Is the signed edition still available?")
    page.get_by_role("button", name="Send").click()
    expect(page.get_by_text("Your message is on its way to Talk Records.")).to_be_visible()
    expect(page.get_by_role("heading", name="Signed copy?", level=1)).to_be_visible()
    thread_url = page.url

    console = browser.new_context().new_page()
    console.goto(live.url + "/console/signin")
    console.get_by_label("E-mail address").first.fill(member)
    console.get_by_label("Password", exact=True).fill(PASSWORD)
    console.get_by_role("button", name="Sign in", exact=True).click()
    console.get_by_role("navigation", name="Main").get_by_role("link", name="Conversations").click()
    expect(console.get_by_role("heading", name="Inbox of Talk Records")).to_be_visible()
    row = console.get_by_role("row").filter(has_text="Signed copy?")
    expect(row).to_contain_text("Tess Talker")
    expect(row).to_contain_text("1 unread")
    expect(row).to_contain_text("Is the signed edition still available?")
    row.get_by_role("link", name="Signed copy?").click()
    console.get_by_label("Your reply").fill("Yes, three left. Shall we keep one?")
    console.get_by_role("button", name="Send reply").click()
    expect(console.get_by_text("Your reply is sent.")).to_be_visible()
    console.get_by_role("navigation", name="Main").get_by_role("link", name="Conversations").click()
    expect(console.get_by_role("row").filter(has_text="Signed copy?")).to_contain_text(
        "Talk Records: Yes, three left."
    )

    assert drain(Worker(live.database, live_settings(live))).sent == 1
    page.goto(f"{live.url}/dev/mailbox?to={PERSON}")
    page.get_by_role("link", name="Talk Records: Signed copy?").first.click()
    expect(page.locator("pre.mail-text")).to_contain_text("Yes, three left. Shall we keep one?")
    reply_to = page.get_by_role("row").filter(has=page.get_by_role("rowheader", name="Reply-To"))
    expect(reply_to).to_contain_text(re.compile(r"reply\+[a-z2-7]{26}\.[a-z2-7]{16}@127\.0\.0\.1"))

    page.goto(live.url + "/conversations")
    expect(page.get_by_role("row").filter(has_text="Signed copy?")).to_contain_text("1 new")
    page.goto(thread_url)
    expect(page.locator(".message.from-brand")).to_contain_text(
        "Yes, three left. Shall we keep one?"
    )
    page.get_by_label("Your reply").fill("Yes please!")
    page.get_by_role("button", name="Send reply").click()
    expect(page.get_by_text("Your reply is sent.")).to_be_visible()
    expect(page.locator(".message.from-person").last).to_contain_text("Yes please!")
