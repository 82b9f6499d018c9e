"""Bad input found by hand in the API: each a clear 4xx naming the problem, never a 500."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from accord.core.permissions import Role
from tests.builders import make_api_key, make_brand, make_person
from tests.helpers import csrf_of, sign_in_person

TOO_BIG = 2**63


def bearer(session: Session, role: Role = Role.owner) -> dict[str, str]:
    _, secret = make_api_key(session, brand=make_brand(session), role=role)
    return {"Authorization": f"Bearer {secret}"}


def test_receipt_ids_past_what_a_database_stores(client: TestClient, session: Session) -> None:
    brand = client.get(f"/api/v1/consent/events/{TOO_BIG}/receipt", headers=bearer(session))
    assert brand.status_code == 422 and brand.json()["field"] == "event_id"
    make_person(session, email="receipts@example.com")
    sign_in_person(client, session, "receipts@example.com")
    mine = client.get(f"/api/v1/me/receipts/{2**31}")  # seq is an INTEGER column
    assert mine.status_code == 422 and mine.json()["field"] == "seq"


@pytest.mark.parametrize(
    ("body", "field", "words"),
    [
        ({"cutoff": "0001-01-01"}, "cutoff", "between 1900 and 2200"),
        ({"cutoff": "9999-12-31"}, "cutoff", "between 1900 and 2200"),
        ({"cutoff": "2020-01-01", "calibration_start": "1800-01-01"}, "calibration_start", "1900"),
        ({"cutoff": "2020-01-01", "calibration_start": "2021-01-01"}, "body", "before the cut-off"),
    ],
)
def test_fit_dates_out_of_range_or_in_the_wrong_order(
    client: TestClient, session: Session, body: dict[str, str], field: str | None, words: str
) -> None:
    response = client.post("/api/v1/analytics/fits", json=body, headers=bearer(session))
    assert response.status_code == 422, response.text
    assert response.json()["field"] == field
    assert words in response.json()["detail"]


@pytest.mark.parametrize(
    ("content", "words"),
    [
        (b"email,display_name\r\nann@example.com,Ann\rbob@example.com,Bob\r\n", None),
        (b'email,display_name\nann@example.com,"Ann\n', "never closed"),
        (b"email,display_name\nann@example.com," + b"x" * 140_000 + b"\n", "longer than"),
        (b"email\n\xff\xfe@example.com\n", "not UTF-8"),
        (b"email,display_name\nann@example.com,An\x00n\n", "U+0000"),
    ],
)
def test_broken_csv_files_are_refused_naming_the_line(
    client: TestClient, session: Session, content: bytes, words: str | None
) -> None:
    files = {"file": ("people.csv", content, "text/csv")}
    response = client.post("/api/v1/invitations/csv", files=files, headers=bearer(session))
    if words is None:  # a bare CR ends a line, as old spreadsheet programs write it
        assert response.status_code == 201, response.text
        assert len(response.json()) == 2
        return
    assert response.status_code == 422, response.text
    assert response.json()["field"] == "file"
    assert words in response.json()["detail"] and "Line 2" in response.json()["detail"]


def test_a_form_page_with_a_nul_byte_is_a_422_not_a_500(
    client: TestClient, session: Session
) -> None:
    form = {"email": "form@example.com", "display_name": "A\x00", "csrf_token": csrf_of(client)}
    response = client.post("/signup", data=form, headers={"accept": "text/html"})
    assert response.status_code == 422
    assert "U+0000" in response.text
