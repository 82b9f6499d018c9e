"""Dates on pages: in the person's time zone and their language's format; UTC elsewhere."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from accord.core.dates import format_moment, pattern_for
from accord.inbox import service as inbox
from accord.inbox.models import InboxItem
from accord.inbox.service import Delivery
from tests.builders import make_brand, make_person
from tests.helpers import sign_in_person

MOMENT = datetime(2026, 12, 5, 21, 7, tzinfo=UTC)


@pytest.mark.parametrize(
    ("zone", "locale", "shown"),
    [
        ("America/New_York", "en", "Dec 5, 2026, 4:07 PM EST"),
        ("America/New_York", "en-US", "Dec 5, 2026, 4:07 PM EST"),
        ("Europe/London", "en-GB", "5 Dec 2026, 21:07 GMT"),
        ("Europe/Berlin", "de", "05.12.2026, 22:07 CET"),
        ("Europe/Vienna", "de_AT", "05.12.2026, 22:07 CET"),
        ("Europe/Paris", "fr", "05/12/2026 22:07 CET"),
        ("Asia/Tokyo", "ja", "2026/12/06 6:07 JST"),
        ("UTC", "", "2026-12-05 21:07 UTC"),
        ("UTC", "xx-unknown", "2026-12-05 21:07 UTC"),
        ("Not/AZone", "en", "Dec 5, 2026, 9:07 PM UTC"),
    ],
)
def test_a_moment_in_the_zone_and_format_of_the_language(
    zone: str, locale: str, shown: str
) -> None:
    assert format_moment(MOMENT, zone, locale) == shown


def test_naive_times_are_utc_dates_have_no_time_and_nothing_is_empty() -> None:
    assert format_moment(MOMENT.replace(tzinfo=None), "Europe/Berlin", "de") == (
        "05.12.2026, 22:07 CET"
    )
    assert format_moment(date(2026, 3, 4), "UTC", "en") == "Mar 4, 2026"
    assert format_moment(date(2026, 3, 4), "UTC", "de") == "04.03.2026"
    assert format_moment(None, "UTC", "en") == ""
    assert pattern_for("PT-br") == pattern_for("pt")


def test_a_persons_pages_show_times_in_their_zone_and_format(
    client: TestClient, session: Session
) -> None:
    brand = make_brand(session, name="Zeit Verlag")
    person = make_person(session, time_zone="Europe/Berlin")
    person.locale = "de"
    inbox.deliver(session, [Delivery(1, brand.id, person.id, None, None, "Hallo", "Text", None)])
    item = session.scalars(select(InboxItem).where(InboxItem.person_id == person.id)).one()
    item.created_at = MOMENT
    session.flush()
    sign_in_person(client, session, person.email)
    page = client.get(f"/inbox/{item.id}")
    assert page.status_code == 200
    assert "05.12.2026, 22:07 CET" in page.text
    assert "2026-12-05 21:07" not in page.text
