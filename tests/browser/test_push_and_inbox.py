"""In a real Chromium: a person turns on push for the browser (Accord's own service worker and
script, the subscription stored through the API), then a brand's campaign on push and in-app
arrives: the push service receives it encrypted for that browser, and the inbox's unread count
changes as the person reads it.

Headless Chromium has no push service of its own here (no network): the page's call to
`PushManager.subscribe` is answered with a subscription at the local push service
(`tests.push_service`), whose browser-side keys decrypt what Accord sends. Everything else is
the real browser: the service worker registration, the permission, the page's script."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, Page, expect
from sqlalchemy import select

from accord.campaigns import service as campaigns
from accord.campaigns.schemas import CampaignCreate
from accord.delivery.worker import Worker
from accord.people.models import ContactPoint, Person
from tests.browser.conftest import LiveServer
from tests.browser.test_portal import sign_in
from tests.builders import make_brand, make_person, make_relationship, make_topic
from tests.push_service import PushService, start_push_service
from tests.waiting import drain


@pytest.fixture
def push_service() -> Iterator[PushService]:
    running = start_push_service()
    try:
        yield running
    finally:
        running.close()


@pytest.fixture
def push_page(browser: Browser, live: LiveServer) -> Iterator[Page]:
    context = browser.new_context()
    context.grant_permissions(["notifications"], origin=live.url)
    context.set_default_timeout(15_000)
    page = context.new_page()
    yield page
    context.close()


def test_subscribe_to_push_then_an_inapp_message_arrives(
    live: LiveServer, push_page: Page, push_service: PushService
) -> None:
    page = push_page
    email = "push.person@example.com"
    with live.database.transaction() as session:
        brand = make_brand(session, name="Harbour Books")
        topic = make_topic(session, brand=brand, name="New arrivals")
        person = make_person(session, email=email, display_name="Pat Doe")
        make_relationship(
            session,
            person=person,
            brand=brand,
            marketing=True,
            channels=("push", "inapp"),
            topics_on=(topic,),
        )
        brand_id, topic_id = brand.id, topic.id
    subscription = push_service.subscribe()
    page.add_init_script(
        "PushManager.prototype.subscribe = async function () {"
        f"  const json = {json.dumps(subscription)};"
        "  return { endpoint: json.endpoint, toJSON: () => json };"
        "};"
    )
    sign_in(live, page, email)
    expect(page.locator("#inbox-unread")).to_have_count(0)

    page.goto(live.url + "/contacts")
    page.get_by_role("link", name="Set up push in this browser").click()
    page.get_by_role("button", name="Turn on push notifications in this browser").click()
    expect(page.get_by_role("cell", name="on", exact=True)).to_be_visible()
    registered = page.evaluate(
        "navigator.serviceWorker.getRegistration('/push/').then(r => r && r.active ? "
        "r.active.scriptURL : (r && (r.installing || r.waiting) ? 'pending' : null))"
    )
    assert registered is not None
    with live.database.session() as session:
        stored = session.scalars(select(ContactPoint).where(ContactPoint.channel == "push")).one()
        assert stored.address == subscription["endpoint"]

    with live.database.transaction() as session:
        campaign = campaigns.create(
            session,
            brand_id,
            CampaignCreate(
                name="Spring",
                topic_id=topic_id,
                channels=["push", "inapp"],
                channel_mode="all",
                subject="Spring books, {{ person.first_name }}",
                text="Twelve new novels are in.",
            ),
            member_id=None,
        )
        campaigns.send(session, campaign)
    assert live.settings is not None
    drain(Worker(live.database, live.settings))

    (pushed,) = push_service.wait_for(1)
    assert pushed.json()["title"] == "Spring books, Pat"
    page.goto(live.url + "/home")
    expect(page.locator("#inbox-unread")).to_have_text(re.compile(r"^1"))
    page.get_by_role("link", name=re.compile("^Inbox")).click()
    page.get_by_role("link", name=re.compile("Spring books, Pat")).click()
    expect(page.get_by_role("heading", name="Spring books, Pat")).to_be_visible()
    expect(page.locator("#inbox-unread")).to_have_count(0)
    with live.database.session() as session:
        assert session.scalar(select(Person.id).where(Person.email == email)) is not None
