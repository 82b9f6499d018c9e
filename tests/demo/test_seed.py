"""The demo seed is idempotent and its printed sign-in hints work."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from accord.brands.models import Brand, Member
from accord.demo import data
from accord.demo.seed import seed
from accord.people.models import ContactPoint, Person
from tests.helpers import sign_in_member, sign_in_person


def counts(session: Session) -> tuple[int, ...]:
    return tuple(
        session.scalar(select(func.count()).select_from(model)) or 0
        for model in (Brand, Member, Person, ContactPoint)
    )


def test_seeding_twice_changes_nothing(session: Session) -> None:
    first = seed(session)
    assert (first.brands_created, first.members_created, first.people_created) == (3, 9, 36)
    after_first = counts(session)
    second = seed(session)
    assert (second.brands_created, second.members_created, second.people_created) == (0, 0, 0)
    assert counts(session) == after_first
    zones = set(session.scalars(select(Person.time_zone)))
    assert len(zones) >= 8
    roles = set(session.scalars(select(Member.role)))
    assert {"owner", "marketer"} <= roles


def test_the_printed_hints_sign_in(client: TestClient, session: Session) -> None:
    seed(session)
    sign_in_person(client, session, "ada@people.example")
    assert client.get("/api/v1/me").json()["display_name"] == "Ada"
    other = TestClient(client.app)
    sign_in_member(other, "owner@groove.example", data.DEMO_PASSWORD)
    assert "Groove Records" in other.get("/console", headers={"accept": "text/html"}).text
