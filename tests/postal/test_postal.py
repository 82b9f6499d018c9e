"""Postal mailings: the gate decides, one formatted address per person, a ledger event per
person exported, the same file every time, people without an address counted."""

from __future__ import annotations

import csv
import io

from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from accord.consent import ledger
from accord.people import contacts
from accord.postal.formatting import format_address
from tests.builders import make_api_key, make_brand, make_person, make_relationship, make_topic


def test_addresses_are_formatted_with_the_country_last() -> None:
    assert format_address("Ann Lee", "12 Harbour Street, Bristol BS1 4RN, United Kingdom") == [
        "Ann Lee",
        "12 Harbour Street",
        "Bristol BS1 4RN",
        "",
        "",
        "",
        "GB",
    ]
    assert format_address("Bo", "Bergmannstraße 5\n10961 Berlin\nDeutschland")[1:3] == [
        "Bergmannstraße 5",
        "10961 Berlin",
    ]
    assert format_address("Cy", "a, b, c, d, e, f, g")[1:6] == ["a", "b", "c", "d", "e, f, g"]


def test_a_postal_mailing_exports_once_through_the_gate(
    client: TestClient, session: Session
) -> None:
    brand = make_brand(session)
    _, key = make_api_key(session, brand=brand)
    auth = {"authorization": f"Bearer {key}"}
    topic = make_topic(session, brand=brand)
    with_address = make_person(session, display_name="Ann Lee")
    no_address = make_person(session, display_name="Bo")
    not_chosen = make_person(session, display_name="Cy")
    for person in (with_address, no_address):
        make_relationship(
            session,
            person=person,
            brand=brand,
            marketing=True,
            channels=("postal",),
            topics_on=(topic,),
        )
    make_relationship(
        session,
        person=not_chosen,
        brand=brand,
        marketing=True,
        channels=("email",),
        topics_on=(topic,),
    )
    contacts.add_postal(session, with_address.id, "12 Harbour Street, Bristol BS1 4RN, UK")
    contacts.add_postal(session, not_chosen.id, "1 Elsewhere Road, Leeds")
    made = client.post(
        "/api/v1/campaigns",
        headers=auth,
        json={
            "name": "Catalogue",
            "topic_id": str(topic.id),
            "channel": "postal",
            "subject": "Spring catalogue",
            "text": "Printed.",
        },
    )
    assert made.status_code == 201, made.text
    campaign = made.json()["id"]
    assert client.post(f"/api/v1/campaigns/{campaign}/send", headers=auth).status_code == 409
    assert (
        client.get(f"/api/v1/campaigns/{campaign}/postal-export.csv", headers=auth).status_code
        == 404
    )
    first = client.post(f"/api/v1/campaigns/{campaign}/postal-export", headers=auth)
    assert first.status_code == 200, first.text
    assert first.json()["exported"] == 1
    assert first.json()["left_out"] == {"no_contact_point": 1, "channel_not_chosen": 1}
    again = client.post(f"/api/v1/campaigns/{campaign}/postal-export", headers=auth)
    assert again.json() == first.json()
    file_1 = client.get(f"/api/v1/campaigns/{campaign}/postal-export.csv", headers=auth)
    file_2 = client.get(f"/api/v1/campaigns/{campaign}/postal-export.csv", headers=auth)
    assert file_1.text == file_2.text
    rows = list(csv.reader(io.StringIO(file_1.text)))
    assert rows == [
        ["name", "line1", "line2", "line3", "line4", "line5", "country"],
        ["Ann Lee", "12 Harbour Street", "Bristol BS1 4RN", "", "", "", "GB"],
    ]
    events = [e for e in ledger.events_for(session, with_address.id) if e.action == "postal_export"]
    assert len(events) == 1 and ledger.body_of(events[0])["value"]["mailing"] == campaign
    assert not [e for e in ledger.events_for(session, no_address.id) if e.action == "postal_export"]
    other = {"authorization": f"Bearer {make_api_key(session, brand=make_brand(session))[1]}"}
    assert (
        client.post(f"/api/v1/campaigns/{campaign}/postal-export", headers=other).status_code == 404
    )


def test_only_postal_campaigns_are_exported(client: TestClient, session: Session) -> None:
    brand = make_brand(session)
    _, key = make_api_key(session, brand=brand)
    auth = {"authorization": f"Bearer {key}"}
    topic = make_topic(session, brand=brand)
    made = client.post(
        "/api/v1/campaigns",
        headers=auth,
        json={"name": "Mail", "topic_id": str(topic.id), "subject": "Hi", "text": "Hello."},
    ).json()
    response = client.post(f"/api/v1/campaigns/{made['id']}/postal-export", headers=auth)
    assert response.status_code == 409 and response.json()["field"] == "channel"
    from accord.postal.models import PostalExport

    assert session.scalars(select(PostalExport)).all() == []
