"""The console's terms page reads the roster once a request (core.read_memo), however many of
its sections (the published list, the agreements' terms) show roster entries."""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from accord.core.permissions import Role
from tests.builders import PASSWORD, make_brand, make_member
from tests.helpers import selects_run, sign_in_member

HTML = {"accept": "text/html"}


def test_the_console_terms_page_reads_nothing_twice(
    app: FastAPI, client: TestClient, session: Session
) -> None:
    brand = make_brand(session)
    owner = make_member(session, brand=brand, role=Role.owner)
    sign_in_member(client, owner.email, PASSWORD)
    client.get("/console/terms", headers=HTML)
    with selects_run(app.state.db.engine) as selects:
        page = client.get("/console/terms", headers=HTML)
    assert page.status_code == 200
    repeated = [s for s in set(selects) if selects.count(s) > 1]
    assert repeated == [], repeated
