"""Webhooks: signed per Standard Webhooks (verified by the `standardwebhooks` package on a real
local receiver), retried with backoff, kill-safe and idempotent, replayable, disabled after 410
or days of failure, and never pointed at loopback, private or metadata addresses."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from accord.app import create_app
from accord.core.db import utcnow
from accord.core.settings import Environment, Settings
from accord.webhooks import dispatch, registry, service
from accord.webhooks.models import WebhookDelivery, WebhookEndpoint, WebhookEvent
from tests.builders import make_api_key, make_brand, make_member
from tests.conftest import RolledBackDatabase
from tests.helpers import last_mail_to
from tests.webhook_receiver import Receiver, start_receiver


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    running = start_receiver()
    try:
        yield running
    finally:
        running.close()


def _register(client: TestClient, key: str, url: str, **extra: object) -> dict[str, object]:
    body = {"url": url, "event_types": ["consent.changed"], **extra}
    response = client.post(
        "/api/v1/webhooks/endpoints", json=body, headers={"authorization": f"Bearer {key}"}
    )
    assert response.status_code == 201, response.text
    return dict(response.json())


def _state(session: Session, event_id: str) -> WebhookDelivery:
    session.expire_all()
    return session.scalars(
        select(WebhookDelivery).where(WebhookDelivery.event_id == event_id)
    ).one()


def test_an_event_is_delivered_signed_and_verified(
    client: TestClient,
    session: Session,
    database: RolledBackDatabase,
    settings: Settings,
    receiver: Receiver,
) -> None:
    brand = make_brand(session)
    _, key = make_api_key(session, brand=brand)
    endpoint = _register(client, key, receiver.url)
    assert str(endpoint["secret"]).startswith("whsec_")
    receiver.secret = str(endpoint["secret"])
    event_id = service.emit(session, brand.id, "consent.changed", {"person": "p1", "granted": True})
    assert service.emit(session, brand.id, "message.sent", {"x": 1}) is None  # nobody wants it
    session.commit()
    assert dispatch.drain(database, settings) == 1
    assert receiver.rejected == []
    assert receiver.ids == [event_id]
    assert receiver.verified[0]["type"] == "consent.changed"
    assert receiver.verified[0]["data"] == {"person": "p1", "granted": True}
    assert _state(session, str(event_id)).state == "succeeded"
    listed = client.get(
        f"/api/v1/webhooks/endpoints/{endpoint['id']}/deliveries",
        headers={"authorization": f"Bearer {key}"},
    ).json()
    assert listed["items"][0]["last_status"] == 200
    assert listed["items"][0]["last_response"] == '{"ok": true}'


def test_retries_after_500s_with_backoff_then_succeeds(
    session: Session, database: RolledBackDatabase, settings: Settings, receiver: Receiver
) -> None:
    brand = make_brand(session)
    endpoint = service.create_endpoint(
        session, settings, brand.id, url=receiver.url, event_types=["consent.changed"]
    )
    receiver.secret, receiver.script = endpoint.secret, [500, 503]
    event_id = str(service.emit(session, brand.id, "consent.changed", {"n": 1}))
    session.commit()
    now = utcnow()
    assert dispatch.run_once(database, settings, "w1", now=now) == 1
    first = _state(session, event_id)
    assert (first.state, first.attempts, first.last_status) == ("pending", 1, 500)
    assert first.next_attempt_at >= now + dispatch.SCHEDULE[0]
    assert dispatch.run_once(database, settings, "w1", now=now) == 0  # not due yet
    later = first.next_attempt_at
    assert dispatch.run_once(database, settings, "w1", now=later) == 1
    second = _state(session, event_id)
    assert (second.attempts, second.last_status) == (2, 503)
    assert second.next_attempt_at >= later + dispatch.SCHEDULE[1]
    dispatch.run_once(database, settings, "w1", now=second.next_attempt_at)
    assert _state(session, event_id).state == "succeeded"
    assert receiver.requests == 3 and len(receiver.unique) == 1
    session.expire_all()
    assert session.get(WebhookEndpoint, endpoint.id).failing_since is None  # type: ignore[union-attr]


def test_a_worker_killed_mid_delivery_leaves_it_to_another_with_the_same_id(
    session: Session, database: RolledBackDatabase, settings: Settings, receiver: Receiver
) -> None:
    brand = make_brand(session)
    endpoint = service.create_endpoint(
        session, settings, brand.id, url=receiver.url, event_types=["consent.changed"]
    )
    receiver.secret = endpoint.secret
    event_id = str(service.emit(session, brand.id, "consent.changed", {"n": 1}))
    session.commit()
    now = utcnow()
    # Worker 1 claims, sends, and dies before recording the answer.
    with database.transaction() as s:
        (job,) = dispatch.claim(s, "dead-worker", now, 10)
    poster = dispatch.Poster(settings)
    assert poster.post(job, now).ok
    poster.close()
    # While its lease holds, nobody else takes it; after, another worker does.
    assert dispatch.run_once(database, settings, "w2", now=now) == 0
    assert dispatch.run_once(database, settings, "w2", now=now + dispatch.LEASE * 2) == 1
    assert receiver.ids == [event_id, event_id]  # the same webhook-id: the copy is dropped
    assert len(receiver.unique) == 1
    assert _state(session, event_id).state == "succeeded"


def test_replay_sends_the_same_event_again(
    client: TestClient,
    session: Session,
    database: RolledBackDatabase,
    settings: Settings,
    receiver: Receiver,
) -> None:
    brand = make_brand(session)
    _, key = make_api_key(session, brand=brand)
    receiver.secret = str(_register(client, key, receiver.url)["secret"])
    event_id = str(service.emit(session, brand.id, "consent.changed", {"n": 1}))
    session.commit()
    dispatch.drain(database, settings)
    delivery = _state(session, event_id)
    replayed = client.post(
        f"/api/v1/webhooks/deliveries/{delivery.id}/replay",
        headers={"authorization": f"Bearer {key}"},
    )
    assert replayed.status_code == 202 and replayed.json()["state"] == "pending"
    dispatch.drain(database, settings)
    assert receiver.ids == [event_id, event_id]
    other_brand = make_brand(session)
    _, other_key = make_api_key(session, brand=other_brand)
    theirs = client.post(
        f"/api/v1/webhooks/deliveries/{delivery.id}/replay",
        headers={"authorization": f"Bearer {other_key}"},
    )
    assert theirs.status_code == 404


def test_410_disables_the_endpoint_with_a_notice(
    session: Session, database: RolledBackDatabase, settings: Settings, receiver: Receiver
) -> None:
    brand = make_brand(session)
    owner = make_member(session, brand=brand)
    endpoint = service.create_endpoint(
        session, settings, brand.id, url=receiver.url, event_types=["consent.changed"]
    )
    receiver.secret, receiver.script = endpoint.secret, [410]
    first = str(service.emit(session, brand.id, "consent.changed", {"n": 1}))
    session.commit()
    dispatch.run_once(database, settings, "w", limit=1)
    session.expire_all()
    gone = session.get(WebhookEndpoint, endpoint.id)
    assert gone is not None and not gone.enabled and "410" in str(gone.disabled_reason)
    assert _state(session, first).state == "failed"
    notice = last_mail_to(session, owner.email)
    assert "disabled" in notice.subject
    # A disabled endpoint receives nothing more.
    assert service.emit(session, brand.id, "consent.changed", {"n": 2}) is None


def test_an_endpoint_failing_for_days_is_disabled(
    session: Session, database: RolledBackDatabase, settings: Settings, receiver: Receiver
) -> None:
    brand = make_brand(session)
    endpoint = service.create_endpoint(
        session, settings, brand.id, url=receiver.url, event_types=["consent.changed"]
    )
    receiver.secret, receiver.script = endpoint.secret, [500] * 100
    session.commit()
    start = moment = utcnow()
    for _ in range(60):  # events keep coming; every delivery fails
        session.expire_all()
        if not session.get(WebhookEndpoint, endpoint.id).enabled:  # type: ignore[union-attr]
            break
        due = session.scalar(
            select(func.min(WebhookDelivery.next_attempt_at)).where(
                WebhookDelivery.state == "pending"
            )
        )
        if due is None:
            service.emit(session, brand.id, "consent.changed", {"n": 1})
            session.commit()
            due = moment
        moment = max(moment, due)
        dispatch.run_once(database, settings, "w", now=moment)
    session.expire_all()
    disabled = session.get(WebhookEndpoint, endpoint.id)
    assert disabled is not None and not disabled.enabled
    assert f"{settings.webhook_disable_after_days} days" in str(disabled.disabled_reason)
    assert moment - start >= timedelta(days=settings.webhook_disable_after_days)
    assert session.scalar(select(func.count()).where(WebhookDelivery.state == "pending")) == 0


PROD_REFUSED = [
    "http://hooks.example.com/x",  # not https
    "https://127.0.0.1/x",
    "https://10.1.2.3/x",
    "https://192.168.0.10/x",
    "https://169.254.169.254/latest/meta-data",
    "https://[::1]/x",
    "https://localhost/x",  # a name resolving to loopback
    "https://user:pw@127.0.0.1/x",
    "not a url",
]


@pytest.mark.parametrize("url", PROD_REFUSED)
def test_ssrf_targets_are_refused_at_registration(
    session: Session, database: RolledBackDatabase, settings: Settings, url: str
) -> None:
    prod = settings.model_copy(update={"environment": Environment.prod})
    brand = make_brand(session)
    _, key = make_api_key(session, brand=brand)
    session.commit()
    with TestClient(create_app(prod, database=database)) as client:
        response = client.post(
            "/api/v1/webhooks/endpoints",
            json={"url": url, "event_types": ["consent.changed"]},
            headers={"authorization": f"Bearer {key}"},
        )
    assert response.status_code == 422, response.text
    assert response.json()["field"] == "url"
    assert session.scalar(select(func.count()).select_from(WebhookEndpoint)) == 0


def test_the_address_is_checked_again_at_delivery(
    session: Session, database: RolledBackDatabase, settings: Settings, receiver: Receiver
) -> None:
    """Registered while it was allowed (dev), then delivered under production rules: the
    request never leaves (as when a name is re-pointed at a private address, DNS rebinding)."""
    brand = make_brand(session)
    endpoint = service.create_endpoint(
        session, settings, brand.id, url=receiver.url, event_types=["consent.changed"]
    )
    receiver.secret = endpoint.secret
    event_id = str(service.emit(session, brand.id, "consent.changed", {"n": 1}))
    session.commit()
    prod = settings.model_copy(update={"environment": Environment.prod})
    assert dispatch.run_once(database, prod, "w") == 1
    delivery = _state(session, event_id)
    assert receiver.requests == 0
    assert delivery.state == "pending" and str(delivery.last_error).startswith("refused")


def test_bad_registrations_name_the_field(client: TestClient, session: Session) -> None:
    brand = make_brand(session)
    _, key = make_api_key(session, brand=brand)
    auth = {"authorization": f"Bearer {key}"}
    cases = [
        ({"url": "http://127.0.0.1:9/x", "event_types": ["no.such_type"]}, "event_types"),
        ({"url": "http://127.0.0.1:9/x", "event_types": []}, "event_types"),
        ({"url": "http://127.0.0.1:9/x", "event_types": "consent.changed"}, "event_types"),
        ({"event_types": ["consent.changed"]}, "url"),
        ({"url": "ftp://127.0.0.1/x", "event_types": ["consent.changed"]}, "url"),
        ({"url": "http://127.0.0.1:9/x", "event_types": ["consent.changed"], "x": 1}, "x"),
    ]
    for body, field in cases:
        response = client.post("/api/v1/webhooks/endpoints", json=body, headers=auth)
        assert response.status_code == 422, (body, response.text)
        assert str(response.json()["field"]).split(".")[0] == field, (body, response.json())
    assert session.scalar(select(func.count()).select_from(WebhookEndpoint)) == 0


def test_another_brands_endpoint_is_404(client: TestClient, session: Session) -> None:
    a, b = make_brand(session), make_brand(session)
    _, key_a = make_api_key(session, brand=a)
    _, key_b = make_api_key(session, brand=b)
    endpoint = _register(client, key_a, "http://127.0.0.1:9/hooks")
    for method, path in [
        ("get", ""),
        ("get", "/secret"),
        ("patch", ""),
        ("delete", ""),
        ("get", "/deliveries"),
        ("post", "/test"),
    ]:
        kwargs = {"json": {"enabled": False}} if method == "patch" else {}
        response = getattr(client, method)(
            f"/api/v1/webhooks/endpoints/{endpoint['id']}{path}",
            headers={"authorization": f"Bearer {key_b}"},
            **kwargs,
        )
        assert response.status_code == 404, (method, path)


def test_other_domains_add_event_types_without_editing_webhooks(
    client: TestClient,
    session: Session,
    database: RolledBackDatabase,
    settings: Settings,
    receiver: Receiver,
) -> None:
    registry.define(
        "bench_domain.thing_happened", "Something happened in a domain defined by this test."
    )
    brand = make_brand(session)
    _, key = make_api_key(session, brand=brand)
    types = {t["name"] for t in client.get("/api/v1/webhooks/event-types").json()}
    assert {"bench_domain.thing_happened", "consent.changed", "message.sent"} <= types
    receiver.secret = str(
        _register(client, key, receiver.url, event_types=["bench_domain.thing_happened"])["secret"]
    )
    service.emit(session, brand.id, "bench_domain.thing_happened", {"idea": "x"})
    session.commit()
    dispatch.drain(database, settings)
    assert [p["type"] for p in receiver.verified] == ["bench_domain.thing_happened"]
    with pytest.raises(ValueError):
        service.emit(session, brand.id, "never.defined", {})
    assert session.scalar(select(func.count()).select_from(WebhookEvent)) == 1


def test_decisions_raise_consent_and_relationship_events(
    session: Session, database: RolledBackDatabase, settings: Settings, receiver: Receiver
) -> None:
    from tests.builders import make_person, make_relationship

    brand, person = make_brand(session), make_person(session)
    endpoint = service.create_endpoint(
        session,
        settings,
        brand.id,
        url=receiver.url,
        event_types=["consent.changed", "relationship.changed"],
    )
    receiver.secret = endpoint.secret
    make_relationship(session, person=person, brand=brand, marketing=True, channels=("email",))
    session.commit()
    dispatch.drain(database, settings)
    got = sorted((p["type"], p["data"]["action"]) for p in receiver.verified)
    assert got == [
        ("consent.changed", "grant"),
        ("consent.changed", "grant"),
        ("relationship.changed", "follow"),
    ]
    assert {p["data"]["person_id"] for p in receiver.verified} == {str(person.id)}
