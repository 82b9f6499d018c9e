"""The person's portal pages, through real forms (CSRF and all), on SQLite and PostgreSQL:
brands, relationships, settings, history."""

from __future__ import annotations

import json
import re
from datetime import timedelta
from zoneinfo import ZoneInfo

from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from accord.consent import ledger
from accord.consent.models import LedgerEvent
from accord.core.dates import format_moment
from accord.core.db import utcnow
from accord.relationships import decisions, service
from accord.relationships.models import GlobalPreferences
from accord.relationships.vocabulary import Purpose, Source
from tests.builders import make_api_key, make_brand, make_relationship, make_topic
from tests.relationships.page_helpers import HTML, events, form_state, post, signed_in


def test_follow_a_brand_from_the_directory(client: TestClient, session: Session) -> None:
    me = signed_in(client, session)
    brand = make_brand(session, name="Velo Cycles")
    page = client.get("/brands", headers=HTML)
    assert "Velo Cycles" in page.text and "Follow<span" in page.text
    followed = post(client, f"/brands/{brand.id}/follow", {}, "/brands")
    assert followed.status_code == 303
    assert followed.headers["location"] == f"/relationships/{brand.id}"
    rel = decisions.get(session, me.id, brand.id)
    assert rel.state == "active"
    assert [e["action"] for e in events(session, me.id)] == ["follow"]
    assert "Manage<span" in client.get("/brands", headers=HTML).text
    listing = client.get("/relationships", headers=HTML).text
    assert "Velo Cycles" in listing and "transactional only" in listing


def test_the_relationship_form_grants_and_withdraws_in_one_save(
    client: TestClient, session: Session
) -> None:
    me = signed_in(client, session)
    brand = make_brand(session, name="Velo Cycles")
    topic = make_topic(session, brand=brand, name="New arrivals")
    make_relationship(session, person=me, brand=brand)
    page = client.get(f"/relationships/{brand.id}", headers=HTML).text
    assert "news, offers and other promotional messages" in page.lower()
    assert "New arrivals" in page and "What this topic is about" in page

    data = form_state(client, brand.id)
    data |= {
        "purpose:marketing": "on",
        "channel:marketing:email": "on",
        f"topic:{topic.id}": "on",
        "brand_cap": "5",
        "shared": "shoe size: 42\ncity: Porto",
    }
    saved = post(client, f"/relationships/{brand.id}", data)
    assert saved.status_code == 303, saved.text
    chosen = service.choices(session, me.id, brand.id)
    assert chosen.purposes == {"marketing": "granted"}
    assert chosen.channels["marketing"] == ["email"] and chosen.topics == [topic.id]
    rel = decisions.get(session, me.id, brand.id)
    session.refresh(rel)
    assert rel.brand_cap == 5 and rel.shared == {"shoe size": "42", "city": "Porto"}
    actions = [
        (e["action"], e["scope"]["purpose"], e["scope"]["topic"]) for e in events(session, me.id)
    ]
    assert ("grant", "marketing", None) in actions
    assert ("grant", "marketing", str(topic.id)) in actions

    # Withdrawing takes the same one step: untick and save.
    data = form_state(client, brand.id)
    del data["purpose:marketing"], data[f"topic:{topic.id}"]
    assert post(client, f"/relationships/{brand.id}", data).status_code == 303
    chosen = service.choices(session, me.id, brand.id)
    assert chosen.purposes == {} and chosen.topics == []
    last_two = events(session, me.id)[-2:]
    assert [e["action"] for e in last_two] == ["withdraw", "withdraw"]
    assert {e["scope"]["topic"] for e in last_two} == {None, str(topic.id)}


def test_a_stale_form_does_not_regrant_what_was_withdrawn_elsewhere(
    client: TestClient, session: Session
) -> None:
    me = signed_in(client, session)
    brand = make_brand(session)
    rel = make_relationship(session, person=me, brand=brand, marketing=True)
    data = form_state(client, brand.id)
    assert data["purpose:marketing"] == "on"
    decisions.withdraw(
        session, me.id, brand.id, ledger.Scope(purpose="marketing"), Source.one_click
    )
    session.commit()
    assert post(client, f"/relationships/{brand.id}", data | {"brand_cap": "4"}).status_code == 303
    assert service.choices(session, me.id, brand.id).purposes == {}
    session.refresh(rel)
    assert rel.brand_cap == 4


def test_bad_cap_and_facts_show_errors_by_their_fields_and_write_nothing(
    client: TestClient, session: Session
) -> None:
    me = signed_in(client, session)
    brand = make_brand(session)
    make_relationship(session, person=me, brand=brand)
    before = len(events(session, me.id))
    data = form_state(client, brand.id) | {
        "purpose:marketing": "on",
        "brand_cap": "lots",
        "shared": "no colon here",
    }
    page = post(client, f"/relationships/{brand.id}", data)
    assert page.status_code == 422
    assert 'id="f-brand_cap-error"' in page.text and "whole number" in page.text
    assert 'id="f-shared-error"' in page.text and "Line 1" in page.text
    assert 'value="lots"' in page.text and "no colon here</textarea>" in page.text
    assert 'name="purpose:marketing" value="on" checked' in page.text  # the tick is kept
    assert len(events(session, me.id)) == before
    assert service.choices(session, me.id, brand.id).purposes == {}


def test_pause_in_the_past_is_refused_by_the_field_and_writes_nothing(
    client: TestClient, session: Session
) -> None:
    me = signed_in(client, session, time_zone="Europe/Berlin")
    brand = make_brand(session)
    rel = make_relationship(session, person=me, brand=brand)
    before = len(events(session, me.id))
    page = post(client, f"/relationships/{brand.id}/pause", {"until": "2001-02-03T04:05"})
    assert page.status_code == 422
    error = re.search(r'id="f-until-error"[^>]*>([^<]+)<', page.text)
    assert error is not None and "future" in error.group(1)
    assert 'value="2001-02-03T04:05"' in page.text
    assert len(events(session, me.id)) == before
    session.refresh(rel)
    assert rel.state == "active"

    until = (utcnow() + timedelta(days=3)).astimezone(ZoneInfo("Europe/Berlin"))
    typed = until.strftime("%Y-%m-%dT%H:%M")
    paused = post(client, f"/relationships/{brand.id}/pause", {"until": typed})
    assert paused.status_code == 303
    session.refresh(rel)
    assert rel.state == "paused" and rel.paused_until is not None
    assert rel.paused_until.replace(second=0, microsecond=0) == until.replace(
        second=0, microsecond=0
    )
    shown = client.get(f"/relationships/{brand.id}", headers=HTML).text
    assert "until " + format_moment(until, "Europe/Berlin", me.locale) in shown
    assert post(client, f"/relationships/{brand.id}/resume", {}).status_code == 303
    session.refresh(rel)
    assert rel.state == "active"
    assert [e["action"] for e in events(session, me.id)][-2:] == ["pause", "resume"]


def test_ending_keeps_history_and_erasing_refuses_the_address_later(
    client: TestClient, session: Session
) -> None:
    me = signed_in(client, session)
    kept, erased = make_brand(session), make_brand(session)
    make_relationship(session, person=me, brand=kept, marketing=True)
    make_relationship(session, person=me, brand=erased, marketing=True)
    assert post(client, f"/relationships/{kept.id}/end", {}).status_code == 303
    assert post(client, f"/relationships/{erased.id}/erase", {}).status_code == 303
    assert decisions.get(session, me.id, kept.id).state == "ended"
    assert decisions.get(session, me.id, erased.id).state == "ended"
    assert "Follow " + kept.name + " again" in client.get(f"/relationships/{kept.id}").text
    assert events(session, me.id)[-1]["action"] == "erase"
    _, key = make_api_key(session, brand=erased)
    again = client.post(
        "/api/v1/invitations", json={"email": me.email}, headers={"Authorization": f"Bearer {key}"}
    )
    assert again.status_code == 409


def test_quiet_hours_that_start_when_they_end_are_refused_by_quiet_end(
    client: TestClient, session: Session
) -> None:
    me = signed_in(client, session)
    before = len(events(session, me.id))
    form = {"quiet_start": "22:00", "quiet_end": "22:00", "global_cap": "10", "paused_until": ""}
    page = post(client, "/settings", form, "/settings")
    assert page.status_code == 422
    error = re.search(r'id="f-quiet_end-error"[^>]*>([^<]+)<', page.text)
    assert error is not None and "same time" in error.group(1)
    assert 'id="f-quiet_start-error"' not in page.text
    assert len(events(session, me.id)) == before
    prefs = session.get(GlobalPreferences, me.id)
    assert prefs is None or prefs.quiet_start is None

    form |= {"quiet_end": "07:00", "do_not_contact": "on", "global_cap": "6"}
    assert post(client, "/settings", form, "/settings").status_code == 303
    prefs = session.get(GlobalPreferences, me.id)
    assert prefs is not None
    session.refresh(prefs)
    assert (prefs.quiet_start, prefs.quiet_end, prefs.global_cap) == ("22:00", "07:00", 6)
    assert prefs.do_not_contact is True
    actions = {e["action"] for e in events(session, me.id)}
    assert {"set_quiet_hours", "set_global_cap", "set_do_not_contact"} <= actions


def test_pause_everything_and_resume_from_settings(client: TestClient, session: Session) -> None:
    me = signed_in(client, session)
    base = {"quiet_start": "", "quiet_end": "", "global_cap": "10"}
    past = post(client, "/settings", base | {"paused_until": "2001-01-01T00:00"}, "/settings")
    assert past.status_code == 422 and 'id="f-paused_until-error"' in past.text
    future = (utcnow() + timedelta(days=2)).strftime("%Y-%m-%dT%H:%M")
    assert (
        post(client, "/settings", base | {"paused_until": future}, "/settings").status_code == 303
    )
    page = client.get("/settings", headers=HTML).text
    assert "Everything is paused" in page
    # Saving again with the pause shown as it is changes nothing.
    assert (
        post(client, "/settings", base | {"paused_until": future}, "/settings").status_code == 303
    )
    assert post(client, "/settings/resume", {}, "/settings").status_code == 303
    assert [e["action"] for e in events(session, me.id)] == ["pause_all", "resume_all"]


def test_history_reads_as_sentences_with_receipts_and_a_verified_ledger(
    client: TestClient, session: Session
) -> None:
    me = signed_in(client, session)
    brand = make_brand(session, name="Velo Cycles")
    topic = make_topic(session, brand=brand, name="New arrivals")
    make_relationship(session, person=me, brand=brand, marketing=True, topics_on=(topic,))
    rel = decisions.get(session, me.id, brand.id)
    decisions.set_purpose(session, rel, Purpose.marketing, False, decisions.PORTAL)
    session.commit()
    page = client.get("/history", headers=HTML).text
    assert "Your ledger is intact:</strong> 4 decisions verified" in page
    assert "You withdrew marketing from Velo Cycles" in page
    assert "You chose the topic &#39;New arrivals&#39; from Velo Cycles" in page
    assert "You started following Velo Cycles" in page
    assert page.index("You withdrew marketing") < page.index("You started following")
    assert 'href="/history/4/receipt"' in page

    receipt = client.get("/history/4/receipt")
    assert receipt.status_code == 200
    assert receipt.headers["content-disposition"].startswith("attachment;")
    document = json.loads(receipt.text)
    assert document["signature"]
    assert client.get("/history/99/receipt").status_code == 404


def test_history_shows_a_broken_link(client: TestClient, session: Session) -> None:
    me = signed_in(client, session)
    make_relationship(session, person=me, brand=make_brand(session), marketing=True)
    first = session.scalars(
        select(LedgerEvent).where(LedgerEvent.subject_id == me.id, LedgerEvent.seq == 1)
    ).one()
    first.body = first.body.replace('"follow"', '"invite"')
    session.commit()
    page = client.get("/history", headers=HTML).text
    assert "Your ledger is broken" in page and "at decision 1" in page


def test_home_summarises_relationships(client: TestClient, session: Session) -> None:
    me = signed_in(client, session)
    make_relationship(session, person=me, brand=make_brand(session, name="Summary Brand"))
    home = client.get("/home", headers=HTML).text
    assert "Summary Brand" in home and 'href="/relationships"' in home
    assert "1 active, 0 paused" in home
