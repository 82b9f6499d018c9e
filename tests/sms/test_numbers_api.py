"""Numbers belong to brands (E.164, one brand each; another brand's number is a 404 to
remove), the HELP answer, the segment counter and the replies list, through the API."""

from __future__ import annotations

import uuid

from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from accord.core.permissions import Role
from accord.sms.models import InboundSms, SendingNumber
from tests.builders import make_api_key, make_brand


def key_for(
    session: Session, role: Role = Role.owner, name: str = "Groove Records"
) -> dict[str, str]:
    brand = make_brand(session, name=name)
    _, secret = make_api_key(session, brand=brand, role=role)
    session.commit()
    return {"Authorization": f"Bearer {secret}"}


def test_a_brand_registers_lists_and_removes_its_numbers(
    client: TestClient, session: Session
) -> None:
    me = key_for(session)
    added = client.post(
        "/api/v1/sms/numbers", json={"number": " +1 202 555 0100 ", "label": "Shop"}, headers=me
    )
    assert added.status_code == 201, added.text
    assert added.json()["number"] == "+12025550100" and added.json()["label"] == "Shop"
    listed = client.get("/api/v1/sms/numbers", headers=me).json()
    assert [n["number"] for n in listed] == ["+12025550100"]
    assert client.get("/api/v1/sms/settings", headers=me).json()["sending_number"] == (
        "+12025550100"
    )
    gone = client.delete(f"/api/v1/sms/numbers/{added.json()['id']}", headers=me)
    assert gone.status_code == 204 and client.get("/api/v1/sms/numbers", headers=me).json() == []


def test_bad_numbers_are_refused_naming_the_field(client: TestClient, session: Session) -> None:
    me, other = key_for(session), key_for(session, name="Other")
    for bad, words in [
        ("202 555 0100", "E.164"),
        ("+1 202 555", "not a valid phone number"),
        ("+hello", "not a phone number"),
        ("", "Fill this in"),  # a sentence, not the library's wording
    ]:
        answer = client.post("/api/v1/sms/numbers", json={"number": bad}, headers=me)
        assert answer.status_code == 422, bad
        assert answer.json()["field"] == "number" and words in answer.json()["detail"], bad
    mine = client.post("/api/v1/sms/numbers", json={"number": "+12025550100"}, headers=me).json()
    taken = client.post("/api/v1/sms/numbers", json={"number": "+12025550100"}, headers=other)
    assert taken.status_code == 409 and "another brand" in taken.json()["detail"]
    twice = client.post("/api/v1/sms/numbers", json={"number": "+12025550100"}, headers=me)
    assert twice.status_code == 409 and "already one of your numbers" in twice.json()["detail"]
    not_theirs = client.delete(f"/api/v1/sms/numbers/{mine['id']}", headers=other)
    assert not_theirs.status_code == 404
    assert session.scalar(select(func.count()).select_from(SendingNumber)) == 1


def test_only_owners_manage_numbers(client: TestClient, session: Session) -> None:
    marketer = key_for(session, Role.marketer)
    answer = client.post("/api/v1/sms/numbers", json={"number": "+12025550100"}, headers=marketer)
    assert answer.status_code == 403
    assert client.get("/api/v1/sms/numbers", headers=marketer).status_code == 200


def test_the_help_answer(client: TestClient, session: Session) -> None:
    me = key_for(session)
    default = client.get("/api/v1/sms/settings", headers=me).json()
    assert default["help_text"].startswith("Groove Records: for help write to help@")
    assert default["sending_number"] is None
    own = "Groove: 555-0100, 9-5. Reply STOP to opt out."
    assert (
        client.put("/api/v1/sms/settings", json={"help_text": own}, headers=me).status_code == 200
    )
    assert client.get("/api/v1/sms/settings", headers=me).json()["help_text"] == own
    empty = client.put("/api/v1/sms/settings", json={"help_text": "  "}, headers=me)
    assert empty.status_code == 422 and empty.json()["field"] == "help_text"


def test_segments_count_what_the_channel_sends(client: TestClient, session: Session) -> None:
    me = key_for(session)
    plain = client.post("/api/v1/sms/segments", json={"text": "New vinyl in."}, headers=me).json()
    assert plain["body"] == "Groove Records: New vinyl in.\nReply STOP to opt out"
    assert (plain["encoding"], plain["units"], plain["segments"]) == ("GSM-7", 51, 1)
    assert plain["max_segments"] == 10 and not plain["too_long"]
    curly = client.post(
        "/api/v1/sms/segments", json={"text": "It\u2019s here", "marketing": False}, headers=me
    ).json()
    assert curly["encoding"] == "UCS-2" and curly["unicode_characters"] == ["\u2019"]
    assert curly["body"] == "Groove Records: It\u2019s here"
    long = client.post("/api/v1/sms/segments", json={"text": "a" * 1500}, headers=me).json()
    assert long["segments"] == 11 and long["too_long"]


def test_replies_are_the_brands_own_newest_first(client: TestClient, session: Session) -> None:
    me = key_for(session)
    other_brand = make_brand(session, name="Other")
    brand_id = uuid.UUID(client.get("/api/v1/brand", headers=me).json()["id"])
    for i, brand in enumerate([brand_id, other_brand.id, brand_id, brand_id]):
        session.add(
            InboundSms(
                provider="dev",
                provider_id=f"r{i}",
                from_number="+13055550181",
                to_number="+12025550100",
                brand_id=brand,
                kind="other",
                body=f"reply {i}",
                outcome="reply",
            )
        )
    session.commit()
    page = client.get("/api/v1/sms/replies?limit=2", headers=me).json()
    assert [r["body"] for r in page["items"]] == ["reply 3", "reply 2"]
    rest = client.get(f"/api/v1/sms/replies?cursor={page['next_cursor']}", headers=me).json()
    assert [r["body"] for r in rest["items"]] == ["reply 0"] and rest["next_cursor"] is None
    bad = client.get("/api/v1/sms/replies?cursor=abc", headers=me)
    assert bad.status_code == 422 and bad.json()["field"] == "cursor"
