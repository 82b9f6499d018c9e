"""A campaign on several channels carries content per channel: a long e-mail, a short text and
an in-app title of its own, each sent by the real worker on its channel (the e-mail through the
dev mailbox, the text through a real local SMS provider, the in-app item into the inbox). Bad
content is refused naming its field, nothing written; the composer takes it too."""

from __future__ import annotations

import html
import re
import uuid
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from accord.campaigns.models import Campaign
from accord.core.settings import Settings
from accord.delivery.worker import Worker
from accord.inbox.models import InboxItem
from accord.sms import numbers
from tests.builders import (
    PASSWORD,
    make_api_key,
    make_brand,
    make_member,
    make_person,
    make_relationship,
    make_topic,
)
from tests.conftest import RolledBackDatabase
from tests.helpers import csrf_of, last_mail_to, sign_in_member
from tests.sms.conftest import provider, sms_client, sms_settings  # noqa: F401 (fixtures)
from tests.sms.providers import Provider
from tests.sms.test_channel import NOON
from tests.sms.world import add_phone
from tests.waiting import drain

NUMBER, PHONE = "+12025550150", "+12025550151"
LONG = "All the news of the week. " * 80  # over 10 segments as a text


def _world(session: Session) -> dict[str, Any]:
    brand = make_brand(session, name="Groove Records")
    numbers.register(session, brand.id, NUMBER)
    _, key = make_api_key(session, brand=brand)
    topic = make_topic(session, brand=brand, name="New vinyl")
    person = make_person(session, display_name="Ann Lee")
    add_phone(session, person, PHONE)
    make_relationship(
        session,
        person=person,
        brand=brand,
        marketing=True,
        channels=("email", "sms", "inapp"),
        topics_on=(topic,),
    )
    return {"brand": brand, "key": key, "topic": topic, "person": person}


def _body(topic: Any, **over: Any) -> dict[str, Any]:
    return {
        "name": "Vinyl day",
        "topic_id": str(topic.id),
        "channels": ["email", "sms", "inapp"],
        "channel_mode": "all",
        "subject": "News for {{ person.first_name }}",
        "text": LONG,
        "contents": {
            "sms": {"text": "Hi {{ person.first_name }}, new vinyl is in!"},
            "inapp": {"subject": "Vinyl!", "text": "Tap to see {{ topic.name }}."},
        },
    } | over


def _campaigns(session: Session) -> int:
    return int(session.scalar(select(func.count()).select_from(Campaign)) or 0)


def test_each_channel_gets_its_own_content(
    sms_client: TestClient,  # noqa: F811
    session: Session,
    database: RolledBackDatabase,
    sms_settings: Settings,  # noqa: F811
    provider: Provider,  # noqa: F811
) -> None:
    w = _world(session)
    auth = {"authorization": f"Bearer {w['key']}"}
    made = sms_client.post("/api/v1/campaigns", json=_body(w["topic"]), headers=auth)
    assert made.status_code == 201, made.text
    assert made.json()["contents"]["inapp"] == {
        "subject": "Vinyl!",
        "text": "Tap to see {{ topic.name }}.",
    }
    assert made.json()["sms"]["body"].startswith("Groove Records: Hi Ada, new vinyl")
    sent = sms_client.post(f"/api/v1/campaigns/{made.json()['id']}/send", headers=auth)
    assert sent.status_code == 200, sent.text
    session.commit()
    assert drain(Worker(database, sms_settings), now=NOON).sent == 3

    [text] = provider.texts
    assert text["body"] == "Groove Records: Hi Ann, new vinyl is in!\nReply STOP to opt out"
    mail = last_mail_to(session, w["person"].email)
    assert mail.subject == "News for Ann"
    assert "All the news of the week." in mail.text_body
    item = session.scalars(select(InboxItem)).one()
    assert (item.title, item.body) == ("Vinyl!", "Tap to see New vinyl.")


def test_an_update_replaces_the_channels_content(client: TestClient, session: Session) -> None:
    w = _world(session)
    auth = {"authorization": f"Bearer {w['key']}"}
    made = client.post("/api/v1/campaigns", json=_body(w["topic"]), headers=auth)
    assert made.status_code == 201, made.text
    path = f"/api/v1/campaigns/{made.json()['id']}"
    changed = client.patch(path, json={"contents": {"sms": {"text": "Shorter."}}}, headers=auth)
    assert changed.status_code == 200, changed.text
    assert changed.json()["contents"] == {"sms": {"text": "Shorter."}}
    # Without its own text, the e-mail's long text would be the SMS: refused, nothing changed.
    refused = client.patch(path, json={"contents": {}}, headers=auth)
    assert (refused.status_code, refused.json()["field"]) == (422, "text")
    assert client.get(path, headers=auth).json()["contents"] == {"sms": {"text": "Shorter."}}


def test_bad_content_is_refused_naming_the_field(client: TestClient, session: Session) -> None:
    w = _world(session)
    auth = {"authorization": f"Bearer {w['key']}"}
    cases: list[tuple[dict[str, Any], str, str]] = [
        ({"contents": {"push": {"text": "Hi"}}}, "contents.push", "does not go out on push"),
        ({"contents": {"sms": {"subject": "Hi", "text": "Hi"}}}, "contents.sms.subject", ""),
        ({"contents": {"sms": {"text": "Hi", "html": "<p>x</p>"}}}, "contents.sms.html", ""),
        ({"contents": {"sms": {"text": "x" * 2000}}}, "contents.sms.text", "segments"),
        ({"contents": {"inapp": {"text": "{{ secret }}"}}}, "contents.inapp.text", ""),
        ({"contents": {"sms": {"text": ""}}}, "contents.sms.text", ""),
        ({"contents": {"pigeon": {"text": "Coo"}}}, "contents.pigeon", ""),
        ({"contents": {}}, "text", "segments"),  # the long e-mail text as a text
        ({"subject": None, "contents": {"sms": {"text": "Hi"}}}, "subject", "subject"),
    ]
    for over, field, words in cases:
        answer = client.post("/api/v1/campaigns", json=_body(w["topic"], **over), headers=auth)
        assert answer.status_code == 422, (over, answer.text)
        fields = {answer.json()["field"], *(e.get("field") for e in answer.json()["errors"])}
        assert any(f and f.startswith(field) for f in fields), (field, answer.json())
        assert words in answer.text, (words, answer.text)
    assert _campaigns(session) == 0
    # Every non-sms channel with its own title needs no campaign subject.
    titled = _body(
        w["topic"],
        channels=["sms", "inapp"],
        subject=None,
        contents={"sms": {"text": "Hi"}, "inapp": {"subject": "Hello", "text": "Hi"}},
    )
    assert client.post("/api/v1/campaigns", json=titled, headers=auth).status_code == 201


def _post(client: TestClient, path: str, data: dict[str, str]) -> Any:
    form = {"csrf_token": csrf_of(client, "/console/campaigns"), **data}
    return client.post(path, data=form, headers={"accept": "text/html"}, follow_redirects=False)


def test_the_composer_takes_a_channels_own_content(client: TestClient, session: Session) -> None:
    w = _world(session)
    member = make_member(session, brand=w["brand"])
    sign_in_member(client, member.email, PASSWORD)
    form = {
        "name": "Vinyl day",
        "topic_id": str(w["topic"].id),
        "channel": "email",
        "also_sms": "on",
        "also_inapp": "on",
        "channel_mode": "all",
        "subject": "News",
        "text": LONG,
        "content_format": "text",
        "audience_kind": "all",
        "schedule_kind": "now",
        "zone": "UTC",
    }
    too_long = _post(client, "/console/campaigns", form | {"sms_text": "ł" * 700})
    assert too_long.status_code == 422
    error = re.search(r'id="f-sms_text-error" role="alert">([^<]*)<', too_long.text)
    assert error is not None and "segments" in html.unescape(error.group(1))
    assert "ł" * 700 in too_long.text  # what was typed is kept
    assert _campaigns(session) == 0

    made = _post(
        client,
        "/console/campaigns",
        form | {"sms_text": "New vinyl is in!", "inapp_subject": "Vinyl!", "inapp_text": "Tap."},
    )
    assert made.status_code == 303, made.text
    campaign = session.scalars(select(Campaign)).one()
    assert (campaign.channels, campaign.channel_mode) == (["email", "sms", "inapp"], "all")
    assert campaign.contents == {
        "sms": {"text": "New vinyl is in!"},
        "inapp": {"text": "Tap.", "subject": "Vinyl!"},
    }
    page = client.get(made.headers["location"], headers={"accept": "text/html"}).text
    sms = re.search(r'id="preview-sms">([^<]*)<', page)
    assert sms is not None and "New vinyl is in!" in sms.group(1)
    assert 'id="preview-own-inapp"' in page and "Tap." in page
    assert 'value="Vinyl!"' in page  # the edit form shows the channel's own title

    cid = uuid.UUID(made.headers["location"].rsplit("/", 1)[1])
    edit = {k: v for k, v in form.items() if k not in ("topic_id", "channel")}
    saved = _post(client, f"/console/campaigns/{cid}", edit | {"sms_text": "Shorter."})
    assert saved.status_code == 303, saved.text
    session.expire_all()
    assert session.get_one(Campaign, cid).contents == {"sms": {"text": "Shorter."}}
