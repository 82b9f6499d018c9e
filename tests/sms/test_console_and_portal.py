"""Texts in the console and the portal: the composer's segment count (as typed, and on the
draft's page without the script), the report's delivery rates per channel, the person's texts in
"What <brand> sent you" and the portal's one-press stop."""

from __future__ import annotations

import html
import re
from datetime import timedelta

from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from accord.consent import ledger
from accord.core.db import utcnow
from accord.core.permissions import Role
from accord.core.settings import Settings
from accord.delivery.worker import Worker
from accord.outbox.models import OutboxMessage
from tests.builders import PASSWORD, make_brand, make_member, make_topic
from tests.conftest import RolledBackDatabase
from tests.helpers import csrf_of, sign_in_member, sign_in_person
from tests.sms.world import PHONE, chose_sms, sms_world
from tests.waiting import drain

HTML = {"accept": "text/html"}
COUNT = "/console/campaigns/sms-count"
# Tomorrow at noon UTC: inside every legal window for people in UTC.
NOON = (utcnow() + timedelta(days=1)).replace(hour=12, minute=0, second=0, microsecond=0)


def signed_in_marketer(client: TestClient, session: Session, brand_name: str) -> str:
    brand = make_brand(session, name=brand_name)
    member = make_member(session, brand=brand, role=Role.marketer)
    make_topic(session, brand=brand, name="New vinyl")
    make_topic(session, brand=brand, name="Orders", purpose="transactional")
    session.commit()
    sign_in_member(client, member.email, PASSWORD)
    return csrf_of(client, "/console/campaigns/new")


def count(client: TestClient, csrf: str, **form: str) -> dict[str, object]:
    answer = client.post(COUNT, data=form, headers={"x-csrf-token": csrf})
    assert answer.status_code == 200, answer.text
    found: dict[str, object] = answer.json()
    return found


def test_the_composer_counts_a_text_as_it_is_typed(client: TestClient, session: Session) -> None:
    csrf = signed_in_marketer(client, session, "Groove Records")
    page = client.get("/console/campaigns/new", headers=HTML).text
    options = dict(re.findall(r'<option value="([0-9a-f-]{36})"[^>]*>([^<]+)</option>', page))
    marketing = next(k for k, v in options.items() if v.startswith("New vinyl"))
    transactional = next(k for k, v in options.items() if v.startswith("Orders"))
    out = re.search(r'<p class="hint sms-count"[^>]*id="sms-count"[^>]*>', page)
    assert out is not None and f'data-url="{COUNT}"' in out.group(0)
    assert '<script src="/console/sms/count.js" defer></script>' in page

    hello = count(client, csrf, text="Hi {{ person.first_name }}!", topic_id=marketing)
    assert hello["body"] == "Groove Records: Hi Ada!\nReply STOP to opt out"
    assert hello["segments"] == 1 and hello["encoding"] == "GSM-7" and not hello["too_long"]
    assert hello["summary"] == (
        "As sent to Ada Lovelace: 1 segment (GSM-7, 45 characters; "
        "115 units left in the last segment)."
    )
    # Transactional: no STOP line. Before a topic is chosen: counted with it.
    order = count(client, csrf, text="Your order is ready.", topic_id=transactional)
    assert order["body"] == "Groove Records: Your order is ready."
    assert count(client, csrf, text="Hi")["body"] == "Groove Records: Hi\nReply STOP to opt out"
    curly = count(client, csrf, text="It\u2019s here \U0001f3b5", topic_id=marketing)
    assert curly["encoding"] == "UCS-2"
    assert str(curly["summary"]).endswith("UCS-2 because of \u2019 \U0001f3b5.")
    long = count(client, csrf, text="x" * 1600, topic_id=marketing)
    assert long["too_long"] and long["segments"] == 11
    assert str(long["summary"]).endswith("Too long: at most 10 segments.")

    other = make_topic(session, brand=make_brand(session, name="Other"), name="Theirs")
    session.commit()
    theirs = client.post(
        COUNT, data={"text": "Hi", "topic_id": str(other.id)}, headers={"x-csrf-token": csrf}
    )
    assert theirs.status_code == 404 and theirs.json()["field"] == "topic_id"
    odd = client.post(COUNT, data={"text": "Hi", "topic_id": "x"}, headers={"x-csrf-token": csrf})
    assert odd.status_code == 422 and odd.json()["field"] == "topic_id"
    nul = client.post(COUNT, data={"text": "a\x00b"}, headers={"x-csrf-token": csrf})
    assert nul.status_code == 422 and nul.json()["field"] == "text"
    assert client.post(COUNT, data={"text": "Hi"}).status_code == 403  # no CSRF token
    script = client.get("/console/sms/count.js")
    assert script.status_code == 200 and script.headers["content-type"].startswith(
        "text/javascript"
    )
    assert 'getElementById("sms-count")' in script.text


def test_without_the_script_the_draft_shows_its_text_counted(
    client: TestClient, session: Session
) -> None:
    csrf = signed_in_marketer(client, session, "Groove Records")
    page = client.get("/console/campaigns/new", headers=HTML).text
    options = dict(re.findall(r'<option value="([0-9a-f-]{36})"[^>]*>([^<]+)</option>', page))
    marketing = next(k for k, v in options.items() if v.startswith("New vinyl"))
    form = {
        "csrf_token": csrf,
        "name": "Vinyl day",
        "topic_id": marketing,
        "channel": "sms",
        "text": "Hi {{ person.first_name }}, the new {{ topic.name }} is in!",
        "content_format": "markdown",
        "audience_kind": "all",
        "schedule_kind": "now",
        "zone": "UTC",
    }
    saved = client.post("/console/campaigns", data=form, headers=HTML, follow_redirects=False)
    assert saved.status_code == 303, saved.text
    draft = client.get(saved.headers["location"], headers=HTML).text
    body = re.search(r'<pre class="mail-text" id="preview-sms">([^<]*)</pre>', draft)
    assert body is not None
    assert html.unescape(body.group(1)) == (
        "Groove Records: Hi Ada, the new New vinyl is in!\nReply STOP to opt out"
    )
    summary = "As sent to Ada Lovelace: 1 segment (GSM-7, 70 characters; 90 units left"
    assert f'id="preview-sms-count">{summary}' in draft
    # The edit form's count, before any script runs, is the saved text's.
    out = re.search(r'id="sms-count"[^>]*data-channel="sms"[^>]*>([^<]*)</p>', draft)
    assert out is not None and out.group(1).startswith(summary)

    too_long = client.post(
        saved.headers["location"],
        data={**form, "text": "\U0001f3b5" * 400},
        headers=HTML,
        follow_redirects=False,
    )
    assert too_long.status_code == 422
    assert 'id="f-text-error"' in too_long.text and "at most 10" in too_long.text


def test_texts_show_in_the_report_and_the_portal_and_stop_from_there(
    client: TestClient, session: Session, database: RolledBackDatabase, settings: Settings
) -> None:
    world = sms_world(session)
    member = make_member(session, brand=world.brand, role=Role.marketer)
    session.commit()
    sign_in_member(client, member.email, PASSWORD)
    csrf = csrf_of(client, "/console/campaigns/new")
    page = client.get("/console/campaigns/new", headers=HTML).text
    topic = re.search(r'<option value="([0-9a-f-]{36})"', page)
    assert topic is not None
    form = {
        "csrf_token": csrf,
        "name": "Vinyl day",
        "topic_id": topic.group(1),
        "channel": "sms",
        "text": "Hi {{ person.first_name }}, vinyl day!",
        "content_format": "markdown",
        "audience_kind": "all",
        "schedule_kind": "now",
        "zone": "UTC",
    }
    saved = client.post("/console/campaigns", data=form, headers=HTML, follow_redirects=False)
    assert saved.status_code == 303, saved.text
    campaign = saved.headers["location"]
    sent = client.post(
        f"{campaign}/send", data={"csrf_token": csrf, "confirm": "yes"}, follow_redirects=False
    )
    assert sent.status_code == 303
    assert drain(Worker(database, settings), now=NOON).sent == 1
    session.expire_all()
    row = session.scalars(select(OutboxMessage)).one()
    assert (row.channel, row.state) == ("sms", "delivered")  # the dev phone delivers at once

    report = client.get(f"{campaign}/report", headers=HTML).text
    delivery = report.split('<table id="delivery-table">', 1)[1].split("</table>", 1)[0]
    assert re.search(
        r'<tr id="delivery-sms"><th scope="row">sms</th><td>1</td><td>1</td><td>0</td>'
        r"<td>0</td><td>0</td><td>100.0 %</td></tr>",
        delivery,
    ), delivery
    cid = campaign.rsplit("/", 1)[1]
    api = client.get(f"/api/v1/campaigns/{cid}/report").json()
    assert api["delivery"]["sms"]["delivered"] == 1
    assert api["delivery"]["sms"]["delivery_rate"] == 1.0

    person = TestClient(client.app)
    sign_in_person(person, session, world.person.email)
    mine = person.get(f"/relationships/{world.brand.id}", headers=HTML).text
    history = mine.split('id="sent-h"', 1)[1].split("</section>", 1)[0]
    assert re.search(r'<th scope="row">Hi [^<,]*, vinyl day!</th>', history), history
    assert "<td>sms</td><td>delivered</td>" in history
    texts = mine.split('id="texts-h"', 1)[1].split("</section>", 1)[0]
    assert f"at {PHONE}" in texts and f"from {world.number}" in texts
    assert "Stop marketing texts from Groove Records" in texts

    token = csrf_of(person, f"/relationships/{world.brand.id}")
    stopped = person.post(
        f"/relationships/{world.brand.id}/texts/stop",
        data={"csrf_token": token},
        follow_redirects=False,
    )
    assert stopped.status_code == 303
    assert stopped.headers["location"] == f"/relationships/{world.brand.id}#texts-h"
    assert not chose_sms(session, world.person.id, world.brand.id)
    session.expire_all()
    last = ledger.body_of(ledger.events_for(session, world.person.id)[-1])
    assert last["action"] == "withdraw" and last["source"] == "portal"
    assert last["scope"] == {"purpose": "marketing", "channel": "sms", "topic": None}
    after = person.get(f"/relationships/{world.brand.id}", headers=HTML).text
    assert "Groove Records will send you no more marketing texts." in after
    assert 'id="texts-off"' in after
    again = person.post(
        f"/relationships/{world.brand.id}/texts/stop",
        data={"csrf_token": token},
        follow_redirects=False,
    )
    assert again.status_code == 303
    assert "nothing changed" in person.get(f"/relationships/{world.brand.id}").text
    elsewhere = make_brand(session, name="Elsewhere")
    session.commit()
    stranger = person.post(
        f"/relationships/{elsewhere.id}/texts/stop", data={"csrf_token": token}, headers=HTML
    )
    assert stranger.status_code == 404
