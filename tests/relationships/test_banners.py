"""A person who switched everything off sees it on every page, with the way back."""

from __future__ import annotations

from datetime import timedelta

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from accord.core.db import utcnow
from accord.relationships import service
from accord.relationships.decisions import PORTAL
from accord.relationships.schemas import GlobalPreferencesIn
from tests.relationships.page_helpers import HTML, signed_in


def test_do_not_contact_and_pause_everything_show_a_banner(
    client: TestClient, session: Session
) -> None:
    me = signed_in(client, session)
    assert 'class="banner"' not in client.get("/home", headers=HTML).text
    change = GlobalPreferencesIn(do_not_contact=True, paused_until=utcnow() + timedelta(days=3))
    service.apply_global(session, me.id, change, PORTAL)
    session.flush()
    for page in ("/home", "/relationships", "/brands"):
        text = client.get(page, headers=HTML).text
        assert "Do not contact is on: no brand may send you marketing." in text, page
        assert '<a href="/settings">Turn off</a>' in text
        assert "Everything is paused until" in text and 'action="/settings/resume"' in text
