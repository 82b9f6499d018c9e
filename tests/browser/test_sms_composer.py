"""In a real Chromium: the campaign composer counts a text's segments live as it is typed (the
script Accord serves asks Accord), switches to UCS-2 for an emoji, says when a text is too long,
and hides the count for e-mail; the saved draft shows the same count without any script."""

from __future__ import annotations

from playwright.sync_api import Page, expect

from accord.core.permissions import Role
from tests.browser.conftest import LiveServer
from tests.builders import PASSWORD, make_brand, make_member, make_topic


def test_the_segment_count_follows_the_text_as_it_is_typed(live: LiveServer, page: Page) -> None:
    with live.database.transaction() as session:
        brand = make_brand(session, name="Live Count Records")
        marketer = make_member(session, brand=brand, role=Role.marketer).email
        make_topic(session, brand=brand, name="Count news")

    page.goto(live.url + "/console/signin")
    page.get_by_label("E-mail address").first.fill(marketer)
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_role("button", name="Sign in", exact=True).click()
    page.goto(live.url + "/console/campaigns/new")
    count = page.locator("#sms-count")
    expect(count).to_be_hidden()  # e-mail is the channel chosen first

    page.get_by_label("Name", exact=True).fill("Count day")
    page.get_by_label("Topic").select_option(label="Count news (marketing)")
    page.get_by_label("Channel", exact=True).select_option("sms")
    expect(count).to_be_visible()
    message = page.get_by_label("Message", exact=True)
    message.fill("Hi {{ person.first_name }}!")
    # "Live Count Records: Hi Ada!" and the STOP line: 49 GSM-7 characters, one segment.
    expect(count).to_have_text(
        "As sent to Ada Lovelace: 1 segment (GSM-7, 49 characters; "
        "111 units left in the last segment)."
    )
    message.press_sequentially(" \U0001f3b6")
    expect(count).to_contain_text("1 segment (UCS-2")
    expect(count).to_contain_text("UCS-2 because of \U0001f3b6.")
    message.fill("x" * 1600)
    expect(count).to_contain_text("11 segments (GSM-7")
    expect(count).to_contain_text("Too long: at most 10 segments.")
    expect(count).to_have_class("hint sms-count error")
    page.get_by_label("Channel", exact=True).select_option("email")
    expect(count).to_be_hidden()

    page.get_by_label("Channel", exact=True).select_option("sms")
    message.fill("Hi {{ person.first_name }}, new vinyl!")
    page.get_by_label("Everyone related to the brand").check()
    page.get_by_role("button", name="Save the draft").click()
    expect(page.get_by_role("heading", name="Count day", level=1)).to_be_visible()
    expect(page.locator("#preview-sms")).to_have_text(
        "Live Count Records: Hi Ada, new vinyl!\nReply STOP to opt out"
    )
    expect(page.locator("#preview-sms-count")).to_contain_text("1 segment (GSM-7, 60 characters")
    expect(page.locator("#sms-count")).to_contain_text("1 segment (GSM-7, 60 characters")
