"""Unsubscribing from a real campaign message: RFC 8058 one-click with no cookie, the page's
four choices, idempotency, ended and erased relationships, forged tokens."""

from __future__ import annotations

import re
import threading
import uuid
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from accord.campaigns import report
from accord.campaigns.models import Campaign
from accord.consent import ledger
from accord.consent.models import LedgerEvent
from accord.core import migrate
from accord.core.db import Database, utcnow
from accord.core.settings import Settings
from accord.delivery import unsubscribe
from accord.delivery.tokens import UnsubscribeToken
from accord.outbox.models import DeliveryEvent
from accord.privacy import service as privacy
from accord.relationships import decisions
from accord.relationships import service as relationships
from accord.relationships.decisions import PORTAL
from tests.builders import make_brand, make_person, make_relationship, make_topic
from tests.conftest import RolledBackDatabase
from tests.databases import fresh_engine
from tests.delivery import (
    World,
    only_message_to,
    send_campaign,
    smtp_settings_for,
    unsubscribe_path,
    world,
)
from tests.smtp_sink import Sink, smtp_sink

ONE_CLICK = {"List-Unsubscribe": "One-Click"}
CHOICES = ("topic", "brand", "pause", "fewer")


@pytest.fixture
def sink() -> Iterator[Sink]:
    with smtp_sink() as s:
        yield s


@pytest.fixture
def sent(
    client: TestClient,
    session: Session,
    database: RolledBackDatabase,
    settings: Settings,
    sink: Sink,
) -> tuple[World, Campaign]:
    w = world(session)
    cid = send_campaign(client, database, smtp_settings_for(settings, sink), w)
    assert len(sink.messages) == len(w.people)
    return w, session.get_one(Campaign, cid)


def events(session: Session, person_id: uuid.UUID) -> list[LedgerEvent]:
    session.expire_all()
    return ledger.events_for(session, person_id)


def csrf_of(page_text: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', page_text)
    assert found is not None
    return found.group(1)


def altered(path: str) -> str:
    head, token = path.rsplit("/", 1)
    i = len(token) // 3
    return f"{head}/{token[:i]}{'B' if token[i] != 'B' else 'C'}{token[i + 1 :]}"


def test_one_click_without_cookies_withdraws_the_topic_once(
    app: FastAPI, session: Session, sink: Sink, sent: tuple[World, Campaign]
) -> None:
    w, campaign = sent
    person = w.people[0]
    path = unsubscribe_path(only_message_to(sink, person.email))
    provider = TestClient(app)  # a mailbox provider: no cookie, no sign-in, no CSRF token
    assert not provider.cookies
    response = provider.post(path, data=ONE_CLICK)
    assert response.status_code == 200, response.text
    assert "unsubscribed from 'Jazz news'" in response.text
    assert "set-cookie" not in response.headers
    chain = events(session, person.id)
    last = ledger.body_of(chain[-1])
    assert (last["action"], last["source"]) == ("withdraw", "one_click")
    assert last["scope"]["topic"] == str(w.topic.id)
    assert last["brand"] == str(w.brand.id)
    assert w.topic.id not in relationships.choices(session, person.id, w.brand.id).topics
    assert report.build(session, campaign).events["unsubscribed"] == 1

    again = provider.post(path, data=ONE_CLICK)  # a retry, or a second click
    assert again.status_code == 200
    assert len(events(session, person.id)) == len(chain)
    assert report.build(session, campaign).events["unsubscribed"] == 1
    others = w.people[1:]
    assert all(
        w.topic.id in relationships.choices(session, p.id, w.brand.id).topics for p in others
    )


def test_one_click_when_nothing_is_left_still_answers_200(
    app: FastAPI,
    session: Session,
    settings: Settings,
    sink: Sink,
    sent: tuple[World, Campaign],
) -> None:
    w, campaign = sent
    ended, erased = w.people[0], w.people[1]
    ended_path = unsubscribe_path(only_message_to(sink, ended.email))
    erased_path = unsubscribe_path(only_message_to(sink, erased.email))
    decisions.end(session, decisions.get(session, ended.id, w.brand.id), PORTAL)
    privacy.erase_account(session, settings, erased.id)
    session.commit()
    before = len(events(session, ended.id))
    provider = TestClient(app)
    for path in (ended_path, erased_path):
        response = provider.post(path, data=ONE_CLICK)
        assert response.status_code == 200, response.text
        assert "Nothing to do" in response.text
        page = provider.get(path, headers={"accept": "text/html"})
        assert page.status_code == 200 and "no active relationship" in page.text
    assert len(events(session, ended.id)) == before
    assert report.build(session, campaign).events["unsubscribed"] == 0


def test_the_page_offers_four_choices_and_each_works(
    app: FastAPI, session: Session, sink: Sink, sent: tuple[World, Campaign]
) -> None:
    w, campaign = sent
    for person, choice in zip(w.people, CHOICES, strict=True):
        browser = TestClient(app)
        path = unsubscribe_path(only_message_to(sink, person.email))
        page = browser.get(path, headers={"accept": "text/html"})
        assert page.status_code == 200
        for value in CHOICES:
            assert f'name="choice" value="{value}"' in page.text
        assert f'action="{path}/choice"' in page.text and 'href="/signin"' in page.text
        done = browser.post(
            f"{path}/choice", data={"choice": choice, "csrf_token": csrf_of(page.text)}
        )
        assert done.status_code == 200, done.text
        assert 'href="/signin"' in done.text and "Sign in to manage everything" in done.text
        last = ledger.body_of(events(session, person.id)[-1])
        assert last["source"] == "email_link"

    session.expire_all()
    topic_person, brand_person, pause_person, fewer_person = w.people
    assert w.topic.id not in relationships.choices(session, topic_person.id, w.brand.id).topics
    assert "marketing" not in relationships.choices(session, brand_person.id, w.brand.id).purposes
    paused = decisions.get(session, pause_person.id, w.brand.id)
    assert paused.state == "paused" and paused.paused_until is not None
    assert abs(paused.paused_until - (utcnow() + timedelta(days=30))) < timedelta(minutes=5)
    assert decisions.get(session, fewer_person.id, w.brand.id).brand_cap == 1
    counted = report.build(session, campaign).events
    assert (counted["unsubscribed"], counted["opted_out"]) == (1, 1)


def test_choices_are_idempotent_and_never_loosen_a_stricter_choice(
    app: FastAPI, session: Session, sink: Sink, sent: tuple[World, Campaign]
) -> None:
    w, _ = sent
    person = w.people[0]
    rel = decisions.get(session, person.id, w.brand.id)
    decisions.set_brand_cap(session, rel, 0, PORTAL)
    decisions.pause(session, rel, None, PORTAL)  # paused until they resume it
    session.commit()
    browser = TestClient(app)
    path = unsubscribe_path(only_message_to(sink, person.email))
    token = csrf_of(browser.get(path, headers={"accept": "text/html"}).text)
    before = len(events(session, person.id))
    for choice in ("pause", "fewer", "fewer"):
        done = browser.post(f"{path}/choice", data={"choice": choice, "csrf_token": token})
        assert done.status_code == 200 and "Nothing changed" in done.text
    session.expire_all()
    rel = decisions.get(session, person.id, w.brand.id)
    assert (rel.state, rel.paused_until, rel.brand_cap) == ("paused", None, 0)
    assert len(events(session, person.id)) == before


def test_bad_choice_and_missing_csrf(
    app: FastAPI, session: Session, sink: Sink, sent: tuple[World, Campaign]
) -> None:
    w, _ = sent
    browser = TestClient(app)
    path = unsubscribe_path(only_message_to(sink, w.people[0].email))
    token = csrf_of(browser.get(path, headers={"accept": "text/html"}).text)
    bad = browser.post(f"{path}/choice", data={"choice": "everything", "csrf_token": token})
    assert bad.status_code == 422 and 'role="alert"' in bad.text
    forged = TestClient(app).post(
        f"{path}/choice", data={"choice": "brand"}, headers={"accept": "text/html"}
    )
    assert forged.status_code == 403
    assert "marketing" in relationships.choices(session, w.people[0].id, w.brand.id).purposes


def test_an_altered_token_gets_a_400_page_with_a_way_out(
    app: FastAPI, session: Session, sink: Sink, sent: tuple[World, Campaign]
) -> None:
    w, campaign = sent
    person = w.people[0]
    good = unsubscribe_path(only_message_to(sink, person.email))
    bad = altered(good)
    browser = TestClient(app)
    html = {"accept": "text/html"}
    token = csrf_of(browser.get(good, headers=html).text)
    for response in (
        browser.get(bad, headers=html),
        browser.post(bad, data=ONE_CLICK),
        browser.post(f"{bad}/choice", data={"choice": "brand", "csrf_token": token}),
        browser.get("/u/not-a-token", headers=html),
        browser.post("/u/not-a-token", data=ONE_CLICK),
    ):
        assert response.status_code == 400, response.text
        assert 'href="/signin"' in response.text
        assert "not valid" in response.text
    assert w.topic.id in relationships.choices(session, person.id, w.brand.id).topics
    count = select(func.count()).select_from(DeliveryEvent)
    assert session.scalar(count.where(DeliveryEvent.campaign_id == campaign.id)) == 0


@pytest.mark.parametrize("backend_name", ["sqlite", "postgres"])
def test_clicks_at_the_same_moment_withdraw_once(backend_name: str, tmp_path: Path) -> None:
    """A mailbox provider's POST and the person's own click can arrive together: one ledger
    event and one attributed unsubscribe, and no error for the other."""
    engine = fresh_engine(backend_name, tmp_path, "unsubscribe_race")
    try:
        migrate.upgrade(engine)
        db = Database(engine)
        with db.transaction() as s:
            brand = make_brand(s)
            topic = make_topic(s, brand=brand)
            person = make_person(s)
            make_relationship(
                s,
                person=person,
                brand=brand,
                marketing=True,
                channels=("email",),
                topics_on=(topic,),
            )
        token = UnsubscribeToken(1, person.id, brand.id, topic.id, None)

        def click(barrier: threading.Barrier, errors: list[str]) -> None:
            try:
                barrier.wait()
                with db.transaction() as s:
                    unsubscribe.one_click(s, token)
            except Exception as exc:  # collected: an error in a thread must fail the test
                errors.append(repr(exc))

        for _ in range(3):
            barrier = threading.Barrier(6)
            errors: list[str] = []
            threads = [threading.Thread(target=click, args=(barrier, errors)) for _ in range(6)]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
            assert errors == []
            with db.transaction() as s:  # choose the topic again for the next round
                rel = decisions.get(s, person.id, brand.id)
                decisions.set_topic(s, rel, topic.id, True, PORTAL)
        with db.session() as s:
            withdrawals = [e for e in ledger.events_for(s, person.id) if e.action == "withdraw"]
            assert len(withdrawals) == 3
            assert s.scalar(select(func.count()).select_from(DeliveryEvent)) == 3
    finally:
        engine.dispose()


def test_done_offers_undo_that_puts_each_choice_back(
    app: FastAPI, session: Session, sink: Sink, sent: tuple[World, Campaign]
) -> None:
    w, _ = sent
    for person, choice in zip(w.people, CHOICES, strict=True):
        rel = decisions.get(session, person.id, w.brand.id)
        was = (rel.state, rel.brand_cap)
        was_choices = relationships.choices(session, person.id, w.brand.id)
        browser = TestClient(app)
        path = unsubscribe_path(only_message_to(sink, person.email))
        page = browser.get(path, headers={"accept": "text/html"})
        done = browser.post(
            f"{path}/choice", data={"choice": choice, "csrf_token": csrf_of(page.text)}
        )
        assert f'action="{path}/undo"' in done.text and ">Undo</button>" in done.text
        # Another browser holding the same link cannot undo (re-subscribe) anyone.
        stranger = TestClient(app)
        other = stranger.get(path, headers={"accept": "text/html"})
        refused = stranger.post(f"{path}/undo", data={"csrf_token": csrf_of(other.text)})
        assert "nothing to undo here" in refused.text
        undone = browser.post(f"{path}/undo", data={"csrf_token": csrf_of(done.text)})
        assert undone.status_code == 200 and "Undone" in undone.text
        assert ">Undo</button>" not in undone.text
        session.expire_all()
        rel = decisions.get(session, person.id, w.brand.id)
        assert (rel.state, rel.brand_cap) == was
        now = relationships.choices(session, person.id, w.brand.id)
        assert (now.purposes, now.topics) == (was_choices.purposes, was_choices.topics)
        again = browser.post(f"{path}/undo", data={"csrf_token": csrf_of(done.text)})
        assert "nothing to undo here" in again.text
