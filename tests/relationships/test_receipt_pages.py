"""A decision's receipt as a page with server-side checks, a kept receipt checked by pasting
it back, and the export as a page to read (real forms, SQLite and PostgreSQL)."""

from __future__ import annotations

import json

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from accord.consent import ledger
from tests.builders import make_brand, make_relationship, make_topic
from tests.relationships.page_helpers import HTML, post, signed_in


def test_a_receipt_opens_as_a_page_and_verifies_on_the_server(
    client: TestClient, session: Session
) -> None:
    me = signed_in(client, session, email="receipt.reader@example.com")
    brand = make_brand(session, name="Velo Cycles")
    topic = make_topic(session, brand=brand, name="New arrivals")
    make_relationship(session, person=me, brand=brand, marketing=True, topics_on=(topic,))
    history = client.get("/history", headers=HTML).text
    assert 'href="/history/2"' in history and 'href="/history/2/receipt"' in history

    page = client.get("/history/2", headers=HTML)
    assert page.status_code == 200
    text = page.text
    assert "You granted marketing to Velo Cycles" in text
    assert "receipt.reader@example.com" in text and "Velo Cycles" in text
    assert "consent given" in text and "Marketing rests on your consent" in text
    assert "Not checked yet" in text and ">Verify</button>" in text

    checked = client.get("/history/2?verify=1", headers=HTML).text
    assert "Valid: every check passed." in checked
    assert checked.count("<strong>Passed:</strong>") == 3

    # A record changed after the fact: the page says which check fails.
    event = ledger.events_for(session, me.id)[0]
    event.body = event.body.replace('"follow"', '"invite"')
    session.commit()
    broken = client.get("/history/2?verify=1", headers=HTML).text
    assert "Not valid: a check failed." in broken
    assert "The chain breaks at decision 1" in broken


def test_an_unknown_decision_is_a_404(client: TestClient, session: Session) -> None:
    signed_in(client, session)
    assert client.get("/history/99", headers=HTML).status_code == 404


def test_a_kept_receipt_is_checked_and_a_changed_one_is_not_valid(
    client: TestClient, session: Session
) -> None:
    me = signed_in(client, session)
    make_relationship(session, person=me, brand=make_brand(session))
    kept = client.get("/history/1/receipt", headers=HTML).text
    good = post(client, "/receipts/check", {"receipt": kept}, "/receipts/check")
    assert good.status_code == 200 and "<strong>Valid.</strong>" in good.text
    changed = json.loads(kept)
    changed["jurisdiction"] = "US"
    bad = post(client, "/receipts/check", {"receipt": json.dumps(changed)}, "/receipts/check")
    assert "<strong>Not valid.</strong>" in bad.text and "does not match its signature" in bad.text


@pytest.mark.parametrize(
    ("typed", "said"),
    [
        ("", "Paste the receipt you kept"),
        ("   ", "Paste the receipt you kept"),
        ("{" + " " * 70_000 + "}", "Use 65536 characters or fewer"),
        ("not json at all", "This is not a receipt"),
        ('{"version": "KI-CR-v1.1.0"}', "it has no signature"),
        ("[1, 2]", "it has no signature"),
    ],
)
def test_bad_receipts_are_refused_beside_the_field_with_the_text_kept(
    client: TestClient, session: Session, typed: str, said: str
) -> None:
    signed_in(client, session)
    page = post(client, "/receipts/check", {"receipt": typed}, "/receipts/check")
    assert page.status_code == 422
    error = page.text.split('id="f-receipt-error"', 1)[1].split("</p>", 1)[0]
    assert said in error
    if typed.strip() and len(typed) < 100:
        assert typed.replace('"', "&#34;") in page.text


def test_the_export_reads_as_a_page(client: TestClient, session: Session) -> None:
    me = signed_in(client, session, email="export.reader@example.com")
    make_relationship(session, person=me, brand=make_brand(session, name="Read Co"))
    page = client.get("/export/summary", headers=HTML)
    assert page.status_code == 200
    assert "Everything Accord holds about you" in page.text
    assert "export.reader@example.com" in page.text
    assert "Your relationships" in page.text and "Your contact points" in page.text
    assert 'href="/export"' in page.text
