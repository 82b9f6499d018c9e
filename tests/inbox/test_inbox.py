"""The in-app inbox: delivery (idempotent), the portal page with its unread count, read and
archive, a brand's app through a person-scoped token, read rates."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from accord.core.settings import Settings
from accord.inbox import service
from accord.inbox.models import InboxItem
from accord.inbox.service import Delivery
from tests.builders import make_api_key, make_brand, make_person, make_relationship
from tests.helpers import csrf_of, sign_in_person


def _deliver(session: Session, brand_id, person_id, n: int, start: int = 1) -> int:  # type: ignore[no-untyped-def]
    return service.deliver(
        session,
        [
            Delivery(
                start + i,
                brand_id,
                person_id,
                None,
                None,
                f"Hello {start + i}",
                "Body",
                "https://shop.example/a",
            )
            for i in range(n)
        ],
    )


def _unread_badge(html: str) -> int:
    found = re.search(r'id="inbox-unread">(\d+)', html)
    return int(found.group(1)) if found else 0


def test_delivery_is_idempotent_by_outbox_row(session: Session) -> None:
    brand, person = make_brand(session), make_person(session)
    assert _deliver(session, brand.id, person.id, 3) == 3
    assert _deliver(session, brand.id, person.id, 3) == 0  # a retried hand-over
    assert service.unread_count(session, person.id) == 3
    unsafe = Delivery(99, brand.id, person.id, None, None, "x", "y", "javascript:alert(1)")
    service.deliver(session, [unsafe])
    assert session.scalars(select(InboxItem.url).where(InboxItem.message_id == 99)).one() is None


def test_portal_inbox_unread_count_read_and_archive(client: TestClient, session: Session) -> None:
    brand, person = make_brand(session, name="Harbour Books"), make_person(session)
    sign_in_person(client, session, person.email)
    _deliver(session, brand.id, person.id, 2)
    page = client.get("/inbox")
    assert _unread_badge(page.text) == 2 and "Harbour Books" in page.text
    first = session.scalars(select(InboxItem).where(InboxItem.message_id == 1)).one()
    opened = client.get(f"/inbox/{first.id}")
    assert opened.status_code == 200 and "Hello 1" in opened.text
    assert _unread_badge(opened.text) == 1
    csrf = csrf_of(client, "/inbox")
    client.post(f"/inbox/{first.id}/archive", data={"csrf_token": csrf, "show": "all"})
    assert "Hello 1" in client.get("/inbox?show=archived").text
    assert "Hello 1" not in client.get("/inbox?show=all").text
    client.post("/inbox/read-all", data={"csrf_token": csrf})
    assert _unread_badge(client.get("/inbox").text) == 0
    assert client.get("/api/v1/me/inbox/unread-count").json() == {"unread": 0}
    marked = client.patch(
        f"/api/v1/me/inbox/{first.id}", json={"read": False}, headers={"x-csrf-token": csrf}
    )
    assert marked.status_code == 200 and marked.json()["read_at"] is None
    assert client.get("/api/v1/me/inbox?show=unread").json()["items"] == []  # archived


def test_someone_elses_item_is_404(client: TestClient, session: Session) -> None:
    brand, me, other = make_brand(session), make_person(session), make_person(session)
    _deliver(session, brand.id, other.id, 1)
    item = session.scalars(select(InboxItem)).one()
    sign_in_person(client, session, me.email)
    assert client.get(f"/inbox/{item.id}").status_code == 404
    csrf = csrf_of(client, "/inbox")
    response = client.patch(
        f"/api/v1/me/inbox/{item.id}", json={"read": True}, headers={"x-csrf-token": csrf}
    )
    assert response.status_code == 404
    assert session.get(InboxItem, item.id).read_at is None  # type: ignore[union-attr]


def test_a_brands_app_shows_its_part_with_a_person_token(
    client: TestClient, session: Session, settings: Settings
) -> None:
    brand, other_brand, person = make_brand(session), make_brand(session), make_person(session)
    make_relationship(session, person=person, brand=brand)
    _, key = make_api_key(session, brand=brand)
    _deliver(session, brand.id, person.id, 2, start=1)
    _deliver(session, other_brand.id, person.id, 1, start=10)
    issued = client.post(
        "/api/v1/inbox-tokens",
        json={"person_id": str(person.id)},
        headers={"authorization": f"Bearer {key}"},
    )
    assert issued.status_code == 201, issued.text
    app = {"authorization": f"Bearer {issued.json()['token']}"}
    listed = client.get("/api/v1/inbox", headers=app).json()["items"]
    assert {i["title"] for i in listed} == {"Hello 1", "Hello 2"}  # not the other brand's
    assert client.get("/api/v1/inbox/unread-count", headers=app).json() == {"unread": 2}
    theirs = session.scalars(select(InboxItem).where(InboxItem.message_id == 10)).one()
    assert (
        client.patch(f"/api/v1/inbox/{theirs.id}", json={"read": True}, headers=app).status_code
        == 404
    )
    done = client.patch(f"/api/v1/inbox/{listed[0]['id']}", json={"read": True}, headers=app)
    assert done.status_code == 200 and done.json()["read_at"] is not None
    rates = client.get(
        "/api/v1/inbox-read-rates", headers={"authorization": f"Bearer {key}"}
    ).json()
    assert rates == [
        {"campaign_id": None, "delivered": 2, "read": 1, "archived": 0, "read_rate": 0.5}
    ]


def test_inbox_tokens_refuse_bad_input(client: TestClient, session: Session) -> None:
    brand, stranger = make_brand(session), make_person(session)
    _, key = make_api_key(session, brand=brand)
    auth = {"authorization": f"Bearer {key}"}
    # A person with no relationship: 404, the same as a person who does not exist.
    unrelated = client.post(
        "/api/v1/inbox-tokens", json={"person_id": str(stranger.id)}, headers=auth
    )
    missing = client.post(
        "/api/v1/inbox-tokens",
        json={"person_id": "00000000-0000-4000-8000-000000000000"},
        headers=auth,
    )
    assert unrelated.status_code == missing.status_code == 404
    assert unrelated.json()["detail"] == missing.json()["detail"]
    too_long = client.post(
        "/api/v1/inbox-tokens",
        json={"person_id": str(stranger.id), "minutes": 100000},
        headers=auth,
    )
    assert too_long.status_code == 422 and too_long.json()["field"].endswith("minutes")
    for bad in ("nonsense", "", key):
        response = client.get("/api/v1/inbox", headers={"authorization": f"Bearer {bad}"})
        assert response.status_code == 401, bad
    assert client.get("/api/v1/inbox").status_code == 401
    assert session.scalar(select(func.count()).select_from(InboxItem)) == 0


def test_the_console_shows_read_rates(client: TestClient, session: Session) -> None:
    from tests.builders import make_member
    from tests.helpers import sign_in_member

    brand, person = make_brand(session), make_person(session)
    member = make_member(session, brand=brand)
    _deliver(session, brand.id, person.id, 4)
    item = session.scalars(select(InboxItem).where(InboxItem.message_id == 1)).one()
    service.mark(session, person.id, item.id, read=True)
    from tests.builders import PASSWORD

    sign_in_member(client, member.email, PASSWORD)
    page = client.get("/console/inbox")
    assert page.status_code == 200 and "25.0%" in page.text
