"""Tracking only with consent: opens and clicks only for people who granted profiling and whose
terms do not forbid tracking; signed click redirects that go only to the message's link."""

from __future__ import annotations

import re
import uuid

from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from accord.core.settings import Settings
from accord.delivery import tracking
from accord.delivery.worker import Worker
from accord.outbox.models import DeliveryEvent
from accord.relationships import decisions
from accord.relationships.models import Topic
from accord.relationships.vocabulary import Purpose
from accord.terms import service as terms
from tests.builders import make_api_key, make_brand, make_person, make_relationship, make_topic
from tests.conftest import RolledBackDatabase
from tests.helpers import last_mail_to
from tests.waiting import drain

TARGET = "https://shop.example/sale?id=7"


def _send(client: TestClient, key: str, topic: Topic) -> str:
    auth = {"authorization": f"Bearer {key}"}
    made = client.post(
        "/api/v1/campaigns",
        json={
            "name": "Sale",
            "topic_id": str(topic.id),
            "subject": "Sale",
            "text": f"See {TARGET} now.",
            "html": f'<p><a href="{TARGET}">Sale</a></p>',
        },
        headers=auth,
    )
    assert made.status_code == 201, made.text
    assert (
        client.post(f"/api/v1/campaigns/{made.json()['id']}/send", headers=auth).status_code < 300
    )
    return str(made.json()["id"])


def test_tracking_only_with_profiling_and_no_term_against_it(
    client: TestClient, session: Session, database: RolledBackDatabase, settings: Settings
) -> None:
    brand = make_brand(session)
    _, key = make_api_key(session, brand=brand)
    topic = make_topic(session, brand=brand)
    tracked, plain, refusing = (make_person(session) for _ in range(3))
    for person in (tracked, plain, refusing):
        rel = make_relationship(
            session,
            person=person,
            brand=brand,
            marketing=True,
            channels=("email",),
            topics_on=(topic,),
        )
        if person is not plain:
            decisions.set_purpose(session, rel, Purpose.profiling, True, decisions.PORTAL)
    terms.publish(session, brand.id, [("no-stalking", 1)])
    terms.proffer(session, refusing.id, "no-stalking", None, brand.id)
    campaign_id = _send(client, key, topic)
    session.commit()
    drain(Worker(database, settings))

    for person in (plain, refusing):
        mail = last_mail_to(session, person.email)
        assert TARGET in mail.text_body and "/t/c/" not in mail.text_body
        assert "/t/o/" not in str(mail.html_body)
    mail = last_mail_to(session, tracked.email)
    assert TARGET not in mail.text_body
    click = re.search(r"http://testserver(/t/c/[\w.\-]+)", mail.text_body)
    pixel = re.search(r'src="http://testserver(/t/o/[\w.\-]+\.gif)"', str(mail.html_body))
    assert click and pixel
    assert "/u/" in mail.text_body  # the unsubscribe link is never rewritten

    went = client.get(click.group(1), follow_redirects=False)
    assert went.status_code == 302 and went.headers["location"] == TARGET
    seen = client.get(pixel.group(1))
    assert seen.status_code == 200 and seen.headers["content-type"] == "image/gif"
    events = session.scalars(
        select(DeliveryEvent.kind).where(DeliveryEvent.campaign_id == uuid.UUID(campaign_id))
    ).all()
    assert sorted(events) == ["clicked", "opened"]
    assert tracking.counts(session, uuid.UUID(campaign_id)) == {
        "clicked": 1,
        "opened": 1,
        "unique_clicked": 1,
        "unique_opened": 1,
    }
    report = client.get(
        f"/api/v1/campaigns/{campaign_id}/report", headers={"authorization": f"Bearer {key}"}
    )
    if report.status_code == 200:
        assert report.json()["events"]["clicked"] == 1


def test_no_open_redirect(client: TestClient, settings: Settings) -> None:
    secret = settings.resolved_secret_key()
    good = tracking.Tracker(secret, "http://testserver", 1).click_url(TARGET)
    token = good.rsplit("/", 1)[1]
    payload, _, signature = token.partition(".")
    other = tracking.Tracker("another-secret", "http://testserver", 1).click_url(
        "https://evil.example/"
    )
    for path in (
        f"/t/c/{other.rsplit('/', 1)[1]}",  # signed with another key
        f"/t/c/{payload}x.{signature}",  # altered
        "/t/c/https%3A%2F%2Fevil.example",
        "/t/c/not-a-token",
    ):
        response = client.get(path, follow_redirects=False)
        assert response.status_code == 404, path
    js = tracking.Tracker(secret, "http://testserver", 1).click_url("javascript:alert(1)")
    assert client.get("/t/c/" + js.rsplit("/", 1)[1], follow_redirects=False).status_code == 404
