"""Operating delivery: the messages API (per campaign and per person), pausing and resuming a
campaign in flight, the send rate in the API, /metrics (operators only) with lease take-overs
counted across workers, and JSON logs."""

from __future__ import annotations

import json
import logging
from datetime import timedelta
from pathlib import Path

from fastapi.testclient import TestClient
from pydantic import SecretStr
from sqlalchemy import select
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from accord.app import create_app
from accord.brands.models import Brand
from accord.campaigns import control, service
from accord.campaigns.models import Campaign
from accord.campaigns.schemas import CampaignCreate
from accord.cli import app as cli_app
from accord.core.db import utcnow
from accord.core.logs import JsonFormatter
from accord.core.settings import Environment, Settings
from accord.delivery import counters
from accord.delivery.worker import Worker
from accord.outbox.models import OutboxMessage
from accord.people.models import Person
from tests.builders import (
    TEST_SECRET,
    make_api_key,
    make_brand,
    make_person,
    make_relationship,
    make_topic,
)
from tests.conftest import RolledBackDatabase


def bearer(secret: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {secret}"}


def campaign_with_audience(session: Session, brand: Brand, n: int) -> tuple[Campaign, list[Person]]:
    topic = make_topic(session, brand=brand)
    people = []
    for _ in range(n):
        person = make_person(session)
        make_relationship(
            session, person=person, brand=brand, marketing=True, channels=("email",),
            topics_on=(topic,),
        )  # fmt: skip
        people.append(person)
    data = CampaignCreate(name="Spring", topic_id=topic.id, subject="Hi", text="Hello")
    campaign = service.create(session, brand.id, data, member_id=None)
    service.send(session, campaign)
    service.resolve(session, campaign, utcnow())
    return campaign, people


def states(session: Session, campaign: Campaign) -> list[str]:
    session.expire_all()
    return sorted(
        session.scalars(select(OutboxMessage.state).where(OutboxMessage.campaign_id == campaign.id))
    )


def test_pause_holds_a_campaign_and_resume_sends_it(
    session: Session, database: RolledBackDatabase, settings: Settings
) -> None:
    brand = make_brand(session)
    campaign, _ = campaign_with_audience(session, brand, 3)
    control.pause(session, campaign)
    assert campaign.state == "paused" and states(session, campaign) == ["paused"] * 3
    later = utcnow() + timedelta(seconds=5)
    assert Worker(database, settings).run_once(later).sent == 0
    assert states(session, campaign) == ["paused"] * 3
    control.resume(session, campaign)
    assert campaign.state == "sending" and states(session, campaign) == ["queued"] * 3
    assert Worker(database, settings).run_once(later).sent == 3
    assert states(session, campaign) == ["sent"] * 3


def test_messages_api_and_pause_resume_routes(client: TestClient, session: Session) -> None:
    brand = make_brand(session)
    other = make_brand(session)
    _, key = make_api_key(session, brand=brand)
    _, other_key = make_api_key(session, brand=other)
    campaign, people = campaign_with_audience(session, brand, 3)
    url = f"/api/v1/campaigns/{campaign.id}/messages"
    first = client.get(url, params={"limit": 2}, headers=bearer(key))
    assert first.status_code == 200, first.text
    body = first.json()
    assert len(body["items"]) == 2 and body["next_cursor"]
    item = body["items"][0]
    assert item["state"] == "queued" and item["attempts"] == 0 and item["last_error"] is None
    assert item["message_id"].startswith("<") and item["message_id"].endswith(">")
    rest = client.get(url, params={"cursor": body["next_cursor"]}, headers=bearer(key)).json()
    assert len(rest["items"]) == 1 and rest["next_cursor"] is None
    ids = {i["id"] for i in body["items"] + rest["items"]}
    assert len(ids) == 3
    assert client.get(url, headers=bearer(other_key)).status_code == 404
    assert client.get(url, params={"cursor": "nope"}, headers=bearer(key)).status_code == 422
    assert client.get(url, params={"state": "bogus"}, headers=bearer(key)).status_code == 422

    person_url = f"/api/v1/people/{people[0].id}/messages"
    mine = client.get(person_url, headers=bearer(key)).json()["items"]
    assert [m["person_id"] for m in mine] == [str(people[0].id)]
    assert client.get(person_url, headers=bearer(other_key)).status_code == 404

    paused = client.post(f"/api/v1/campaigns/{campaign.id}/pause", headers=bearer(key))
    assert paused.status_code == 200 and paused.json()["state"] == "paused"
    held = client.get(url, params={"state": "paused"}, headers=bearer(key)).json()["items"]
    assert len(held) == 3
    resumed = client.post(f"/api/v1/campaigns/{campaign.id}/resume", headers=bearer(key))
    assert resumed.json()["state"] == "sending"
    assert (
        client.post(f"/api/v1/campaigns/{campaign.id}/pause", headers=bearer(other_key)).status_code
        == 404
    )


def test_send_rate_through_the_api(client: TestClient, session: Session) -> None:
    brand = make_brand(session)
    _, key = make_api_key(session, brand=brand)
    changed = client.patch("/api/v1/brand", json={"send_rate_per_second": 7}, headers=bearer(key))
    assert changed.status_code == 200 and changed.json()["send_rate_per_second"] == 7
    bad = client.patch("/api/v1/brand", json={"send_rate_per_second": 0}, headers=bearer(key))
    assert bad.status_code == 422 and bad.json()["field"] == "send_rate_per_second"
    session.refresh(brand)
    assert brand.send_rate_per_second == 7


def metrics_client(
    settings: Settings, database: RolledBackDatabase, **changes: object
) -> TestClient:
    return TestClient(create_app(settings.model_copy(update=changes), database=database))


def test_metrics_for_operators_only(
    settings: Settings, database: RolledBackDatabase, session: Session
) -> None:
    brand = make_brand(session)
    campaign_with_audience(session, brand, 2)
    dev = metrics_client(settings, database, environment=Environment.dev)
    answer = dev.get("/metrics")
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("text/plain")
    text = answer.text
    assert 'accord_outbox_messages{state="queued"} 2.0' in text
    assert "accord_lease_takeovers_total 0.0" in text
    prod = metrics_client(settings, database, environment=Environment.prod)
    assert prod.get("/metrics").status_code == 404
    guarded = metrics_client(
        settings, database, environment=Environment.prod, metrics_token=SecretStr("s3cret-metrics")
    )
    assert guarded.get("/metrics").status_code == 401
    assert guarded.get("/metrics", headers=bearer("wrong")).status_code == 401
    assert guarded.get("/metrics", headers=bearer("s3cret-metrics")).status_code == 200


def test_lease_takeovers_are_counted(session: Session, settings: Settings) -> None:
    brand = make_brand(session)
    campaign_with_audience(session, brand, 2)
    now = utcnow() + timedelta(seconds=1)
    lease = timedelta(seconds=60)
    first = counters.claim(session, owner="a", now=now, limit=10, lease=lease)
    assert len(first) == 2 and counters.values(session).get(counters.LEASE_TAKEOVERS, 0) == 0
    # Worker "a" died: after its lease, "b" takes both rows over.
    later = now + lease + timedelta(seconds=1)
    second = counters.claim(session, owner="b", now=later, limit=10, lease=lease)
    assert sorted(second) == sorted(first)
    assert counters.values(session)[counters.LEASE_TAKEOVERS] == 2


def test_json_log_lines() -> None:
    record = logging.LogRecord("accord.worker", logging.INFO, __file__, 1, "sent %d", (3,), None)
    record.campaign = "c1"
    line = json.loads(JsonFormatter().format(record))
    assert line["message"] == "sent 3" and line["level"] == "info"
    assert line["logger"] == "accord.worker" and line["campaign"] == "c1"


def test_campaign_commands(tmp_path: Path) -> None:
    """`accord campaign …` end to end, on a SQLite file of its own (the commands commit)."""
    from accord.core import migrate
    from accord.core.db import Database, make_engine

    env = {
        "ACCORD_DATABASE_URL": f"sqlite:///{tmp_path / 'cli.db'}",
        "ACCORD_VAR_DIR": str(tmp_path),
        "ACCORD_SECRET_KEY": TEST_SECRET,
    }
    db = Database(make_engine(env["ACCORD_DATABASE_URL"]))
    migrate.upgrade(db.engine)
    with db.transaction() as s:
        brand = make_brand(s, slug="cli-shop")
        campaign, _ = campaign_with_audience(s, brand, 2)
        campaign_id = str(campaign.id)
    db.engine.dispose()
    runner = CliRunner()

    def run(*args: str) -> str:
        result = runner.invoke(cli_app, ["campaign", *args, "--brand", "cli-shop"], env=env)
        assert result.exit_code == 0, result.output
        return result.output

    assert campaign_id in run("list")
    assert "queued" in run("show", campaign_id)
    assert "paused" in run("pause", campaign_id)
    assert "paused" in run("show", campaign_id)
    assert "sending" in run("resume", campaign_id)
    missing = runner.invoke(cli_app, ["campaign", "show", "nope", "--brand", "cli-shop"], env=env)
    assert missing.exit_code == 1 and "not a campaign id" in missing.output
