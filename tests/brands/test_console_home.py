"""The console's home: a new brand's set-up checklist, then who it can reach and what it sent."""

from __future__ import annotations

import re

from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from accord.core.permissions import Role
from tests.builders import PASSWORD, make_brand, make_member, make_topic
from tests.helpers import assert_each_read_once, selects_run, sign_in_member

HTML = {"accept": "text/html"}


def test_a_new_brand_sees_its_checklist_until_every_step_is_done(
    client: TestClient, session: Session
) -> None:
    brand = make_brand(session)
    member = make_member(session, brand=brand)
    sign_in_member(client, member.email, PASSWORD)
    page = client.get("/console", headers=HTML).text
    assert 'id="setup-h"' in page
    steps = re.findall(r'<li class="(done|todo)">', page)
    # The builder gives a sender and a postal address; no topic, key or campaign yet.
    assert steps == ["done", "todo", "todo", "todo"]
    assert 'href="/console" aria-current="page">Overview</a>' in page
    assert "No topics yet" in page
    make_topic(session, brand=brand)
    page = client.get("/console", headers=HTML).text
    assert re.findall(r'<li class="(done|todo)">', page) == ["done", "done", "todo", "todo"]
    assert '<table id="reach-table">' in page


def test_support_sees_no_analytics_on_the_home(client: TestClient, session: Session) -> None:
    brand = make_brand(session)
    member = make_member(session, brand=brand, role=Role.support)
    sign_in_member(client, member.email, PASSWORD)
    page = client.get("/console", headers=HTML)
    assert page.status_code == 200
    assert 'id="dash-equity-h"' not in page.text and 'id="dash-reach-h"' in page.text


# The member with the brand's row, the checklist's four steps, the conversations section (the
# counts with the response times, the waiting threads), the campaigns section (topics, the last
# and the scheduled campaigns; the last ones' messages and events only once one went out) and
# the analytics section (the latest fit with its segments, the weekly rates); the reachable
# grid is kept a few minutes, so a warm view runs no gate.
CONSOLE_HOME_SELECTS = 11


def test_the_console_home_runs_a_bounded_number_of_statements(
    app: FastAPI, client: TestClient, session: Session
) -> None:
    brand = make_brand(session)
    member = make_member(session, brand=brand)
    make_topic(session, brand=brand)
    sign_in_member(client, member.email, PASSWORD)
    client.get("/console", headers=HTML)  # warm: the reachable grid is counted once
    with selects_run(app.state.db.engine) as selects:
        page = client.get("/console", headers=HTML)
    assert page.status_code == 200 and 'id="dash-reach-h"' in page.text
    assert_each_read_once(selects, most=CONSOLE_HOME_SELECTS)
