"""Appending: the event returned is the one just written, even after a rolled-back savepoint."""

from __future__ import annotations

from sqlalchemy.orm import Session

from accord.consent import ledger
from tests.builders import make_person


def test_an_append_after_a_rolled_back_one_returns_its_own_event(session: Session) -> None:
    # SQLite hands the rolled-back event's id out again; the session must not give back the
    # rolled-back event (another person's) for it.
    first, second = make_person(session), make_person(session)
    savepoint = session.begin_nested()
    gone = ledger.append(session, subject=first.id, action="grant", source="portal")
    savepoint.rollback()
    event = ledger.append(session, subject=second.id, action="grant", source="portal")
    assert event != gone
    assert event.subject_id == second.id and event.seq == 1
    stored = [(e.subject_id, e.seq, e.hash) for e in ledger.events_for(session, second.id)]
    assert stored == [(event.subject_id, event.seq, event.hash)]
    assert ledger.events_for(session, first.id) == []
