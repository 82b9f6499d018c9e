"""Who a conversation belongs to: an attachment is served to the person who wrote or received it
and to the brand's members, to no one else (another person, another brand, a member without
the right to converse); and an in-app message is answered as a conversation with its brand."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from accord.conversations import service
from accord.conversations.files import Upload
from accord.conversations.models import Thread
from accord.core.permissions import Role
from accord.core.settings import Settings
from accord.inbox import service as inbox
from accord.inbox.models import InboxItem
from tests.builders import PASSWORD, make_member
from tests.conversations import PNG, bearer, pair
from tests.helpers import csrf_of, sign_in_member, sign_in_person

HTML = {"accept": "text/html"}


def test_an_attachment_is_served_to_the_two_parties_only(
    client: TestClient, session: Session, settings: Settings
) -> None:
    mine, other = pair(session), pair(session)
    _, message = service.start_person_thread(
        session,
        settings,
        mine.person.id,
        mine.brand.id,
        subject="Label",
        body="Here",
        uploads=[Upload("label.png", PNG)],
    )
    file_id = service.attachments_of(session, [message.id])[message.id][0].id
    clerk = make_member(session, brand=mine.brand, role=Role.analyst)
    session.commit()

    brand_path = f"/api/v1/conversation-attachments/{file_id}"
    assert client.get(brand_path, headers=bearer(mine.key)).content == PNG
    assert client.get(brand_path, headers=bearer(other.key)).status_code == 404

    sign_in_person(client, session, other.person.email)
    for path in (f"/conversations/attachments/{file_id}", f"/api/v1/me/{brand_path[8:]}"):
        assert client.get(path).status_code == 404, path
    sign_in_person(client, session, mine.person.email)
    assert client.get(f"/conversations/attachments/{file_id}").content == PNG
    assert client.get(f"/api/v1/me/{brand_path[8:]}").content == PNG

    sign_in_member(client, clerk.email, PASSWORD)
    assert client.get(f"/console/conversations/attachments/{file_id}").status_code == 403
    sign_in_member(client, mine.member.email, PASSWORD)
    assert client.get(f"/console/conversations/attachments/{file_id}").content == PNG


def test_an_inapp_message_is_answered_as_a_conversation(
    client: TestClient, session: Session
) -> None:
    p = pair(session)
    inbox.deliver(
        session,
        [inbox.Delivery(1, p.brand.id, p.person.id, None, None, "Vinyl day", "Come by.", None)],
    )
    item = session.scalars(select(InboxItem)).one()
    session.commit()
    sign_in_person(client, session, p.person.email)
    page = client.get(f"/inbox/{item.id}", headers=HTML).text
    link = re.search(r'href="([^"]+)" id="reply-to-brand">Reply to ([^<]+)<', page)
    assert link is not None and link.group(2) == p.brand.name
    form = client.get(link.group(1).replace("&amp;", "&"), headers=HTML).text
    assert 'value="Re: Vinyl day"' in form
    assert re.search(rf'<option value="{p.brand.id}" selected', form), form
    sent = client.post(
        "/conversations",
        data={
            "csrf_token": csrf_of(client, "/conversations/new"),
            "brand_id": str(p.brand.id),
            "subject": "Re: Vinyl day",
            "body": "What time?",
        },
        headers=HTML,
        follow_redirects=False,
    )
    assert sent.status_code == 303, sent.text
    thread = session.scalars(select(Thread)).one()
    assert (thread.subject, thread.person_id, thread.brand_id) == (
        "Re: Vinyl day",
        p.person.id,
        p.brand.id,
    )
