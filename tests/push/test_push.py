"""Web Push through a real local push service that checks VAPID and decrypts the payload."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from pywebpush import WebPushException, webpush
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from accord.consent.ledger import body_of
from accord.consent.models import LedgerEvent
from accord.core.settings import Settings
from accord.people.models import ContactPoint
from accord.push import service
from accord.push.keys import vapid_keys
from accord.push.sender import FAILED, GONE, RETRY, SENT, PushSender, Subscription, payload
from tests.builders import make_person
from tests.helpers import csrf_of, sign_in_person
from tests.push_service import PushService, start_push_service


@pytest.fixture
def push_service() -> Iterator[PushService]:
    running = start_push_service()
    try:
        yield running
    finally:
        running.close()


def _subscription(data: dict[str, object]) -> Subscription:
    keys = data["keys"]
    assert isinstance(keys, dict)
    return Subscription(str(data["endpoint"]), keys["p256dh"], keys["auth"])


def test_a_push_is_signed_with_vapid_and_encrypted_for_the_browser(
    settings: Settings, push_service: PushService
) -> None:
    sender = PushSender(settings)
    sub = _subscription(push_service.subscribe())
    result = sender.send(sub, payload("Hello", "Your order shipped", url="/inbox"), topic="order")
    assert result.verdict == SENT and result.status == 201, push_service.refused
    (got,) = push_service.wait_for(1)
    assert got.json() == {
        "title": "Hello",
        "body": "Your order shipped",
        "url": "/inbox",
        "tag": None,
    }
    assert got.claims["k"] == vapid_keys(settings).public_key
    assert got.headers["ttl"] == str(settings.push_ttl_seconds)
    assert got.headers["topic"] == "order"
    sender.close()


def test_the_vapid_key_is_kept_across_restarts(settings: Settings) -> None:
    first = vapid_keys(settings).public_key
    assert (settings.var_dir / "vapid_private_key.pem").stat().st_mode & 0o077 == 0
    assert vapid_keys(Settings(var_dir=settings.var_dir)).public_key == first


def test_a_push_signed_with_another_key_is_refused_by_the_service(
    settings: Settings, push_service: PushService
) -> None:
    sub = _subscription(push_service.subscribe())
    sender = PushSender(settings)
    keys = vapid_keys(settings)
    # The same key pair but a claim for another origin: the service must refuse it.
    with pytest.raises(WebPushException) as refused:
        webpush(
            sub.info(),
            data="x",
            vapid_private_key=keys.signer(),
            vapid_claims={"sub": "mailto:a@b.example", "aud": "https://elsewhere.example"},
        )
    assert refused.value.response is not None and refused.value.response.status_code == 403
    assert "aud" in push_service.refused[-1]
    assert sender.send(sub, b"{}").verdict == SENT


@pytest.mark.parametrize(
    ("behaviour", "verdict"),
    [
        ("404", GONE),
        ("410", GONE),
        ("429", RETRY),
        ("503", RETRY),
        ("400", FAILED),
        ("413", FAILED),
    ],
)
def test_push_service_answers(
    settings: Settings, push_service: PushService, behaviour: str, verdict: str
) -> None:
    result = PushSender(settings).send(_subscription(push_service.subscribe(behaviour)), b"{}")
    assert (result.verdict, result.status) == (verdict, int(behaviour))
    if verdict == RETRY:
        assert result.retry_after is not None and result.retry_after.total_seconds() == 7


def test_a_push_service_that_does_not_answer_is_retried_later(
    settings: Settings, push_service: PushService
) -> None:
    quick = settings.model_copy(update={"push_timeout_seconds": 0.5})
    result = PushSender(quick).send(_subscription(push_service.subscribe("hang")), b"{}")
    assert result.verdict == RETRY and result.status is None


def test_a_gone_subscription_is_suppressed_with_a_ledger_event(
    client: TestClient, session: Session, settings: Settings, push_service: PushService
) -> None:
    person = make_person(session)
    sign_in_person(client, session, person.email)
    data = push_service.subscribe("410")
    made = client.post(
        "/api/v1/me/push-subscriptions",
        json=data,
        headers={"x-csrf-token": csrf_of(client, "/push")},
    )
    assert made.status_code == 201, made.text
    assert PushSender(settings).send(_subscription(data), b"{}").verdict == GONE
    assert service.gone(session, settings, str(data["endpoint"])) is True
    assert service.gone(session, settings, str(data["endpoint"])) is False  # once
    point = session.scalars(select(ContactPoint).where(ContactPoint.channel == "push")).one()
    assert point.suppressed_reason == "push_gone"
    events = session.scalars(
        select(LedgerEvent).where(
            LedgerEvent.subject_id == person.id, LedgerEvent.action == "suppress"
        )
    ).all()
    assert [body_of(e)["scope"]["channel"] for e in events] == ["push"]
    assert service.usable(session, [person.id]) == {}
    # The same browser subscribing again (new keys) makes the subscription usable again.
    again = client.post(
        "/api/v1/me/push-subscriptions",
        json=push_service.subscribe() | {"endpoint": data["endpoint"]},
        headers={"x-csrf-token": csrf_of(client, "/push")},
    )
    assert again.status_code == 201 and again.json()["suppressed_reason"] is None


def _count(session: Session) -> int:
    return (
        session.scalar(
            select(func.count()).select_from(ContactPoint).where(ContactPoint.channel == "push")
        )
        or 0
    )


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"keys": {"p256dh": "B" * 87, "auth": "AAAAAAAAAAAAAAAAAAAAAA"}}, "p256dh"),
        ({"keys": {"p256dh": "not base64 !!", "auth": "AAAAAAAAAAAAAAAAAAAAAA"}}, "p256dh"),
        ({"keys": {"p256dh": None, "auth": "x"}}, "keys.p256dh"),
        ({"auth": "short"}, "auth"),
        ({"endpoint": "ftp://push.example/x"}, "endpoint"),
        ({"endpoint": "not a url"}, "endpoint"),
    ],
)
def test_a_bad_subscription_is_refused_naming_the_field(
    client: TestClient,
    session: Session,
    push_service: PushService,
    change: dict[str, object],
    field: str,
) -> None:
    person = make_person(session)
    sign_in_person(client, session, person.email)
    good = push_service.subscribe()
    bad = {**good, **{k: v for k, v in change.items() if k != "auth"}}
    if "auth" in change:
        bad["keys"] = {**good["keys"], "auth": change["auth"]}
    before = _count(session)
    response = client.post(
        "/api/v1/me/push-subscriptions",
        json=bad,
        headers={"x-csrf-token": csrf_of(client, "/push")},
    )
    assert response.status_code == 422, response.text
    assert response.json()["field"].endswith(field), response.json()
    assert _count(session) == before


def test_push_page_and_scripts(client: TestClient, session: Session, settings: Settings) -> None:
    person = make_person(session)
    sign_in_person(client, session, person.email)
    page = client.get("/push")
    assert page.status_code == 200
    assert f'data-public-key="{vapid_keys(settings).public_key}"' in page.text
    assert "<script>" not in page.text and "style=" not in page.text
    worker = client.get("/push/sw.js")
    assert worker.headers["content-type"].startswith("text/javascript")
    assert "showNotification" in worker.text
    assert client.get("/api/v1/push/public-key").json() == {
        "public_key": vapid_keys(settings).public_key
    }
