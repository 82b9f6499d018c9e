"""Bulk consent import (`accord relationships import`, `POST /api/v1/consent/imports`): one
ledger event per decision, chains that verify, state that replays from the ledger, rejects with
their line and reason, nothing new on a second import, and confirmation mails through the
outbox (over a real SMTP server) for rows without a completed double opt-in."""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path

from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from accord.cli import app as cli_app
from accord.consent.models import LedgerEvent
from accord.consent.verification import verify
from accord.core.db import utcnow
from accord.core.settings import EmailBackend, Settings
from accord.delivery.worker import Worker
from accord.outbox.models import OutboxMessage
from accord.people import service as people_service
from accord.people.models import ContactPoint, Person
from accord.relationships import consent_import, replay
from accord.relationships.models import PurposeGrant, Relationship, TopicChoice
from tests.builders import make_api_key, make_brand, make_person, make_relationship, make_topic
from tests.conftest import RolledBackDatabase
from tests.helpers import csrf_of
from tests.smtp_sink import smtp_sink, text_of

WHEN = (utcnow() - timedelta(days=30)).strftime("%Y-%m-%dT%H:%M:%SZ")


def csv_rows(text: str) -> list[tuple[int, dict[str, str]]]:
    import csv
    import io

    return list(enumerate(csv.DictReader(io.StringIO(text)), start=2))


def count(session: Session, model: type) -> int:
    return session.scalar(select(func.count()).select_from(model)) or 0


def test_import_grants_requests_and_rejects(session: Session, settings: Settings) -> None:
    brand = make_brand(session)
    topic = make_topic(session, brand=brand, slug="news")
    ended = make_person(session, email="ended@people.example")
    rel = make_relationship(session, person=ended, brand=brand)
    from accord.relationships import decisions

    decisions.end(session, rel, decisions.PORTAL)
    own = make_person(session, email="own@people.example")
    make_relationship(session, person=own, brand=brand)
    text = (
        "email,source,collected_at,ip,form_url,double_opt_in,topics,channels\n"
        f"a@people.example,signup form,{WHEN},203.0.113.1,,yes,news,email\n"
        f"b@people.example,checkout,{WHEN},,https://shop.example/c,no,,\n"
        f"not-an-address,checkout,{WHEN},203.0.113.1,,yes,,\n"
        f"c@people.example,checkout,{WHEN},,,yes,,\n"
        f"d@people.example,checkout,{WHEN},203.0.113.1,,yes,nosuch,\n"
        f"a@people.example,again,{WHEN},203.0.113.1,,yes,,\n"
        f"ended@people.example,checkout,{WHEN},203.0.113.1,,yes,,\n"
        f"own@people.example,checkout,{WHEN},203.0.113.1,,yes,,\n"
        f"e@people.example,checkout,2999-01-01,203.0.113.1,,maybe,,\n"
    )
    report = consent_import.run(session, settings, brand, iter(csv_rows(text)), chunk=3)
    assert (report.rows, report.granted, report.requested, report.rejected) == (9, 1, 1, 7)
    reasons = dict(report.rejects)
    assert reasons[4].startswith("email:")
    assert reasons[5].startswith("ip, form_url:")
    assert "nosuch" in reasons[6]
    assert "line 2" in reasons[7]
    assert "ended" in reasons[8]
    assert "manages this relationship" in reasons[9]
    assert reasons[10].startswith(("collected_at", "double_opt_in"))

    a = session.scalars(select(Person).where(Person.email == "a@people.example")).one()
    b = session.scalars(select(Person).where(Person.email == "b@people.example")).one()
    grants = {
        p: s
        for p, s in session.execute(
            select(PurposeGrant.person_id, PurposeGrant.status).where(
                PurposeGrant.brand_id == brand.id
            )
        )
    }
    assert grants[a.id] == "granted" and grants[b.id] == "pending"
    point = session.scalars(select(ContactPoint).where(ContactPoint.person_id == a.id)).one()
    assert point.verified_at is not None  # the completed double opt-in proved the address
    for person in (a, b):
        events = session.scalars(
            select(LedgerEvent).where(LedgerEvent.subject_id == person.id)
        ).all()
        assert [e.action for e in events] == (
            ["import_grant"] if person is a else ["import_request"]
        )
        assert replay.replay(session, person.id) == replay.stored(session, person.id)
    assert str(topic.id) in replay.replay(session, a.id).brands[str(brand.id)].topics
    assert verify(session)[1] == []
    queued = session.scalars(select(OutboxMessage).where(OutboxMessage.brand_id == brand.id)).all()
    assert [m.person_id for m in queued] == [b.id]

    # The same file again writes nothing.
    events_before, outbox_before = count(session, LedgerEvent), count(session, OutboxMessage)
    again = consent_import.run(session, settings, brand, iter(csv_rows(text)))
    assert (again.granted, again.requested, again.already) == (0, 0, 2)
    assert count(session, LedgerEvent) == events_before
    assert count(session, OutboxMessage) == outbox_before


def test_people_stored_before_and_addresses_held_by_someone_else(
    session: Session, settings: Settings
) -> None:
    """Rows of people stored before the chunk (who may have the rows already: INSERT … ON
    CONFLICT DO NOTHING on PostgreSQL, where the new people's rows go by COPY), a grant waiting
    for confirmation that a later file confirms, and an address that another person's
    contact point holds (the new person gets none; the confirmation verifies that one)."""
    brand = make_brand(session)
    topic = make_topic(session, brand=brand, slug="news")
    known = make_person(session, email="known@people.example", verified=False)
    owner = make_person(session, email="owner@people.example")
    session.add(ContactPoint(person_id=owner.id, channel="email", address="held@people.example",
                             address_normalised="held@people.example"))  # fmt: skip
    session.flush()
    header = "email,source,collected_at,ip,double_opt_in,purpose,topics\n"
    first = (
        f"known@people.example,form,{WHEN},203.0.113.1,no,marketing,news\n"
        f"held@people.example,form,{WHEN},203.0.113.1,yes,marketing,\n"
        f"later@people.example,form,{WHEN},203.0.113.1,yes,marketing,news\n"
    )
    report = consent_import.run(session, settings, brand, iter(csv_rows(header + first)))
    assert (report.granted, report.requested, report.people_created) == (2, 1, 2)
    held = session.scalars(select(Person).where(Person.email == "held@people.example")).one()
    points = session.scalars(
        select(ContactPoint).where(ContactPoint.address_normalised == "held@people.example")
    ).all()
    assert [(p.person_id, p.verified_at is not None) for p in points] == [(owner.id, True)]

    second = (
        f"known@people.example,form,{WHEN},203.0.113.1,yes,marketing,news\n"
        f"later@people.example,form,{WHEN},203.0.113.1,yes,marketing,news\n"
    )
    again = consent_import.run(session, settings, brand, iter(csv_rows(header + second)), chunk=1)
    assert (again.granted, again.requested, again.already, again.people_created) == (1, 0, 1, 0)
    later = session.scalars(select(Person).where(Person.email == "later@people.example")).one()
    statuses = dict(
        session.execute(
            select(PurposeGrant.person_id, PurposeGrant.status).where(
                PurposeGrant.brand_id == brand.id, PurposeGrant.purpose == "marketing"
            )
        ).all()
    )
    assert statuses == {known.id: "granted", held.id: "granted", later.id: "granted"}
    assert count(session, TopicChoice) == 2  # known's and later's, one each
    assert session.get(TopicChoice, (known.id, topic.id)) is not None
    session.expire_all()
    (point,) = people_service.contact_points(session, known.id)
    assert point.verified_at is not None
    assert count(session, Relationship) == 3
    for person in (known, held, later):
        assert replay.replay(session, person.id) == replay.stored(session, person.id)
    assert verify(session)[1] == []


def test_confirmation_mail_goes_through_the_outbox_and_confirms(
    session: Session, settings: Settings, database: RolledBackDatabase, client: TestClient
) -> None:
    brand = make_brand(session)
    text = (
        "email,source,collected_at,ip,double_opt_in\n"
        f"new@people.example,newsletter form,{WHEN},198.51.100.2,no\n"
    )
    consent_import.run(session, settings, brand, iter(csv_rows(text)))
    person = session.scalars(select(Person).where(Person.email == "new@people.example")).one()
    with smtp_sink() as sink:
        smtp = settings.model_copy(
            update={
                "email_backend": EmailBackend.smtp,
                "smtp_host": sink.host,
                "smtp_port": sink.port,
            }
        )
        outcome = Worker(database, smtp).run_once(utcnow() + timedelta(seconds=1))
        assert outcome.sent == 1
        (mail,) = sink.messages
    assert str(mail["To"]) == "new@people.example"
    token = re.search(r"token=([\w-]+)", text_of(mail))
    assert token is not None
    url = f"/consent/confirm?token={token.group(1)}"
    answer = client.post(
        "/consent/confirm", data={"token": token.group(1), "csrf_token": csrf_of(client, url)}
    )
    assert answer.status_code in (200, 303)
    session.expire_all()
    grant = session.get(PurposeGrant, (person.id, brand.id, "marketing"))
    assert grant is not None and grant.status == "granted"
    assert replay.replay(session, person.id) == replay.stored(session, person.id)


def test_batch_api(client: TestClient, session: Session) -> None:
    brand = make_brand(session)
    _, key = make_api_key(session, brand=brand)
    rows = [
        {"email": "x@people.example", "source": "form", "collected_at": WHEN,
         "ip": "203.0.113.9", "double_opt_in": "yes"},
        {"email": "y@people.example", "source": "form", "collected_at": "yesterday",
         "ip": "203.0.113.9"},
    ]  # fmt: skip
    headers = {"Authorization": f"Bearer {key}"}
    answer = client.post("/api/v1/consent/imports", json={"rows": rows}, headers=headers)
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert (body["granted"], body["rejected"]) == (1, 1)
    assert body["rejects"][0]["line"] == 2
    assert body["rejects"][0]["reason"].startswith("collected_at")
    again = client.post("/api/v1/consent/imports", json={"rows": rows[:1]}, headers=headers)
    assert again.json()["already"] == 1
    nul = client.post(
        "/api/v1/consent/imports",
        json={"rows": [rows[0] | {"source": "a\x00b"}]},
        headers=headers,
    )
    assert nul.status_code == 422
    assert count(session, Relationship) == 1


def test_cli_writes_rejects_file(tmp_path: Path) -> None:
    """The command, end to end, on a SQLite file of its own (it commits)."""
    db = tmp_path / "cli.db"
    env = {
        "ACCORD_DATABASE_URL": f"sqlite:///{db}",
        "ACCORD_VAR_DIR": str(tmp_path),
        "ACCORD_SECRET_KEY": "k" * 40,
    }
    runner = CliRunner()
    assert runner.invoke(cli_app, ["db", "upgrade"], env=env).exit_code == 0
    made = runner.invoke(
        cli_app,
        ["brand", "create", "--name", "Shop", "--slug", "shop", "--sender-email",
         "n@shop.example", "--support-email", "h@shop.example"],
        env=env,
    )  # fmt: skip
    assert made.exit_code == 0, made.output
    source = tmp_path / "optins.csv"
    source.write_text(
        "email,source,collected_at,ip,double_opt_in\n"
        f"p@people.example,form,{WHEN},203.0.113.1,yes\n"
        f"bad,form,{WHEN},203.0.113.1,yes\n"
    )
    rejects = tmp_path / "rejects.csv"
    args = ["relationships", "import", str(source), "--brand", "shop", "--rejects", str(rejects)]
    first = runner.invoke(cli_app, args, env=env)
    assert first.exit_code == 0, first.output
    lines = rejects.read_text().splitlines()
    assert lines[0] == "line,reason,email,source,collected_at,ip,double_opt_in"
    assert lines[1].startswith("3,email:")
    second = runner.invoke(cli_app, args, env=env)
    assert second.exit_code == 0 and "already there" in second.output
