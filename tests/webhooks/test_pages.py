"""The console's webhook pages: add (errors beside the field, typed values kept), detail with
deliveries and their last answer, replay."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from accord.webhooks import service
from accord.webhooks.models import WebhookDelivery, WebhookEndpoint
from tests.builders import PASSWORD, make_brand, make_member
from tests.helpers import csrf_of, sign_in_member


def test_add_show_and_replay_in_the_console(client: TestClient, session: Session) -> None:
    brand = make_brand(session)
    member = make_member(session, brand=brand)
    sign_in_member(client, member.email, PASSWORD)
    csrf = csrf_of(client, "/console/webhooks")
    bad = client.post(
        "/console/webhooks",
        data={
            "csrf_token": csrf,
            "url": "ftp://nowhere",
            "event_types": ["consent.changed"],
            "description": "CRM sync",
        },
    )
    assert bad.status_code == 422
    assert "must start with https://" in bad.text and 'value="CRM sync"' in bad.text
    assert session.scalar(select(func.count()).select_from(WebhookEndpoint)) == 0
    added = client.post(
        "/console/webhooks",
        data={
            "csrf_token": csrf,
            "url": "http://127.0.0.1:9/hooks",
            "event_types": ["consent.changed", "message.sent"],
        },
        follow_redirects=False,
    )
    assert added.status_code == 303
    page = client.get(added.headers["location"] + "?secret=1")
    endpoint = session.scalars(select(WebhookEndpoint)).one()
    assert endpoint.event_types == ["consent.changed", "message.sent"]
    assert endpoint.secret in page.text
    service.emit(session, brand.id, "consent.changed", {"n": 1})
    session.flush()
    delivery = session.scalars(select(WebhookDelivery)).one()
    delivery.state, delivery.last_status, delivery.last_response = "failed", 500, "boom"
    session.commit()
    page = client.get(f"/console/webhooks/{endpoint.id}")
    assert re.search(r"<strong>500</strong>", page.text) and "boom" in page.text
    client.post(
        f"/console/webhooks/{endpoint.id}/deliveries/{delivery.id}/replay",
        data={"csrf_token": csrf},
    )
    session.expire_all()
    assert session.get(WebhookDelivery, delivery.id).state == "pending"  # type: ignore[union-attr]
