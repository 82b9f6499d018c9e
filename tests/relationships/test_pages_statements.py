"""How many statements the relationship page runs: the page and the panels other domains add
to it read the relationship, the choices and the contact points once per request (the read
memo), and the layout's counts read through the request's own session."""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from accord.relationships import service
from tests.builders import make_brand, make_relationship, make_topic
from tests.helpers import assert_each_read_once, selects_run
from tests.relationships.page_helpers import HTML, post, signed_in

# The page, its seven panels and the layout, each thing read once (core.read_memo; the terms
# section reads its rows and effects in one statement); the
# prepared reads (the sign-in check, the layout's count and banners) pass no engine event.
RELATIONSHIP_PAGE_SELECTS = 13


def test_the_relationship_page_reads_each_thing_once(
    app: FastAPI, client: TestClient, session: Session
) -> None:
    me = signed_in(client, session)
    brand = make_brand(session, name="Velo Cycles")
    topic = make_topic(session, brand=brand, name="New arrivals")
    make_relationship(
        session,
        person=me,
        brand=brand,
        marketing=True,
        channels=("email", "sms"),
        topics_on=(topic,),
    )
    client.get(f"/relationships/{brand.id}", headers=HTML)  # warm: nothing first-time counts
    with selects_run(app.state.db.engine) as selects:
        page = client.get(f"/relationships/{brand.id}", headers=HTML)
    assert page.status_code == 200 and "New arrivals" in page.text
    assert_each_read_once(selects, most=RELATIONSHIP_PAGE_SELECTS)


def test_a_change_saved_on_the_page_shows_at_once(client: TestClient, session: Session) -> None:
    """The memo never hides a write: the page after a save shows the saved choices."""
    me = signed_in(client, session)
    brand = make_brand(session, name="Velo Cycles")
    make_relationship(session, person=me, brand=brand)
    shown = client.get(f"/relationships/{brand.id}", headers=HTML).text
    assert 'name="purpose:marketing" value="on" checked' not in shown
    data = {"purpose:marketing": "on", "channel:marketing:email": "on", "brand_cap": "3"}
    data |= {"shown_on": "", "shared": ""}
    saved = post(client, f"/relationships/{brand.id}", data, f"/relationships/{brand.id}")
    assert saved.status_code == 303
    assert service.choices(session, me.id, brand.id).purposes.get("marketing") == "granted"
    page = client.get(f"/relationships/{brand.id}", headers=HTML).text
    assert 'name="purpose:marketing" value="on" checked' in page


# The person, the relationships with their brands, every choice in one statement, and every
# brand's topics in one: the same number whatever the number of brands.
RELATIONSHIPS_LIST_SELECTS = 4


def test_the_relationships_list_reads_a_fixed_number_of_statements(
    app: FastAPI, client: TestClient, session: Session
) -> None:
    me = signed_in(client, session)

    def follow(name: str) -> None:
        brand = make_brand(session, name=name)
        topic = make_topic(session, brand=brand, name=f"{name} news")
        make_relationship(
            session, person=me, brand=brand, marketing=True, channels=("email",), topics_on=(topic,)
        )

    counts = []
    for names in (["Velo Cycles"], ["Kiln Coffee", "Harbour Books"]):
        for name in names:
            follow(name)
        client.get("/relationships", headers=HTML)  # warm
        with selects_run(app.state.db.engine) as selects:
            page = client.get("/relationships", headers=HTML)
        assert page.status_code == 200 and f"{names[-1]} news" in page.text
        counts.append(len(selects))
    assert counts[0] == counts[1], counts
    assert counts[1] <= RELATIONSHIPS_LIST_SELECTS, counts
