"""The console's saved segments page and its API (SQLite and PostgreSQL): each segment with how
many people it holds now; deleting asks first, keeps the campaigns that used it, and touches
nothing of another brand's; a member who may not write campaigns sees the list only."""

from __future__ import annotations

import re
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from accord.campaigns import saved_segments
from accord.campaigns.models import Campaign, SavedSegment
from accord.core.permissions import Role
from accord.relationships import decisions
from tests.builders import make_api_key, make_brand
from tests.campaigns.test_pages import HTML, create, post, signed_in

LIST = "/console/campaigns/segments"


def count(session: Session) -> int:
    return session.scalar(select(func.count()).select_from(SavedSegment)) or 0


def porto_world(client: TestClient, session: Session, role: Role = Role.marketer) -> dict[str, Any]:
    """Six related people, two of whom shared "city: Porto"; a filter and an RFM segment."""
    w = signed_in(client, session, role)
    for person in w["people"][:2]:
        rel = decisions.get(session, person.id, w["brand"].id)
        decisions.share(session, rel, {"city": "Porto"}, decisions.PORTAL)
    w["porto"] = saved_segments.save(
        session, w["brand"].id, "Porto", {"kind": "filter", "filter": {"city": "Porto"}}
    )
    w["best"] = saved_segments.save(
        session, w["brand"].id, "Best", {"kind": "segment", "segment": "champions"}
    )
    session.commit()
    return w


def size_in(page: str, segment: SavedSegment) -> str:
    row = re.search(rf'<tr id="segment-{segment.id}">(.*?)</tr>', page, re.S)
    assert row is not None, f"no row for {segment.name}"
    found = re.search(r'<td class="num">(.*?)</td>', row.group(1), re.S)
    assert found is not None
    return re.sub(r"<[^>]+>", "", found.group(1)).strip()


def test_segments_are_listed_with_their_size_and_deleted_only_when_confirmed(
    client: TestClient, session: Session
) -> None:
    w = porto_world(client, session)
    used = create(client, w["topic"], audience_kind="saved", audience_saved=str(w["porto"].id))
    assert 'href="/console/campaigns/segments"' in client.get("/console/campaigns").text

    page = client.get(LIST, headers=HTML)
    assert page.status_code == 200
    assert size_in(page.text, w["porto"]) == "2 people now"
    # An RFM segment's size is the last fit's figure: none before the first fit.
    assert size_in(page.text, w["best"]).startswith("— (no fit yet")
    assert "city is Porto" in page.text and "Champions" in page.text

    ask = f"{LIST}/{w['porto'].id}/delete"
    confirm = client.get(ask, headers=HTML)
    assert confirm.status_code == 200
    assert "Delete the segment “Porto”?" in confirm.text and "No, keep it" in confirm.text
    unconfirmed = post(client, ask, {})
    assert unconfirmed.status_code == 303 and unconfirmed.headers["location"] == ask
    assert count(session) == 2

    done = post(client, ask, {"confirm": "yes"})
    assert done.status_code == 303 and done.headers["location"] == LIST
    after = client.get(LIST, headers=HTML).text
    assert "The segment &#39;Porto&#39; is deleted" in after
    assert f'id="segment-{w["porto"].id}"' not in after
    assert [s.name for s in saved_segments.listing(session, w["brand"].id)] == ["Best"]
    session.expire_all()
    assert session.get_one(Campaign, used).audience["filter"] == {"city": "Porto"}
    assert post(client, ask, {"confirm": "yes"}).status_code == 404


def test_another_brands_segment_is_not_found_and_an_analyst_only_reads(
    client: TestClient, session: Session
) -> None:
    w = porto_world(client, session, Role.analyst)
    other = make_brand(session, name="Other Records")
    theirs = saved_segments.save(
        session, other.id, "Theirs", {"kind": "segment", "segment": "loyal"}
    )
    session.commit()
    page = client.get(LIST, headers=HTML).text
    assert "Theirs" not in page and "Porto" in page
    assert f"{LIST}/{w['porto'].id}/delete" not in page  # no Delete for an analyst
    assert client.get(f"{LIST}/{w['porto'].id}/delete", headers=HTML).status_code == 403
    assert post(client, f"{LIST}/{w['porto'].id}/delete", {"confirm": "yes"}).status_code == 403
    assert client.get(f"{LIST}/{theirs.id}/delete", headers=HTML).status_code in (403, 404)
    assert client.get(f"{LIST}/not-an-id/delete", headers=HTML).status_code in (403, 404)
    assert count(session) == 3


def test_the_api_lists_segments_with_sizes_and_deletes_them(
    client: TestClient, session: Session
) -> None:
    w = porto_world(client, session)
    other = make_brand(session, name="Other Records")
    theirs = saved_segments.save(
        session, other.id, "Theirs", {"kind": "segment", "segment": "loyal"}
    )
    _, key = make_api_key(session, brand=w["brand"])
    session.commit()
    auth = {"authorization": f"Bearer {key}"}
    listed = client.get("/api/v1/segments", headers=auth)
    assert listed.status_code == 200
    assert [(s["name"], s["size"], s["size_as_of"]) for s in listed.json()["items"]] == [
        ("Best", None, "last_fit"),
        ("Porto", 2, "now"),
    ]
    assert listed.json()["items"][1]["audience"] == {"kind": "filter", "filter": {"city": "Porto"}}
    assert client.delete(f"/api/v1/segments/{theirs.id}", headers=auth).status_code == 404
    assert client.delete(f"/api/v1/segments/{w['porto'].id}", headers=auth).status_code == 204
    assert client.delete(f"/api/v1/segments/{w['porto'].id}", headers=auth).status_code == 404
    assert [s["name"] for s in client.get("/api/v1/segments", headers=auth).json()["items"]] == [
        "Best"
    ]
    assert count(session) == 2
