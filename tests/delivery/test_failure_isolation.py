"""A message that cannot be made fails alone (issue 17, part 1): a template that raises at render
time, a header that cannot be encoded (a line break in a person's name, a brand's sender name,
a rendered subject) or a template past its limits fails that row with its reason and attempt,
the other rows of the chunk, of every brand, go; a row claimed again and again without a
verdict is given up (`dead`), and the report says so. Templates are checked when saved by
rendering them for made-up people and a sample of the brand's own."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import insert, select, update
from sqlalchemy.orm import Session

from accord.brands.models import Brand
from accord.core.settings import EmailBackend, Settings
from accord.delivery.outcomes import MAX_ATTEMPTS
from accord.delivery.worker import Worker
from accord.outbox.models import OutboxMessage
from accord.people.models import Person
from accord.relationships.models import Topic
from tests.builders import make_api_key, make_brand, make_person, make_relationship, make_topic
from tests.conftest import RolledBackDatabase
from tests.smtp_sink import Sink, smtp_sink

NOW = datetime.now(UTC).replace(microsecond=0) + timedelta(seconds=30)
GOOD = {"subject": "News for {{ person.name }}", "text": "Hello {{ person.first_name }}"}


@pytest.fixture
def sink() -> Iterator[Sink]:
    with smtp_sink() as s:
        yield s


def smtp(settings: Settings, sink: Sink) -> Settings:
    return settings.model_copy(
        update={"email_backend": EmailBackend.smtp, "smtp_host": sink.host, "smtp_port": sink.port}
    )


def audience(session: Session, brand: Brand, topic: Topic, names: list[str]) -> list[Person]:
    people = []
    for name in names:
        person = make_person(session, display_name=name)
        make_relationship(
            session,
            person=person,
            brand=brand,
            marketing=True,
            channels=("email",),
            topics_on=(topic,),
        )
        people.append(person)
    return people


def queue(session: Session, person: Person, topic: Topic, payload: dict[str, str]) -> int:
    return int(
        session.execute(
            insert(OutboxMessage)
            .values(
                brand_id=topic.brand_id,
                person_id=person.id,
                topic_id=topic.id,
                channel="email",
                purpose="marketing",
                idempotency_key=f"iso:{person.id.hex}",
                state="queued",
                not_before=NOW,
                attempts=0,
                payload=payload,
            )
            .returning(OutboxMessage.id)
        ).scalar_one()
    )


def test_messages_that_cannot_be_made_fail_alone_and_the_rest_of_the_chunk_goes(
    session: Session, database: RolledBackDatabase, settings: Settings, sink: Sink
) -> None:
    shop, other = make_brand(session), make_brand(session)
    shop_topic, other_topic = make_topic(session, brand=shop), make_topic(session, brand=other)
    shop_people = audience(session, shop, shop_topic, [f"Shop {i}" for i in range(8)])
    other_people = audience(session, other, other_topic, [f"Other {i}" for i in range(4)])
    # What input validation refuses today, as it may still be in the database from before.
    session.execute(
        update(Person).where(Person.id == shop_people[3].id).values(display_name="Eve\r\nBcc: x")
    )
    bad = {
        "mro": queue(
            session, shop_people[0], shop_topic, GOOD | {"text": "{{ ''.__class__.__mro__ }}"}
        ),
        "include": queue(session, shop_people[1], shop_topic, GOOD | {"text": "{% include 'x' %}"}),
        "limit": queue(
            session,
            shop_people[2],
            shop_topic,
            GOOD
            | {
                "text": "{% for a in range(200) %}{% for b in range(200) %}x"
                "{% endfor %}{% endfor %}"
            },
        ),
        "name": queue(session, shop_people[3], shop_topic, GOOD),
        "subject": queue(
            session, shop_people[4], shop_topic, GOOD | {"subject": "A{{ '\\r\\n' }}Bcc: x"}
        ),
    }
    good = [queue(session, p, shop_topic, GOOD) for p in shop_people[5:]]
    # Another brand whose sender name holds a line break: each of its messages fails alone.
    broken = make_brand(session)
    broken_topic = make_topic(session, brand=broken)
    broken_person = audience(session, broken, broken_topic, ["Broken 0"])[0]
    session.execute(update(Brand).where(Brand.id == broken.id).values(sender_name="B\nBcc: x"))
    bad["sender"] = queue(session, broken_person, broken_topic, GOOD)
    good += [queue(session, p, other_topic, GOOD) for p in other_people]
    session.commit()

    outcome = Worker(database, smtp(settings, sink)).run_once(NOW)

    rows = {r.id: r for r in session.scalars(select(OutboxMessage)).all()}
    assert (outcome.sent, outcome.failed) == (len(good), len(bad))
    assert all(rows[i].state == "sent" and rows[i].attempts == 1 for i in good)
    reasons = {name: (rows[i].state, rows[i].reason) for name, i in bad.items()}
    assert reasons == {
        "mro": ("failed", "render_error"),
        "include": ("failed", "render_error"),
        "limit": ("failed", "template_limit"),
        "name": ("failed", "bad_header"),
        "subject": ("failed", "bad_header"),
        "sender": ("failed", "bad_header"),
    }
    assert all(rows[i].attempts == 1 and rows[i].last_error for i in bad.values())
    assert all(r.lease_owner is None for r in rows.values())
    assert len(sink.messages) == len(good)
    assert all("Bcc" not in str(m["Subject"]) and m["Bcc"] is None for m in sink.messages)


def test_a_row_claimed_again_and_again_without_a_verdict_is_given_up(
    client: TestClient,
    session: Session,
    database: RolledBackDatabase,
    settings: Settings,
    sink: Sink,
) -> None:
    """Every path has the attempt cap: a row whose worker is killed (or cut off) each time it
    holds it comes back after its lease, attempt after attempt, then it is dead; the report
    in the API and the console counts it."""
    brand = make_brand(session)
    _, key = make_api_key(session, brand=brand)
    topic = make_topic(session, brand=brand)
    people = audience(session, brand, topic, ["Ann Example", "Bob Example"])
    session.commit()
    created = client.post(
        "/api/v1/campaigns",
        json={"name": "Cap", "topic_id": str(topic.id), "subject": "Hi", "text": "Hello"},
        headers={"Authorization": f"Bearer {key}"},
    )
    assert created.status_code == 201, created.text
    cid = created.json()["id"]
    client.post(f"/api/v1/campaigns/{cid}/send", headers={"Authorization": f"Bearer {key}"})
    worker = Worker(database, smtp(settings, sink))
    now = datetime.now(UTC) + timedelta(seconds=30)  # every row resolved now is due then
    worker.schedule(now)
    # The first person's row: held by a worker that died on its last allowed attempt.
    session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.person_id == people[0].id)
        .values(
            state="sending",
            attempts=MAX_ATTEMPTS,
            lease_owner="killed",
            lease_expires_at=now - timedelta(seconds=1),
        )
    )
    session.commit()
    outcome = worker.run_once(now)
    assert (outcome.sent, outcome.dead) == (1, 1)
    dead = session.scalars(
        select(OutboxMessage).where(OutboxMessage.person_id == people[0].id)
    ).one()
    session.refresh(dead)
    assert (dead.state, dead.reason, dead.lease_owner) == ("dead", "attempts", None)
    assert dead.attempts == MAX_ATTEMPTS + 1 and "attempts" in (dead.last_error or "")
    assert [str(m["To"]) for m in sink.messages] == [people[1].email]
    report = client.get(
        f"/api/v1/campaigns/{cid}/report", headers={"Authorization": f"Bearer {key}"}
    ).json()
    assert report["states"]["dead"] == 1 and report["states"]["sent"] == 1


BAD_TEMPLATES = [
    ("text", "{{ ''.__class__.__mro__ }}"),
    ("text", "{% include 'x' %}"),
    ("text", "{% macro m() %}x{% endmacro %}{{ m() }}"),
    ("html", "{{ brand.name * 100000 }}"),
    (
        "text",
        "{% for a in brand.name %}{% for b in brand.name %}{% for c in brand.name %}"
        "{% for d in brand.name %}x{% endfor %}{% endfor %}{% endfor %}{% endfor %}",
    ),
    ("text", "{{ person.name.format() }}"),
    ("text", "{{ 'x' | center(99999999) }}"),
    ("subject", "Hi{{ '\\n' }}Bcc: x"),
    ("subject", "{{ brand.postal_address }}"),  # a postal address has several lines
]


@pytest.mark.parametrize(("field", "source"), BAD_TEMPLATES)
def test_a_template_that_cannot_render_is_refused_when_saved(
    client: TestClient, session: Session, field: str, source: str
) -> None:
    brand = make_brand(session)
    _, key = make_api_key(session, brand=brand)
    topic = make_topic(session, brand=brand)
    session.commit()
    body = {"name": "Bad", "topic_id": str(topic.id), "subject": "Hi", "text": "Hello"}
    answer = client.post(
        "/api/v1/campaigns",
        json=body | {field: source},
        headers={"Authorization": f"Bearer {key}"},
    )
    assert answer.status_code == 422, answer.text
    assert answer.json()["field"] == field
    assert session.scalar(select(OutboxMessage.id)) is None


def test_the_check_renders_with_the_brands_own_people(client: TestClient, session: Session) -> None:
    """A template that fails only for a name that one brand's people have is refused for that
    brand and accepted for another."""
    text = "{{ 10 / (person.name | length - 7) }}"  # divides by zero for a 7-letter name
    answers = {}
    for names in (["Barbara Example", "Barbara"], ["Anne Example"]):
        brand = make_brand(session)
        _, key = make_api_key(session, brand=brand)
        topic = make_topic(session, brand=brand)
        audience(session, brand, topic, names)
        session.commit()
        answer = client.post(
            "/api/v1/campaigns",
            json={"name": "N", "topic_id": str(topic.id), "subject": "Hi", "text": text},
            headers={"Authorization": f"Bearer {key}"},
        )
        answers[names[-1]] = answer.status_code
        if answer.status_code == 422:
            assert answer.json()["field"] == "text"
            assert "ZeroDivisionError" in answer.json()["detail"]
    assert answers == {"Barbara": 422, "Anne Example": 201}
