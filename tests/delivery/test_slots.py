"""A group's send slots: as many as the second has left, and each hand-over counted in the
second it happens in, also when a chunk's hand-over crosses into the next second."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from accord.delivery.slots import Slots, in_session
from accord.outbox.models import BrandSendWindow
from tests.builders import make_brand

T = datetime(2026, 3, 1, 12, 0, 0, 200_000, tzinfo=UTC)


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    fake = Clock()
    monkeypatch.setattr("accord.delivery.slots.time.monotonic", fake)
    return fake


def counts(session: Session, brand_id: object) -> dict[int, int]:
    rows = session.execute(
        select(BrandSendWindow.window, BrandSendWindow.count).where(
            BrandSendWindow.brand_id == brand_id
        )
    )
    return {window - int(T.timestamp()): count for window, count in rows}


def test_slots_follow_the_second_of_each_hand_over(session: Session, clock: Clock) -> None:
    brand = make_brand(session)
    slots = Slots(session, in_session, brand.id, 5, T, 4)
    assert slots.use(4) and slots.use(3)
    clock.now += 1.0  # the hand-over crosses into the next second
    assert slots.use(2) and slots.use(1)
    slots.release()
    assert counts(session, brand.id) == {0: 2, 1: 2}


def test_as_many_slots_as_the_second_has_left_then_none(session: Session, clock: Clock) -> None:
    brand = make_brand(session)
    first = Slots(session, in_session, brand.id, 3, T, 10)
    second = Slots(session, in_session, brand.id, 3, T, 10)  # another worker, same second
    used = [first.use(10 - i) for i in range(10)] + [second.use(10 - i) for i in range(10)]
    first.release()
    second.release()
    assert used.count(True) == 3 and counts(session, brand.id) == {0: 3}
    clock.now += 1.0
    assert second.use(5)
    second.release()  # what the group did not use goes back
    assert counts(session, brand.id)[1] == 1
    assert T + timedelta(seconds=1) <= second.clock()
