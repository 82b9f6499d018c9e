"""In a real Chromium: a marketer creates a campaign, sees who it reaches and why others are
left out, sends it; the worker delivers it to the dev mailbox, and its unsubscribe link works."""

from __future__ import annotations

import re
from pathlib import Path

from playwright.sync_api import Page, expect
from pydantic import SecretStr

from accord.core.permissions import Role
from accord.core.settings import Settings
from accord.delivery.worker import Worker
from tests.browser.conftest import LiveServer
from tests.builders import (
    PASSWORD,
    make_brand,
    make_member,
    make_person,
    make_relationship,
    make_topic,
)
from tests.waiting import drain

READER = "flow.reader@example.com"


def live_settings(live: LiveServer) -> Settings:
    """Settings equal to the live server's where delivery depends on them: its database, its
    secret (the unsubscribe tokens are signed with it), its base URL and the dev mailbox."""
    url = live.database.engine.url
    return Settings(
        var_dir=Path(url.database or ".").parent,
        database_url=url.render_as_string(hide_password=False),
        secret_key=SecretStr("browser-test-secret"),
        base_url=live.url,
    )


def test_marketer_previews_and_sends_a_campaign_the_reader_can_unsubscribe_from(
    live: LiveServer, page: Page
) -> None:
    with live.database.transaction() as session:
        brand = make_brand(session, name="Flow Records")
        marketer = make_member(session, brand=brand, role=Role.marketer).email
        topic = make_topic(session, brand=brand, name="Flow news")
        reader = make_person(session, email=READER, display_name="Flo Reader")
        make_relationship(
            session,
            person=reader,
            brand=brand,
            marketing=True,
            channels=("email",),
            topics_on=(topic,),
        )
        make_relationship(session, person=make_person(session), brand=brand)  # no consent
        make_relationship(
            session, person=make_person(session), brand=brand, marketing=True, channels=("email",)
        )  # not the topic

    page.goto(live.url + "/console/signin")
    page.get_by_label("E-mail address").first.fill(marketer)
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_role("button", name="Sign in", exact=True).click()
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Campaigns").click()
    expect(page.get_by_role("heading", name="Campaigns of Flow Records")).to_be_visible()
    page.get_by_role("link", name="New campaign").click()
    expect(page.get_by_role("heading", name="New campaign", level=1)).to_be_visible()
    # Only the chosen audience's fields show: no address box until "by e-mail address".
    expect(page.get_by_label("E-mail addresses, one a line")).to_be_hidden()
    page.get_by_label("People you name by e-mail address").check()
    expect(page.get_by_label("E-mail addresses, one a line")).to_be_visible()
    page.get_by_label("Everyone related to the brand").check()

    page.get_by_label("Name", exact=True).fill("Flow launch")
    page.get_by_label("Topic").select_option(label="Flow news (marketing)")
    page.get_by_label("Subject").fill("Hello {{ person.first_name }}")
    page.get_by_label("Message", exact=True).fill("News from {{ brand.email }}.")
    page.get_by_role("button", name="Save the draft").click()
    text = page.get_by_label("Message", exact=True)
    expect(text).to_have_value("News from {{ brand.email }}.")
    expect(text).to_have_attribute("aria-invalid", "true")
    expect(page.locator("#f-text-error")).to_contain_text("is not a field templates may use")
    text.fill("News from ")
    text.focus()
    page.get_by_label("Insert a field").select_option("{{ brand.name }}")
    page.get_by_role("button", name="Insert at the cursor").click()
    expect(text).to_have_value("News from {{ brand.name }}")
    page.get_by_role("button", name="Save the draft").click()

    expect(page.get_by_role("heading", name="Flow launch", level=1)).to_be_visible()
    expect(page.locator("#preview-eligible")).to_have_text("1")
    expect(page.locator("#preview-excluded")).to_have_text("2")
    reasons = page.get_by_role("table", name="People kept out, by reason")
    no_consent = reasons.get_by_role("row").filter(has_text="no_marketing_consent")
    expect(no_consent.get_by_role("cell").first).to_have_text("1")
    expect(no_consent).to_contain_text("marketing is opt-in only")
    no_topic = reasons.get_by_role("row").filter(has_text="topic_not_chosen")
    expect(no_topic.get_by_role("cell").first).to_have_text("1")
    expect(page.locator("#preview-subject")).to_have_text("Hello Ada")

    page.get_by_role("button", name="Send to 1 person…").click()
    expect(page.get_by_role("heading", name="Send to 1 person now?")).to_be_visible()
    page.get_by_role("button", name="Send to 1 person").click()
    expect(page.get_by_text("The campaign is scheduled")).to_be_visible()
    expect(page.locator("#campaign-state")).to_have_text("scheduled")
    expect(page.get_by_role("button", name=re.compile(r"^Send"))).to_have_count(0)

    outcome = drain(Worker(live.database, live_settings(live)))
    assert outcome.sent == 1

    page.goto(f"{live.url}/dev/mailbox?to={READER}")
    page.get_by_role("link", name="Hello Flo").first.click()
    expect(page.get_by_role("heading", name="Hello Flo")).to_be_visible()
    expect(page.locator("pre.mail-text")).to_contain_text("News from Flow Records")
    unsubscribe = page.locator("pre.mail-text a", has_text="/u/")
    expect(unsubscribe).to_have_count(1)
    href = unsubscribe.get_attribute("href")
    assert href is not None and href.startswith(live.url + "/u/")
    unsubscribe.click()
    expect(page.get_by_role("heading", name="Messages from Flow Records")).to_be_visible()
    page.get_by_role("button", name="Unsubscribe from 'Flow news'").click()
    expect(page.get_by_role("status")).to_contain_text("unsubscribed from 'Flow news'")

    page.goto(live.url + "/console/campaigns")
    page.get_by_role("link", name="Flow launch").click()
    page.get_by_role("link", name="Report", exact=True).click()
    expect(page.get_by_role("img", name="Audience by reason")).to_be_visible()
    outcomes = page.get_by_role("table", name="Outcomes: the data")
    expect(outcomes.get_by_role("row").filter(has_text="Sent")).to_contain_text("1")
    expect(outcomes.get_by_role("row").filter(has_text="Unsubscribed")).to_contain_text("1")
