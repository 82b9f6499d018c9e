"""Saved segments in the composer (real forms, SQLite and PostgreSQL): a brand saves a filter
or an RFM segment under a name and picks it for a later campaign; bad input sits beside its
field with the typed values kept and nothing written; another brand's segment is not offered
and cannot be picked by id."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from accord.campaigns import saved_segments
from accord.campaigns.models import Campaign, SavedSegment
from tests.builders import make_brand
from tests.campaigns.test_pages import HTML, campaigns, create, form, post, signed_in


def count(session: Session) -> int:
    return session.scalar(select(func.count()).select_from(SavedSegment)) or 0


def test_a_saved_segment_is_picked_in_the_composer(client: TestClient, session: Session) -> None:
    w = signed_in(client, session)
    first = create(
        client,
        w["topic"],
        audience_kind="filter",
        audience_filter="city=Porto\nshoe size=42",
        save_segment_as="Porto, size 42",
    )
    assert session.get_one(Campaign, first).audience["filter"] == {
        "city": "Porto",
        "shoe size": "42",
    }
    (saved,) = saved_segments.listing(session, w["brand"].id)
    assert saved.name == "Porto, size 42" and saved.audience["kind"] == "filter"

    page = client.get("/console/campaigns/new", headers=HTML).text
    assert f'<option value="{saved.id}" >Porto, size 42</option>' in page
    second = create(
        client, w["topic"], name="Again", audience_kind="saved", audience_saved=str(saved.id)
    )
    campaign = session.get_one(Campaign, second)
    assert campaign.audience_kind == "filter"
    assert campaign.audience["filter"] == {"city": "Porto", "shoe size": "42"}

    rfm = create(
        client,
        w["topic"],
        name="Champions",
        audience_kind="segment",
        audience_segment="champions",
        save_segment_as="Best customers",
    )
    assert session.get_one(Campaign, rfm).audience["segment"] == "champions"
    assert [s.name for s in saved_segments.listing(session, w["brand"].id)] == [
        "Best customers",
        "Porto, size 42",
    ]


@pytest.mark.parametrize(
    ("over", "field", "said"),
    [
        ({"audience_kind": "saved", "audience_saved": ""}, "audience_saved", "Choose one of"),
        ({"audience_kind": "saved", "audience_saved": "not-an-id"}, "audience_saved", "Choose"),
        (
            {"audience_kind": "all", "save_segment_as": "Everyone"},
            "save_segment_as",
            "Only a filter or an RFM segment can be saved",
        ),
        (
            {
                "audience_kind": "segment",
                "audience_segment": "champions",
                "save_segment_as": "x" * 121,
            },
            "save_segment_as",
            "Use 120 characters or fewer",
        ),
        (
            {
                "audience_kind": "segment",
                "audience_segment": "champions",
                "save_segment_as": "a\x07b",
            },
            "save_segment_as",
            "",
        ),
    ],
)
def test_bad_input_beside_its_field_and_nothing_written(
    client: TestClient, session: Session, over: dict[str, str], field: str, said: str
) -> None:
    w = signed_in(client, session)
    before = campaigns(session)
    response = post(client, "/console/campaigns", form(w["topic"], name="Kept name", **over))
    assert response.status_code == 422
    error = response.text.split(f'id="f-{field}-error" role="alert">', 1)[1].split("<", 1)[0]
    assert said in error and error.strip()
    assert 'value="Kept name"' in response.text
    assert campaigns(session) == before and count(session) == 0


def test_a_taken_name_is_refused_beside_the_field(client: TestClient, session: Session) -> None:
    w = signed_in(client, session)
    saved_segments.save(session, w["brand"].id, "Loyal", {"kind": "segment", "segment": "loyal"})
    session.commit()
    before = campaigns(session)
    data = {"audience_kind": "segment", "audience_segment": "champions", "save_segment_as": "Loyal"}
    response = post(client, "/console/campaigns", form(w["topic"], **data))
    assert response.status_code == 422
    assert "already have a segment named" in response.text
    assert campaigns(session) == before and count(session) == 1


def test_another_brands_segment_is_neither_offered_nor_usable(
    client: TestClient, session: Session
) -> None:
    w = signed_in(client, session)
    other = make_brand(session, name="Other Records")
    theirs = saved_segments.save(
        session, other.id, "Their list", {"kind": "segment", "segment": "champions"}
    )
    session.commit()
    page = client.get("/console/campaigns/new", headers=HTML).text
    assert "Their list" not in page
    before = campaigns(session)
    data = {"audience_kind": "saved", "audience_saved": str(theirs.id)}
    response = post(client, "/console/campaigns", form(w["topic"], **data))
    assert response.status_code == 422 and "Choose one of your saved segments" in response.text
    assert campaigns(session) == before
