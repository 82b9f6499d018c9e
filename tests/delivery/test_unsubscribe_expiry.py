"""Unsubscribe links carry their issue time and stop acting a year later; the page then offers
sign-in. Links from before the time was carried keep working."""

from __future__ import annotations

import time
import uuid

from fastapi.testclient import TestClient
from itsdangerous import URLSafeSerializer

from accord.core.settings import Settings
from accord.delivery import tokens

DAY = 86_400


def a_token(issued: int | None) -> tokens.UnsubscribeToken:
    return tokens.UnsubscribeToken(7, uuid.uuid4(), uuid.uuid4(), uuid.uuid4(), None, issued)


def test_a_link_works_for_a_year_and_then_expires() -> None:
    now = time.time()
    fresh = tokens.make("key", a_token(int(now - 364 * DAY)))
    assert tokens.read("key", fresh, now=now).message == 7
    old = tokens.make("key", a_token(int(now - 366 * DAY)))
    try:
        tokens.read("key", old, now=now)
    except tokens.ExpiredLink as exc:
        assert exc.field == "token"
    else:
        raise AssertionError("a link over a year old still worked")


def test_a_new_link_carries_the_time_it_was_made() -> None:
    before = int(time.time())
    made = tokens.read("key", tokens.make("key", a_token(None)))
    assert made.issued is not None and made.issued >= before


def test_links_from_before_the_issue_time_keep_working() -> None:
    legacy = URLSafeSerializer("key", salt=tokens.SALT).dumps(
        [7, uuid.uuid4().hex, uuid.uuid4().hex, uuid.uuid4().hex, None]
    )
    found = tokens.read("key", legacy, now=time.time() + 10 * 365 * DAY)
    assert found.message == 7 and found.issued is None


def test_the_page_of_an_expired_link_offers_sign_in(client: TestClient, settings: Settings) -> None:
    old = tokens.make(settings.resolved_secret_key(), a_token(int(time.time() - 400 * DAY)))
    page = client.get(f"/u/{old}", headers={"accept": "text/html"})
    assert page.status_code == 400
    assert "has expired" in page.text and 'href="/signin"' in page.text
    one_click = client.post(f"/u/{old}", data={"List-Unsubscribe": "One-Click"})
    assert one_click.status_code == 400
