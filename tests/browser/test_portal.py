"""In a real Chromium: a person pauses a brand, turns off a topic and finds both in their
history with receipts; the relationship form works from the keyboard alone."""

from __future__ import annotations

import json
import re
from datetime import timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from playwright.sync_api import Page, expect

from accord.core.dates import format_moment
from accord.core.db import utcnow
from tests.browser.conftest import LiveServer
from tests.builders import make_brand, make_person, make_relationship, make_topic


def sign_in(live: LiveServer, page: Page, email: str) -> None:
    """As a person would: ask for a link, open it from the dev mailbox, press the button."""
    page.goto(live.url + "/signin")
    page.get_by_label("E-mail address").fill(email)
    page.get_by_role("button", name="Send me a sign-in link").click()
    expect(page.get_by_role("heading", name="Check your inbox")).to_be_visible()
    page.goto(f"{live.url}/dev/mailbox?to={email}")
    page.get_by_role("link", name="Your Accord sign-in link").first.click()
    page.locator("pre.mail-text a").first.click()
    page.get_by_role("button", name="Sign me in").click()
    expect(page).to_have_url(re.compile(r"/home$"))


def a_person_with_a_brand(live: LiveServer, email: str, brand_name: str) -> None:
    with live.database.transaction() as session:
        brand = make_brand(session, name=brand_name)
        topic = make_topic(session, brand=brand, name="New arrivals")
        make_topic(session, brand=brand, name="Workshop news")
        person = make_person(session, email=email, time_zone="Europe/Lisbon")
        make_relationship(
            session,
            person=person,
            brand=brand,
            marketing=True,
            channels=("email",),
            topics_on=(topic,),
        )


def read_download(page: Page, link_name: str) -> dict[str, Any]:
    with page.expect_download() as info:
        page.get_by_role("link", name=link_name).click()
    path = info.value.path()
    document: dict[str, Any] = json.loads(Path(path).read_text())
    return document


def test_person_pauses_a_brand_turns_off_a_topic_and_sees_both_in_history(
    live: LiveServer, page: Page
) -> None:
    a_person_with_a_brand(live, "portal.person@example.com", "Velo Cycles")
    sign_in(live, page, "portal.person@example.com")

    page.get_by_role("navigation", name="Main").get_by_role("link", name="Relationships").click()
    expect(page.get_by_role("heading", name="Your relationships")).to_be_visible()
    page.get_by_role("link", name="Velo Cycles").click()
    expect(page.get_by_role("heading", name="Velo Cycles", level=1)).to_be_visible()

    topic = page.get_by_role("checkbox", name="New arrivals")
    expect(topic).to_be_checked()
    topic.uncheck()
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_text("Your choices are saved.")).to_be_visible()
    expect(page.get_by_role("checkbox", name="New arrivals")).not_to_be_checked()
    expect(page.get_by_role("checkbox", name="Marketing", exact=True)).to_be_checked()

    until = (utcnow() + timedelta(days=10)).astimezone(ZoneInfo("Europe/Lisbon"))
    page.get_by_label("Pause until").fill(until.strftime("%Y-%m-%dT%H:%M"))
    page.get_by_role("button", name="Pause until then").click()
    shown = format_moment(until, "Europe/Lisbon", "en")  # the person's zone and language
    expect(page.locator("main .state-paused").first).to_have_text("paused")
    expect(page.get_by_text(f"until {shown}").first).to_be_visible()
    expect(page.get_by_role("button", name="Resume now")).to_be_visible()

    page.get_by_role("navigation", name="Main").get_by_role("link", name="History").click()
    expect(page.get_by_text("Your ledger is intact: 6 decisions verified.")).to_be_visible()
    paused = page.get_by_role("row").filter(has_text=f"You paused Velo Cycles until {shown}")
    turned_off = page.get_by_role("row").filter(
        has_text="You turned off the topic 'New arrivals' from Velo Cycles"
    )
    expect(paused).to_have_count(1)
    expect(turned_off).to_have_count(1)
    expect(paused.get_by_role("link", name="Receipt for decision 6")).to_be_visible()
    expect(turned_off.get_by_role("link", name="Receipt for decision 5")).to_be_visible()

    pause_receipt = read_download(page, "Receipt for decision 6")
    assert pause_receipt["signature"]
    assert pause_receipt["ledger"]["seq"] == 6
    assert pause_receipt["ledger"]["event"]["action"] == "pause"
    topic_receipt = read_download(page, "Receipt for decision 5")
    assert topic_receipt["ledger"]["event"]["action"] == "withdraw"
    assert topic_receipt["ledger"]["event"]["scope"]["topic"]


def test_relationship_form_checkboxes_are_reachable_by_tab_and_labelled(
    live: LiveServer, page: Page
) -> None:
    a_person_with_a_brand(live, "keyboard.person@example.com", "Keyboard Bikes")
    sign_in(live, page, "keyboard.person@example.com")
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Relationships").click()
    page.get_by_role("link", name="Keyboard Bikes").click()
    expect(page.get_by_role("heading", name="Keyboard Bikes", level=1)).to_be_visible()

    boxes = page.locator("#preferences input[type=checkbox]")
    expected = set(boxes.evaluate_all("els => els.map(e => e.id)"))
    assert len(expected) >= 3 + 2 * 5 + 2  # purposes, channels for two purposes, topics
    reached: dict[str, dict[str, Any]] = {}
    for _ in range(200):
        page.keyboard.press("Tab")
        focused = page.evaluate(
            """() => {
              const el = document.activeElement;
              if (!el || el.type !== 'checkbox') return null;
              const style = getComputedStyle(el);
              return {
                id: el.id,
                label: el.labels.length ? el.labels[0].textContent.trim() : '',
                outline: style.outlineStyle,
                inForm: !!el.closest('#preferences'),
                legend: el.closest('fieldset')?.querySelector('legend')?.textContent.trim() || '',
              };
            }"""
        )
        if focused and focused["inForm"]:
            reached[focused["id"]] = focused
        if expected <= set(reached):
            break
    assert set(reached) == expected, f"not reached by Tab: {expected - set(reached)}"
    for info in reached.values():
        assert info["label"], f"{info['id']} has no label"
        assert info["legend"], f"{info['id']} is not in a fieldset with a legend"
        assert info["outline"] != "none", f"{info['id']} shows no focus"

    # Space toggles the focused box; the form saves with Enter on the button.
    topic = page.get_by_role("checkbox", name="Workshop news")
    topic.focus()
    page.keyboard.press("Space")
    expect(topic).to_be_checked()
    page.get_by_role("button", name="Save").focus()
    page.keyboard.press("Enter")
    expect(page.get_by_text("Your choices are saved.")).to_be_visible()
    expect(page.get_by_role("checkbox", name="Workshop news")).to_be_checked()
