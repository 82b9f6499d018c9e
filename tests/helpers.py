"""Small steps many tests take: reading the dev mailbox, signing in through real links."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import event, select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from accord.mail.models import DevMailMessage
from accord.sms.models import DevPhoneText

LINK = re.compile(r"https?://\S+/auth/link\?token=([\w-]+)")


def last_mail_to(session: Session, address: str) -> DevMailMessage:
    message = session.scalars(
        select(DevMailMessage)
        .where(DevMailMessage.recipients == address)
        .order_by(DevMailMessage.created_at.desc())
        .limit(1)
    ).first()
    assert message is not None, f"no mail to {address} in the dev mailbox"
    return message


def last_text_to(session: Session, number: str) -> DevPhoneText:
    """The latest text the dev phone received at `number` (E.164)."""
    text = session.scalars(
        select(DevPhoneText)
        .where(DevPhoneText.number == number, DevPhoneText.direction == "in")
        .order_by(DevPhoneText.id.desc())
        .limit(1)
    ).first()
    assert text is not None, f"no text to {number} on the dev phone"
    return text


def link_token(text: str) -> str:
    match = LINK.search(text)
    assert match is not None, f"no sign-in link in: {text!r}"
    return match.group(1)


def csrf_of(client: TestClient, path: str = "/signin") -> str:
    page = client.get(path, headers={"accept": "text/html"})
    match = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    assert match is not None, f"no CSRF token on {path}"
    return match.group(1)


def sign_in_person(client: TestClient, session: Session, email: str) -> None:
    """Ask for a link, take it from the dev mailbox and use it, as a person would."""
    response = client.post("/api/v1/auth/sign-in-links", json={"email": email})
    assert response.status_code == 202, response.text
    token = link_token(last_mail_to(session, email).text_body)
    token_field = {"token": token, "csrf_token": csrf_of(client)}
    used = client.post("/auth/link", data=token_field, follow_redirects=False)
    assert used.status_code == 303, used.text
    assert used.headers["location"] == "/home"


def sign_in_member(client: TestClient, email: str, password: str) -> None:
    csrf = csrf_of(client, "/console/signin")
    response = client.post(
        "/console/signin",
        data={"email": email, "password": password, "csrf_token": csrf},
        follow_redirects=False,
    )
    assert response.status_code == 303, response.text


@contextmanager
def statements_run(engine: Engine, *, kinds: tuple[str, ...] = ()) -> Iterator[list[str]]:
    """The SQL statements run on `engine` inside the block, those starting with one of `kinds`
    (all but savepoints when none are given): for a bound on how many a request runs, each
    costing a round whatever the data's size."""
    found: list[str] = []
    skipped = ("SAVEPOINT", "RELEASE", "ROLLBACK TO")

    def note(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        head = statement.lstrip().upper()
        if head.startswith(kinds) if kinds else not head.startswith(skipped):
            found.append(statement)

    event.listen(engine, "before_cursor_execute", note)
    try:
        yield found
    finally:
        event.remove(engine, "before_cursor_execute", note)


def selects_run(engine: Engine) -> AbstractContextManager[list[str]]:
    """The SELECT statements run on `engine` inside the block (a page's reads)."""
    return statements_run(engine, kinds=("SELECT", "WITH"))


def assert_each_read_once(reads: list[str], *, most: int | None = None) -> None:
    """No statement among `reads` ran twice, and (given `most`) at most `most` ran: a page's
    guard against a read repeated per panel or per row."""
    repeated = [s for s in set(reads) if reads.count(s) > 1]
    assert repeated == [], repeated
    if most is not None:
        assert len(reads) <= most, "\n".join(reads)
