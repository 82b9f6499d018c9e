"""Members: new ones start least-privileged; roles change and members go, never the last owner."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from accord.brands import service
from accord.brands.models import Member
from accord.core.permissions import Role
from tests.builders import PASSWORD, make_brand, make_member
from tests.helpers import csrf_of, sign_in_member

HTML = {"accept": "text/html"}


def test_the_last_owner_stays_and_others_change_or_go(client: TestClient, session: Session) -> None:
    brand = make_brand(session)
    owner = make_member(session, brand=brand)
    other = make_member(session, brand=brand, role=Role.marketer)
    other_id = other.id
    sign_in_member(client, owner.email, PASSWORD)
    page = client.get("/console/members", headers=HTML).text
    assert '<option value="support" selected>' in page  # the add form's default
    csrf = csrf_of(client, "/console/members")
    kept = client.post(
        f"/console/members/{owner.id}/role",
        data={"role": "analyst", "csrf_token": csrf},
        headers=HTML,
    )
    assert kept.status_code == 422 and "The last owner cannot change role" in kept.text
    gone = client.post(
        f"/console/members/{owner.id}/remove", data={"csrf_token": csrf}, follow_redirects=False
    )
    assert gone.status_code == 303
    session.expire_all()
    assert session.get(Member, owner.id) is not None
    changed = client.post(
        f"/console/members/{other.id}/role",
        data={"role": "analyst", "csrf_token": csrf},
        follow_redirects=False,
    )
    assert changed.status_code == 303
    session.expire_all()
    assert service.get_member(session, brand.id, other.id).role == "analyst"
    bad = client.post(
        f"/console/members/{other.id}/role",
        data={"role": "emperor", "csrf_token": csrf},
        headers=HTML,
    )
    assert bad.status_code == 422 and "Choose one of the options in the list." in bad.text
    removed = client.post(
        f"/console/members/{other.id}/remove", data={"csrf_token": csrf}, follow_redirects=False
    )
    assert removed.status_code == 303
    session.expunge_all()
    assert session.scalar(select(Member.id).where(Member.id == other_id)) is None


def test_a_removed_member_signed_in_elsewhere_is_refused(
    client: TestClient, session: Session
) -> None:
    """The session's check reads the member with it: a member gone since signing in is
    refused at their next request, on a page and in the API."""
    brand = make_brand(session)
    make_member(session, brand=brand)
    other = make_member(session, brand=brand, role=Role.marketer)
    sign_in_member(client, other.email, PASSWORD)
    assert client.get("/api/v1/brand").status_code == 200
    assert client.get("/console/members", headers=HTML).status_code == 200
    session.delete(other)
    session.flush()
    assert client.get("/api/v1/brand").status_code == 401
    page = client.get("/console/members", headers=HTML, follow_redirects=False)
    assert page.status_code == 303
    assert page.headers["location"] == "/console/signin?next=/console/members"
