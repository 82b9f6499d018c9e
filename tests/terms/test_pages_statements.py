"""The console's terms page reads the roster once a request (core.read_memo), however many of
its sections (the published list, the agreements' terms) show roster entries."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from accord.core.permissions import Role
from tests.builders import PASSWORD, make_brand, make_member, make_person, make_relationship
from tests.helpers import (
    assert_each_read_once,
    csrf_of,
    selects_run,
    sign_in_member,
    sign_in_person,
)

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
    assert_each_read_once(selects)


def test_my_terms_reads_the_same_statements_whatever_the_number_of_brands(
    app: FastAPI, client: TestClient, session: Session
) -> None:
    """The agreements name their brands: read in one statement, not one a brand."""
    person = make_person(session)
    brands = [make_brand(session) for _ in range(3)]
    for brand in brands:
        make_relationship(session, person=person, brand=brand)
    sign_in_person(client, session, person.email)
    csrf = csrf_of(client, "/terms")

    def counted(proffered_to: list[Any]) -> int:
        for brand in proffered_to:
            done = client.post(
                "/terms/proffers",
                data={"terms": "no-stalking:1", "brand": brand.slug, "csrf_token": csrf},
                follow_redirects=False,
            )
            assert done.status_code == 303, done.text
        client.get("/terms", headers=HTML)
        with selects_run(app.state.db.engine) as selects:
            page = client.get("/terms", headers=HTML)
        assert page.status_code == 200
        assert page.text.count("waiting for an answer") >= len(proffered_to)
        return len(selects)

    one = counted(brands[:1])
    assert counted(brands[1:]) == one
