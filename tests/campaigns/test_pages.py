"""The console's campaign pages: the form keeps what was typed and puts each error by its field,
the preview counts the audience by reason, sending twice sends once, the report draws its
chart with a table, a test send reaches only the member, and people see what was sent."""

from __future__ import annotations

import html
import re
import uuid
from typing import Any

from fastapi.testclient import TestClient
from httpx import Response
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from accord.campaigns.models import Campaign
from accord.core.permissions import Role
from accord.core.settings import Settings
from accord.delivery.worker import Worker
from accord.mail.models import DevMailMessage
from accord.outbox.models import OutboxMessage
from tests.builders import (
    PASSWORD,
    make_brand,
    make_member,
    make_person,
    make_relationship,
    make_topic,
)
from tests.conftest import RolledBackDatabase
from tests.helpers import csrf_of, sign_in_member, sign_in_person
from tests.waiting import drain

HTML = {"accept": "text/html"}


def world(session: Session, role: Role = Role.marketer) -> dict[str, Any]:
    """Four people who may get the campaign, one without the topic, one without consent."""
    brand = make_brand(session, name="Page Records")
    member = make_member(session, brand=brand, role=role)
    topic = make_topic(session, brand=brand, name="Jazz news")
    people = [make_person(session, display_name=f"Person {i}") for i in range(6)]
    for person in people[:4]:
        make_relationship(
            session,
            person=person,
            brand=brand,
            marketing=True,
            channels=("email",),
            topics_on=(topic,),
        )
    make_relationship(session, person=people[4], brand=brand, marketing=True, channels=("email",))
    make_relationship(session, person=people[5], brand=brand)
    return {"brand": brand, "member": member, "topic": topic, "people": people}


def post(client: TestClient, path: str, data: dict[str, str]) -> Response:
    form = {"csrf_token": csrf_of(client, "/console/campaigns"), **data}
    return client.post(path, data=form, headers=HTML, follow_redirects=False)


def form(topic: Any, **over: str) -> dict[str, str]:
    return {
        "name": "Spring jazz",
        "topic_id": str(topic.id),
        "subject": "Hello {{ person.first_name }}",
        "text": "New {{ topic.name }} from {{ brand.name }}.",
        "html": "<p>Hi {{ person.name }}</p>",
        "content_format": "html",
        "audience_kind": "all",
        "schedule_kind": "now",
        "zone": "UTC",
    } | over


def campaigns_scheduled(session: Session) -> int:
    found = session.scalar(
        select(func.count()).select_from(Campaign).where(Campaign.state == "scheduled")
    )
    return int(found or 0)


def signed_in(client: TestClient, session: Session, role: Role = Role.marketer) -> dict[str, Any]:
    w = world(session, role)
    sign_in_member(client, w["member"].email, PASSWORD)
    return w


def create(client: TestClient, topic: Any, **over: str) -> uuid.UUID:
    response = post(client, "/console/campaigns", form(topic, **over))
    assert response.status_code == 303, response.text
    match = re.fullmatch(r"/console/campaigns/([0-9a-f-]{36})", response.headers["location"])
    assert match is not None
    return uuid.UUID(match.group(1))


def cell(page: str, row_id: str) -> int:
    match = re.search(rf'<tr id="{row_id}"[^>]*>.*?<td>(\d+)</td>', page, re.S)
    assert match is not None, f"no row {row_id}"
    return int(match.group(1))


def campaigns(session: Session) -> int:
    return session.scalar(select(func.count()).select_from(Campaign)) or 0


def test_an_invalid_template_is_refused_beside_its_field_keeping_what_was_typed(
    client: TestClient, session: Session
) -> None:
    w = signed_in(client, session)
    typed = "Dear {{ person.email }}, & welcome"
    response = post(client, "/console/campaigns", form(w["topic"], text=typed, name="Kept name"))
    assert response.status_code == 422
    page = response.text
    error = re.search(r'<p class="error" id="f-text-error" role="alert">([^<]*)</p>', page)
    assert error is not None
    assert "'person.email' is not a field templates may use" in html.unescape(error.group(1))
    assert 'aria-describedby="f-text-hint f-text-error"' in page
    textarea = re.search(r'<textarea id="f-text"[^>]*>([^<]*)</textarea>', page)
    assert textarea is not None and html.unescape(textarea.group(1)) == typed
    assert 'value="Kept name"' in page
    assert f'<option value="{w["topic"].id}" selected>' in page
    assert campaigns(session) == 0


def test_form_errors_sit_by_their_fields(client: TestClient, session: Session) -> None:
    w = signed_in(client, session)
    cases = [
        ({"name": ""}, "name", "Give the campaign a name."),
        ({"topic_id": ""}, "topic_id", "Choose a topic."),
        ({"audience_kind": "people", "audience_people": "nope"}, "audience_people", "Line 1"),
        (
            {"audience_kind": "people", "audience_people": "stranger@example.com"},
            "audience_people",
            "No one related to the brand has the address stranger@example.com.",
        ),
        ({"audience_kind": "filter", "audience_filter": "size"}, "audience_filter", "key=value"),
        ({"audience_kind": "segment"}, "audience_segment", "Choose the segment"),
        ({"audience_kind": "segment", "audience_segment": "x"}, "audience_segment", "Choose"),
        ({"schedule_kind": "at", "schedule_at": ""}, "schedule_at", "date and time"),
        ({"schedule_kind": "at", "schedule_at": "2001-01-01T10:00"}, "schedule_at", "past"),
        ({"schedule_kind": "local", "local_time": "9"}, "local_time", "HH:MM"),
        ({"zone": "Mars/Olympus"}, "zone", "Choose a time zone from the list."),
        ({"subject": "{{ secret }}"}, "subject", "'secret' is not a field"),
        ({"html": "<p>{% for x in %}</p>"}, "html", "template error"),
    ]
    for over, field, text in cases:
        response = post(client, "/console/campaigns", form(w["topic"], **over))
        assert response.status_code == 422, (over, response.text)
        error = re.search(rf'id="f-{field}-error" role="alert">([^<]*)<', response.text)
        assert error is not None, (field, response.text)
        assert text in html.unescape(error.group(1)), (field, error.group(1))
    assert campaigns(session) == 0


def test_a_segment_is_an_audience_the_form_keeps(client: TestClient, session: Session) -> None:
    w = signed_in(client, session)
    campaign_id = create(client, w["topic"], audience_kind="segment", audience_segment="at_risk")
    campaign = session.get_one(Campaign, campaign_id)
    assert campaign.audience_kind == "segment" and campaign.audience["segment"] == "at_risk"
    page = client.get(f"/console/campaigns/{campaign_id}", headers=HTML).text
    assert '<option value="at_risk" selected>' in page
    # Nobody has bought anything here, so the segment is empty: nobody is eligible.
    assert re.search(r'id="preview-eligible">0<', page)


def test_preview_counts_the_audience_by_reason(client: TestClient, session: Session) -> None:
    w = signed_in(client, session)
    campaign_id = create(client, w["topic"])
    page = client.get(f"/console/campaigns/{campaign_id}", headers=HTML).text
    assert re.search(r'id="preview-eligible">4<', page)
    assert re.search(r'id="preview-deferred">0<', page)
    assert re.search(r'id="preview-excluded">2<', page)
    assert cell(page, "reason-topic_not_chosen") == 1
    assert cell(page, "reason-no_marketing_consent") == 1
    assert cell(page, "reason-global_opt_out") == 0
    assert "Has not chosen this campaign&#39;s topic." in page
    assert re.search(r'id="preview-subject">Hello Ada<', page)
    assert "New Jazz news from Page Records." in page
    assert 'sandbox srcdoc="&lt;p&gt;Hi Ada Lovelace&lt;/p&gt;"' in page
    listing = client.get("/console/campaigns", headers=HTML).text
    assert f'href="/console/campaigns/{campaign_id}">Spring jazz</a>' in listing
    assert ">draft<" in listing


def test_sending_twice_sends_once_and_the_report_draws_the_outcome(
    client: TestClient, session: Session, database: RolledBackDatabase, settings: Settings
) -> None:
    w = signed_in(client, session)
    campaign_id = create(client, w["topic"])
    asked = post(client, f"/console/campaigns/{campaign_id}/send", {})
    assert asked.status_code == 200, asked.text
    assert re.search(r"<h1>Send to \d+ people now\?</h1>", asked.text)
    assert re.search(r"<button type=\"submit\">Send to \d+ people</button>", asked.text)
    assert campaigns_scheduled(session) == 0
    for _ in range(2):
        sent = post(client, f"/console/campaigns/{campaign_id}/send", {"confirm": "yes"})
        assert sent.status_code == 303
    again = client.get(f"/console/campaigns/{campaign_id}", headers=HTML).text
    assert "This campaign is already scheduled." in again
    assert 'id="campaign-state">scheduled<' in again
    assert campaigns(session) == 1
    session.expire_all()
    assert session.get_one(Campaign, campaign_id).state == "scheduled"
    assert drain(Worker(database, settings)).sent == 4
    assert session.scalar(select(func.count()).select_from(OutboxMessage)) == 4

    report = client.get(f"/console/campaigns/{campaign_id}/report", headers=HTML)
    assert report.status_code == 200
    page = report.text
    assert '<svg role="img" aria-labelledby="audience-title"' in page
    # Nobody here allowed profiling: the report says why opens and clicks are not counted.
    assert 'id="tracking-note">Opens and clicks are counted for 0 of' in page
    assert "not allowed Page Records to profile them" in page
    assert '<title id="audience-title">Audience by reason</title>' in page
    assert '<svg role="img" aria-labelledby="outcomes-title"' in page
    assert not re.search(r"<script(?![^>]*\bsrc=)", page)  # no inline script (CSP)
    chart_end = page.index("</figure>")
    assert page.index('<table id="audience-table">') > chart_end
    audience = page.split('<table id="audience-table">', 1)[1].split("</table>", 1)[0]
    assert re.search(r"eligible</th><td>4</td>", audience)
    assert re.search(r"<code>topic_not_chosen</code></th><td>1</td>", audience)
    outcomes = page.split('<table id="outcomes-table">', 1)[1].split("</table>", 1)[0]
    assert re.search(r"Sent</th><td>4</td>", outcomes)
    rates = page.split('<table id="rates-table">', 1)[1].split("</table>", 1)[0]
    assert "66.7 %" in rates and "Unsubscribed" in rates
    listing = client.get("/console/campaigns", headers=HTML).text
    assert re.search(r">done</span></td>\s*<td>[^<]*</td>\s*<td>4</td>", listing)

    person = w["people"][0]
    reader = TestClient(client.app)
    sign_in_person(reader, session, person.email)
    mine = reader.get(f"/relationships/{w['brand'].id}", headers=HTML).text
    history = mine.split('id="sent-h"', 1)[1]
    assert "Hello Person" in history and "email" in history and "sent" in history


def test_test_send_reaches_only_the_member(client: TestClient, session: Session) -> None:
    w = signed_in(client, session)
    campaign_id = create(client, w["topic"])
    response = post(client, f"/console/campaigns/{campaign_id}/test", {})
    assert response.status_code == 303
    mail = session.scalars(
        select(DevMailMessage).where(DevMailMessage.recipients == w["member"].email)
    ).one()
    assert mail.subject == "[Test] Hello Ada"
    assert "New Jazz news from Page Records." in mail.text_body
    assert "1 Test Street" in mail.text_body
    assert session.scalar(select(func.count()).select_from(OutboxMessage)) == 0
    session.expire_all()
    assert session.get_one(Campaign, campaign_id).state == "draft"


def test_a_draft_can_be_edited_and_cancelled(client: TestClient, session: Session) -> None:
    w = signed_in(client, session)
    campaign_id = create(client, w["topic"])
    values = form(w["topic"], subject="Hi {{ person.name }}", html="")
    values.pop("topic_id")
    bad = post(client, f"/console/campaigns/{campaign_id}", values | {"text": "{{ x.y }}"})
    assert bad.status_code == 422 and 'id="f-text-error"' in bad.text
    saved = post(client, f"/console/campaigns/{campaign_id}", values)
    assert saved.status_code == 303, saved.text
    session.expire_all()
    campaign = session.get_one(Campaign, campaign_id)
    assert campaign.subject == "Hi {{ person.name }}" and campaign.html_template is None
    asked = post(client, f"/console/campaigns/{campaign_id}/cancel", {})
    assert asked.status_code == 200 and "This cannot be undone." in asked.text
    session.expire_all()
    assert session.get_one(Campaign, campaign_id).state == "draft"
    cancelled = post(client, f"/console/campaigns/{campaign_id}/cancel", {"confirm": "yes"})
    assert cancelled.status_code == 303
    session.expire_all()
    assert session.get_one(Campaign, campaign_id).state == "cancelled"
    locked = post(client, f"/console/campaigns/{campaign_id}", values)
    assert locked.status_code == 422 and "Only a draft can be changed." in locked.text


def test_roles_and_brands_are_kept_apart(client: TestClient, session: Session) -> None:
    w = world(session)
    other = world(session)
    analyst = make_member(session, brand=w["brand"], role=Role.analyst)
    sign_in_member(client, analyst.email, PASSWORD)
    assert client.get("/console/campaigns", headers=HTML).status_code == 200
    assert "New campaign" not in client.get("/console/campaigns", headers=HTML).text
    refused = post(client, "/console/campaigns", form(w["topic"]))
    assert refused.status_code == 403 and campaigns(session) == 0
    owner = TestClient(client.app)
    sign_in_member(owner, other["member"].email, PASSWORD)
    theirs = create(owner, other["topic"])
    assert client.get(f"/console/campaigns/{theirs}", headers=HTML).status_code == 404
    assert client.get(f"/console/campaigns/{theirs}/report", headers=HTML).status_code == 404
