"""How many statements a thread's console page runs: each thing it shows is read once, in
statements built once (the thread, its messages and notes, the brand's members and saved
replies, the person, the relationship), whatever the number of messages."""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from accord.conversations import service
from accord.core.settings import Settings
from tests.builders import PASSWORD
from tests.conversations import pair
from tests.helpers import assert_each_read_once, selects_run, sign_in_member

HTML = {"accept": "text/html"}
# The member with its brand (the page shows that row's name), the thread, its messages, notes
# and attachments, the members, the saved replies, the person and the relationship (whether
# the brand may answer); the sign-in check is a prepared read and passes no engine event.
THREAD_PAGE_SELECTS = 9


def test_a_thread_console_page_reads_each_thing_once(
    app: FastAPI, client: TestClient, session: Session, settings: Settings
) -> None:
    p = pair(session)
    thread, _ = service.start_person_thread(
        session, settings, p.person.id, p.brand.id, subject="Broken sleeve", body="Torn."
    )
    for n in range(3):
        service.person_reply(session, settings, p.person.id, thread.id, body=f"More {n}.")
    session.commit()
    sign_in_member(client, p.member.email, PASSWORD)
    path = f"/console/conversations/{thread.id}"
    client.get(path, headers=HTML)  # warm: nothing first-time counts
    with selects_run(app.state.db.engine) as selects:
        page = client.get(path, headers=HTML)
    assert page.status_code == 200 and "Broken sleeve" in page.text and "More 2." in page.text
    assert_each_read_once(selects, most=THREAD_PAGE_SELECTS)
