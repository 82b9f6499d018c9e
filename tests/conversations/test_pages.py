"""The portal's conversation pages and the console inbox, through real forms: errors beside
their field with what was typed kept, files uploaded, filters, saved replies, notes the person
never sees, assignment, closing and the digest setting."""

from __future__ import annotations

import html
import re

from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from accord.conversations.models import MemberDigest, Message, SavedReply, Thread
from accord.core.permissions import Role
from tests.builders import PASSWORD, make_member
from tests.conversations import PNG, count, pair
from tests.helpers import csrf_of, sign_in_member, sign_in_person

HTML = {"accept": "text/html"}


def post(client: TestClient, path: str, data: dict[str, str], page: str, files: object = None):  # type: ignore[no-untyped-def]
    form = {"csrf_token": csrf_of(client, page), **data}
    return client.post(path, data=form, files=files, headers=HTML, follow_redirects=False)


def error_of(page: str, field: str) -> str:
    found = re.search(rf'id="f-{field}-error" role="alert">([^<]+)<', page)
    assert found is not None, f"no error beside {field}"
    return html.unescape(found.group(1))


def test_person_starts_replies_and_sees_errors_beside_fields(
    client: TestClient, session: Session
) -> None:
    p = pair(session, email="page.person@people.example")
    session.commit()
    sign_in_person(client, session, p.person.email)
    relationship = client.get(f"/relationships/{p.brand.id}", headers=HTML).text
    assert f"Write to {p.brand.name}" in relationship

    empty = post(
        client,
        "/conversations",
        {"brand_id": str(p.brand.id), "subject": "Kept", "body": " "},
        "/conversations/new",
    )
    assert empty.status_code == 422
    assert error_of(empty.text, "body") == "Write a message (it is empty)."
    assert 'value="Kept"' in empty.text

    bad_file = post(
        client,
        "/conversations",
        {"brand_id": str(p.brand.id), "subject": "", "body": "See the file"},
        "/conversations/new",
        files=[("attachments", ("page.html", b"<html>x</html>", "text/html"))],
    )
    assert bad_file.status_code == 422 and "not a file type" in error_of(
        bad_file.text, "attachments"
    )
    assert "See the file" in bad_file.text and count(session, Thread) == 0

    made = post(
        client,
        "/conversations",
        {"brand_id": str(p.brand.id), "subject": "Label", "body": "Here it is"},
        "/conversations/new",
        files=[
            ("attachments", ("label.png", PNG, "image/png")),
            ("attachments", ("", b"", "application/octet-stream")),
        ],
    )
    assert made.status_code == 303, made.text
    path = made.headers["location"]
    page = client.get(path, headers=HTML).text
    assert "Here it is" in page and "label.png" in page
    download = re.search(r'href="(/conversations/attachments/[^"]+)"', page)
    assert download is not None and client.get(download.group(1)).content == PNG

    replied = post(client, path, {"body": "And one more thing"}, path)
    assert replied.status_code == 303
    listing = client.get("/conversations", headers=HTML).text
    assert "Label" in listing and "You: And one more thing" in listing


def test_inbox_reply_note_assign_close_and_digest(client: TestClient, session: Session) -> None:
    from accord.conversations import service
    from accord.core.settings import Settings

    p = pair(session)
    colleague = make_member(session, brand=p.brand, role=Role.support)
    settings = Settings(secret_key="pages")  # type: ignore[arg-type]
    thread, _ = service.start_person_thread(
        session,
        settings,
        p.person.id,
        p.brand.id,
        subject="Broken sleeve",
        body="The sleeve is torn.",
    )
    service.create_saved_reply(
        session, p.brand.id, "Sorry", "We are sorry: a new copy is on its way."
    )
    session.commit()
    sign_in_member(client, p.member.email, PASSWORD)

    home = client.get("/console", headers=HTML).text
    assert "1</strong> waiting on you" in home and "Broken sleeve" in home
    inbox = client.get("/console/conversations?filter=waiting", headers=HTML).text
    assert "Broken sleeve" in inbox and "The sleeve is torn." in inbox and "Ada Lovelace" in inbox
    assert re.search(r'class="badge warn">1<span class="visually-hidden"> unread', inbox)

    path = f"/console/conversations/{thread.id}"
    saved = session.scalars(select(SavedReply)).one()
    with_saved = client.get(f"{path}?saved={saved.id}", headers=HTML).text
    assert "We are sorry: a new copy is on its way.</textarea>" in with_saved

    note = post(client, f"{path}/notes", {"note": "Customer since 2019"}, path)
    assert note.status_code == 303
    empty = post(client, f"{path}/reply", {"body": "", "close": "on"}, path)
    assert empty.status_code == 422 and error_of(empty.text, "body")
    sent = post(client, f"{path}/reply", {"body": "A new copy is on its way.", "close": "on"}, path)
    assert sent.status_code == 303
    session.refresh(thread)
    assert thread.status == "closed" and thread.waiting_on == "person"
    assigned = post(client, f"{path}/assign", {"member_id": str(colleague.id)}, path)
    assert assigned.status_code == 303
    session.refresh(thread)
    assert thread.assigned_member_id == colleague.id

    page = client.get(path, headers=HTML).text
    assert "Customer since 2019" in page and "Internal note" in page
    assert "Reopen conversation" in page

    off = post(client, "/console/conversations/digest", {}, "/console/conversations")
    assert off.status_code == 303
    assert session.get_one(MemberDigest, p.member.id).enabled is False

    # The person sees the answer, never the note.
    client.cookies.clear()
    sign_in_person(client, session, p.person.email)
    mine = client.get(f"/conversations/{thread.id}", headers=HTML).text
    assert "A new copy is on its way." in mine and "Customer since 2019" not in mine
    assert count(session, Message) == 2


def test_console_new_conversation_refuses_strangers_alike(
    client: TestClient, session: Session
) -> None:
    p = pair(session)
    session.commit()
    sign_in_member(client, p.member.email, PASSWORD)
    for person in ("nobody@nowhere.example", "not an address", str(p.member.id)):
        r = post(
            client,
            "/console/conversations/new",
            {"person": person, "subject": "Hi", "body": "Hello"},
            "/console/conversations/new",
        )
        assert r.status_code == 422
        assert (
            error_of(r.text, "person") == f"No one with this address or id follows {p.brand.name}."
        )
    ok = post(
        client,
        "/console/conversations/new",
        {"person": p.person.email, "subject": "Hi", "body": "Hello"},
        "/console/conversations/new",
    )
    assert ok.status_code == 303
    assert count(session, Thread) == 1


def test_a_member_without_the_right_is_refused(client: TestClient, session: Session) -> None:
    p = pair(session)
    analyst = make_member(session, brand=p.brand, role=Role.analyst)
    session.commit()
    sign_in_member(client, analyst.email, PASSWORD)
    assert client.get("/console/conversations", headers=HTML).status_code == 403
