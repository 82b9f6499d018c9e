"""SMS campaigns through the API: no subject, no HTML, counted as sent (encoding and segments
returned), more than 10 segments refused naming the field, nothing written."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from accord.campaigns.models import Campaign
from tests.builders import make_api_key, make_brand, make_topic


def setup(session: Session, purpose: str = "marketing") -> tuple[dict[str, str], str]:
    brand = make_brand(session, name="Groove Records")
    _, key = make_api_key(session, brand=brand)
    topic = make_topic(session, brand=brand, name="New vinyl", purpose=purpose)
    session.commit()
    return {"Authorization": f"Bearer {key}"}, str(topic.id)


def campaigns(session: Session) -> int:
    return session.scalar(select(func.count()).select_from(Campaign)) or 0


def test_an_sms_campaign_is_counted_as_sent(client: TestClient, session: Session) -> None:
    auth, topic = setup(session)
    body = {
        "name": "Vinyl",
        "topic_id": topic,
        "channel": "sms",
        "text": "Hi {{ person.first_name }}!",
    }
    created = client.post("/api/v1/campaigns", json=body, headers=auth)
    assert created.status_code == 201, created.text
    out = created.json()
    assert out["subject"] == "" and out["channel"] == "sms"
    assert out["sms"] == {
        "encoding": "GSM-7",
        "segments": 1,
        "max_segments": 10,
        "units": 45,
        "characters": 45,
        "remaining": 115,
        "unicode_characters": [],
        "body": "Groove Records: Hi Ada!\nReply STOP to opt out",
    }
    again = client.get(f"/api/v1/campaigns/{out['id']}", headers=auth).json()
    assert again["sms"]["segments"] == 1
    curly = client.patch(
        f"/api/v1/campaigns/{out['id']}", json={"text": "It\u2019s here \U0001f3b5"}, headers=auth
    ).json()
    assert curly["sms"]["encoding"] == "UCS-2"
    assert curly["sms"]["unicode_characters"] == ["\u2019", "\U0001f3b5"]


def test_a_transactional_text_has_no_stop_line(client: TestClient, session: Session) -> None:
    auth, topic = setup(session, purpose="transactional")
    body = {"name": "Order", "topic_id": topic, "channel": "sms", "text": "Your order is ready."}
    out = client.post("/api/v1/campaigns", json=body, headers=auth).json()
    assert out["sms"]["body"] == "Groove Records: Your order is ready."


def test_bad_sms_campaigns_are_refused_naming_the_field(
    client: TestClient, session: Session
) -> None:
    auth, topic = setup(session)
    base = {"name": "Vinyl", "topic_id": topic, "channel": "sms", "text": "Hi"}
    cases = [
        ({"html": "<p>Hi</p>"}, "html", "no HTML part"),
        ({"text": "a" * 1500}, "text", "takes 11 segments (GSM-7"),
        ({"text": "\u2019" * 640}, "text", "UCS-2"),
        ({"channel": "email"}, "subject", "needs a subject"),
        ({"channel": "push", "subject": ""}, "subject", None),
        ({"text": "{{ person.email }}"}, "text", "not a field templates may use"),
    ]
    for change, field, words in cases:
        answer = client.post("/api/v1/campaigns", json=base | change, headers=auth)
        assert answer.status_code == 422, change
        assert answer.json()["field"] == field, (change, answer.json())
        if words:
            assert words in answer.json()["detail"], (change, answer.json())
    assert campaigns(session) == 0
    created = client.post("/api/v1/campaigns", json=base, headers=auth).json()
    too_long = client.patch(
        f"/api/v1/campaigns/{created['id']}", json={"text": "b" * 1600}, headers=auth
    )
    assert too_long.status_code == 422 and too_long.json()["field"] == "text"
    session.expire_all()
    assert session.scalars(select(Campaign.text_template)).one() == "Hi"
