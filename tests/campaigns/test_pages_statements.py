"""How many statements a draft campaign's page runs: the member with the brand's row (the brand
is not read again), the campaign, its topic, the saved segments of the form, the compliance
rules' freshness, the preview's one count by reason (the member's address for the test send
comes with the sign-in's read: the member's row is not loaded); nothing read twice (the time
zones in use, read for a local schedule's start and again for the gate's quiet hours, come
from the request's read memo)."""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from tests.campaigns.test_pages import HTML, create, signed_in
from tests.helpers import assert_each_read_once, selects_run

DRAFT_PAGE_SELECTS = 6


def test_a_draft_campaign_page_reads_each_thing_once(
    app: FastAPI, client: TestClient, session: Session
) -> None:
    w = signed_in(client, session)
    campaign_id = create(client, w["topic"])
    client.get(f"/console/campaigns/{campaign_id}", headers=HTML)  # warm
    with selects_run(app.state.db.engine) as selects:
        page = client.get(f"/console/campaigns/{campaign_id}", headers=HTML)
    assert page.status_code == 200 and 'id="preview-eligible">4<' in page.text
    assert_each_read_once(selects, most=DRAFT_PAGE_SELECTS)
    # "Test send to me" shows the member's address: that column is read, not the member's row.
    assert "Test send to me" in page.text and w["member"].email in page.text
    assert not [s for s in selects if "members.password_hash" in s], selects
    assert not [s for s in selects if s.lstrip().startswith("SELECT brands.name")], selects
