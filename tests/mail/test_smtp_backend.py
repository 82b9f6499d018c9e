"""The smtp backend hands mail to a real SMTP server, only after the request commits."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from accord.app import create_app
from accord.core.settings import EmailBackend, Settings
from accord.mail.backends import Email, SmtpMailer, compose
from tests.conftest import RolledBackDatabase
from tests.helpers import LINK, csrf_of
from tests.smtp_sink import Sink, smtp_sink, text_of


@pytest.fixture
def sink() -> Iterator[Sink]:
    with smtp_sink() as s:
        yield s


@pytest.fixture
def smtp_client(
    settings: Settings, database: RolledBackDatabase, sink: Sink
) -> Iterator[TestClient]:
    smtp_settings = settings.model_copy(
        update={"email_backend": EmailBackend.smtp, "smtp_host": sink.host, "smtp_port": sink.port}
    )
    with TestClient(create_app(smtp_settings, database=database)) as client:
        yield client


def test_magic_link_arrives_over_smtp_and_signs_in(
    smtp_client: TestClient, sink: Sink, session: Session
) -> None:
    response = smtp_client.post("/api/v1/people", json={"email": "smtp@example.com"})
    assert response.status_code == 202
    [message] = sink.to("smtp@example.com")
    assert message["Subject"] == "Your Accord sign-in link"
    assert message["Message-ID"]
    assert message.is_multipart()
    match = LINK.search(text_of(message))
    assert match is not None
    used = smtp_client.post(
        "/auth/link",
        data={"token": match.group(1), "csrf_token": csrf_of(smtp_client)},
        follow_redirects=False,
    )
    assert used.status_code == 303
    assert smtp_client.get("/api/v1/me").json()["email"] == "smtp@example.com"


def test_mail_leaves_only_when_the_unit_of_work_commits(
    settings: Settings, database: RolledBackDatabase, sink: Sink
) -> None:
    smtp_settings = settings.model_copy(update={"smtp_host": sink.host, "smtp_port": sink.port})
    mailer = SmtpMailer(smtp_settings)
    with database.session() as session:
        mailer.send(
            session, compose(smtp_settings, Email(to="a@example.com", subject="s", text="t"))
        )
        session.rollback()
        session.commit()
    assert sink.to("a@example.com") == []
    with database.session() as session:
        mailer.send(
            session, compose(smtp_settings, Email(to="b@example.com", subject="s", text="t"))
        )
        assert sink.to("b@example.com") == []
        session.commit()
    assert len(sink.to("b@example.com")) == 1
