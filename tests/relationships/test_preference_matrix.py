"""The relationship page as a topic by channel matrix (through real forms, SQLite and
PostgreSQL): the one-line summary, transactional topics shown as on and never posted, bad
input beside its field with the ticks kept and nothing written."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from accord.relationships import service
from accord.relationships.preference_matrix import summary
from tests.builders import make_brand, make_relationship, make_topic
from tests.relationships.page_helpers import HTML, events, form_state, post, signed_in


def test_the_summary_says_what_the_brand_may_send_in_one_sentence(
    client: TestClient, session: Session
) -> None:
    me = signed_in(client, session)
    brand = make_brand(session, name="Groove Records")
    releases = make_topic(session, brand=brand, name="New releases")
    make_topic(session, brand=brand, name="Order updates", purpose="transactional")
    rel = make_relationship(
        session, person=me, brand=brand, marketing=True, channels=("email",), topics_on=(releases,)
    )
    rel.brand_cap = 2
    session.flush()
    page = client.get(f"/relationships/{brand.id}", headers=HTML).text
    assert "Groove Records may e-mail you about New releases, at most 2 a week." in page
    assert 'id="c-purpose-marketing"' in page and 'id="c-channel-marketing-sms"' in page
    # The transactional topic is on and is not a switch.
    row = page.split("Order updates", 1)[1].split("</tr>", 1)[0]
    assert "Always on" in row and "checkbox" not in row
    home = client.get("/home", headers=HTML).text
    assert home.index("Your relationships") < home.index("Your contact points")
    assert "Groove Records may e-mail you about New releases" in home


def test_a_transactional_topic_posted_by_hand_changes_nothing(
    client: TestClient, session: Session
) -> None:
    me = signed_in(client, session)
    brand = make_brand(session)
    receipts = make_topic(session, brand=brand, name="Receipts", purpose="transactional")
    make_relationship(session, person=me, brand=brand)
    before = len(events(session, me.id))
    data = form_state(client, brand.id) | {f"topic:{receipts.id}": "on"}
    saved = post(client, f"/relationships/{brand.id}", data)
    assert saved.status_code == 303
    assert len(events(session, me.id)) == before
    assert service.choices(session, me.id, brand.id).topics == []


@pytest.mark.parametrize(
    ("field", "typed", "said"),
    [
        ("brand_cap", "", "whole number"),
        ("brand_cap", "9" * 300, "whole number"),
        ("brand_cap", "2.5", "whole number"),
        ("shared", "size: " + "x" * 501, "Line 1"),
        ("shared", "\n".join(f"k{n}: v" for n in range(21)), "at most 20"),
    ],
)
def test_bad_input_beside_its_field_with_the_ticks_kept_and_nothing_written(
    client: TestClient, session: Session, field: str, typed: str, said: str
) -> None:
    me = signed_in(client, session)
    brand = make_brand(session)
    topic = make_topic(session, brand=brand, name="Gigs")
    make_relationship(session, person=me, brand=brand)
    before = len(events(session, me.id))
    data = form_state(client, brand.id) | {
        "purpose:marketing": "on",
        "channel:marketing:email": "on",
        f"topic:{topic.id}": "on",
        field: typed,
    }
    page = post(client, f"/relationships/{brand.id}", data)
    assert page.status_code == 422
    error = page.text.split(f'id="f-{field}-error"', 1)[1].split("</p>", 1)[0]
    assert said in error
    for key in ("purpose:marketing", "channel:marketing:email", f"topic:{topic.id}"):
        assert f'name="{key}" value="on" checked' in page.text
    assert len(events(session, me.id)) == before
    assert service.choices(session, me.id, brand.id).purposes == {}


@pytest.mark.parametrize(
    ("purposes", "channels", "topics", "cap", "said"),
    [
        ({}, {}, [], 3, "Acme may send you no marketing"),
        ({"marketing": "granted"}, {}, ["A"], 3, "you chose no channel"),
        ({"marketing": "granted"}, {"marketing": ["email"]}, [], 3, "you chose no topic"),
        ({"marketing": "granted"}, {"marketing": ["email"]}, ["A"], 0, "lets none through"),
        (
            {"marketing": "granted"},
            {"marketing": ["sms", "email", "postal"]},
            ["A", "B", "C"],
            1,
            "Acme may e-mail you, text you and write to you by post about A, B and C, "
            "at most 1 a week.",
        ),
    ],
)
def test_summary_sentences(
    purposes: dict[str, str],
    channels: dict[str, list[str]],
    topics: list[str],
    cap: int,
    said: str,
) -> None:
    assert said in summary("Acme", "active", purposes, channels, topics, cap)
