"""Property tests: any sequence of decisions replays to the stored state; any tamper is caught."""

from __future__ import annotations

from datetime import timedelta
from functools import partial
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from accord.consent import ledger, verification
from accord.consent.models import LedgerEvent, LedgerHead
from accord.core.db import utcnow
from accord.core.errors import AccordError
from accord.relationships import decisions, global_prefs, replay
from accord.relationships.decisions import PORTAL
from accord.relationships.vocabulary import GRANTABLE, Channel, Purpose, State
from tests.builders import make_brand, make_person, make_topic

BRANDS = 2
ops = st.one_of(
    st.tuples(st.just("follow"), st.integers(0, BRANDS - 1)),
    st.tuples(
        st.just("purpose"), st.integers(0, BRANDS - 1), st.sampled_from(GRANTABLE), st.booleans()
    ),
    st.tuples(
        st.just("channel"),
        st.integers(0, BRANDS - 1),
        st.sampled_from([Purpose.marketing, Purpose.transactional]),
        st.sampled_from([Channel.email, Channel.sms, Channel.push]),
        st.booleans(),
    ),
    st.tuples(st.just("topic"), st.integers(0, BRANDS - 1), st.integers(0, 1), st.booleans()),
    st.tuples(st.just("cap"), st.integers(0, BRANDS - 1), st.integers(0, 10)),
    st.tuples(
        st.just("pause"), st.integers(0, BRANDS - 1), st.one_of(st.none(), st.integers(1, 30))
    ),
    st.tuples(st.just("resume"), st.integers(0, BRANDS - 1)),
    st.tuples(st.just("end"), st.integers(0, BRANDS - 1)),
    st.tuples(
        st.just("quiet"), st.one_of(st.none(), st.tuples(st.integers(0, 23), st.integers(0, 23)))
    ),
    st.tuples(st.just("global_cap"), st.integers(0, 20)),
    st.tuples(st.just("dnc"), st.booleans()),
    st.tuples(st.just("pause_all"), st.one_of(st.none(), st.integers(1, 30))),
)


# One branch per kind of operation the strategy draws, in its order: read side by side.
def apply(  # noqa: C901
    session: Session,
    person_id: Any,
    brands: list[Any],
    topics: list[list[Any]],
    op: tuple[Any, ...],
) -> None:
    kind = op[0]
    if kind == "quiet":
        hours = op[1]
        start, end = (None, None) if hours is None else (f"{hours[0]:02d}:00", f"{hours[1]:02d}:30")
        global_prefs.set_quiet_hours(session, person_id, start, end, PORTAL)
        return
    if kind == "global_cap":
        global_prefs.set_global_cap(session, person_id, op[1], PORTAL)
        return
    if kind == "dnc":
        global_prefs.set_do_not_contact(session, person_id, op[1], PORTAL)
        return
    if kind == "pause_all":
        if op[1] is None:
            global_prefs.resume_all(session, person_id, PORTAL)
        else:
            global_prefs.pause_all(session, person_id, utcnow() + timedelta(days=op[1]), PORTAL)
        return
    brand = brands[op[1]]
    if kind == "follow":
        decisions.start(session, person_id, brand.id, PORTAL)
        return
    rel = decisions.find(session, person_id, brand.id)
    if rel is None:
        return
    if kind == "purpose":
        decisions.set_purpose(session, rel, op[2], op[3], PORTAL)
    elif kind == "channel":
        decisions.set_channel(session, rel, op[2], op[3], op[4], PORTAL)
    elif kind == "topic":
        decisions.set_topic(session, rel, topics[op[1]][op[2]].id, op[3], PORTAL)
    elif kind == "cap":
        decisions.set_brand_cap(session, rel, op[2], PORTAL)
    elif kind == "pause":
        until = None if op[2] is None else utcnow() + timedelta(days=op[2])
        decisions.pause(session, rel, until, PORTAL)
    elif kind == "resume":
        decisions.resume(session, rel, PORTAL)
    elif kind == "end":
        decisions.end(session, rel, PORTAL)


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(steps=st.lists(ops, min_size=1, max_size=25))
def test_replaying_the_ledger_gives_the_stored_state(
    session: Session, steps: list[tuple[Any, ...]]
) -> None:
    savepoint = session.begin_nested()
    try:
        person = make_person(session)
        brands = [make_brand(session) for _ in range(BRANDS)]
        topics = [[make_topic(session, brand=b) for _ in range(2)] for b in brands]
        for step in steps:
            try:
                with session.begin_nested():
                    apply(session, person.id, brands, topics, step)
            except AccordError:
                pass  # e.g. changing an ended relationship: refused, and nothing written
        assert replay.replay(session, person.id) == replay.stored(session, person.id)
        _checked, breaks = verification.verify(session, subject=person.id)
        assert breaks == []
        seqs = [e.seq for e in ledger.events_for(session, person.id)]
        assert seqs == list(range(1, len(seqs) + 1))
    finally:
        savepoint.rollback()


def _chain(session: Session) -> Any:
    person = make_person(session)
    brand = make_brand(session)
    topic = make_topic(session, brand=brand)
    rel = decisions.start(session, person.id, brand.id, PORTAL)
    decisions.set_purpose(session, rel, Purpose.marketing, True, PORTAL)
    decisions.set_topic(session, rel, topic.id, True, PORTAL)
    decisions.set_channel(session, rel, Purpose.marketing, Channel.email, True, PORTAL)
    decisions.pause(session, rel, None, PORTAL)
    assert rel.state == State.paused
    return person


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(data=st.data())
def test_any_single_byte_tamper_is_caught(session: Session, data: st.DataObject) -> None:
    savepoint = session.begin_nested()
    try:
        person = _chain(session)
        events = ledger.events_for(session, person.id)
        victim = data.draw(st.sampled_from(events))
        column = data.draw(st.sampled_from(["body", "hash"]))
        text: str = getattr(victim, column)
        position = data.draw(st.integers(0, len(text) - 1))
        replacement = data.draw(st.sampled_from('0123456789abcdefxyz{}":, '))
        if text[position] == replacement:
            replacement = "Z" if replacement != "Z" else "Y"
        tampered = text[:position] + replacement + text[position + 1 :]
        session.execute(
            update(LedgerEvent).where(LedgerEvent.id == victim.id).values({column: tampered})
        )
        session.expire_all()
        _, breaks = verification.verify(session, subject=person.id)
        assert len(breaks) == 1
        assert breaks[0].seq <= victim.seq + 1
    finally:
        savepoint.rollback()


def test_other_tampers_are_caught(session: Session) -> None:
    person = _chain(session)
    events = ledger.events_for(session, person.id)
    # A deleted last event: the head no longer matches.
    with session.begin_nested() as sp:
        session.delete(events[-1])
        session.flush()
        assert [b.reason for b in verification.verify(session, subject=person.id)[1]] == [
            "chain head does not match"
        ]
        sp.rollback()
    # An index column changed without touching the body.
    with session.begin_nested() as sp:
        session.execute(
            update(LedgerEvent).where(LedgerEvent.id == events[1].id).values(action="withdraw")
        )
        assert verification.verify(session, subject=person.id)[1][0].seq == events[1].seq
        sp.rollback()
    # A re-hashed event: its own hash fits, but the next link breaks.
    with session.begin_nested() as sp:
        body = ledger.body_of(events[1]) | {"action": "withdraw"}
        raw = ledger.canonical(body)
        session.execute(
            update(LedgerEvent)
            .where(LedgerEvent.id == events[1].id)
            .values(body=raw.decode(), hash=ledger.digest(raw), action="withdraw")
        )
        [broken] = verification.verify(session, subject=person.id)[1]
        assert broken.seq == events[2].seq and "link" in broken.reason
        sp.rollback()
    head = session.scalars(select(LedgerHead).where(LedgerHead.subject_id == person.id)).one()
    assert head.seq == len(events) and head.hash == events[-1].hash


TAMPERS = ("action", "moment", "brand", "seq", "delete", "head_hash", "head_seq", "drop_head")


def _tamper(session: Session, victim: LedgerEvent, kind: str) -> None:
    """Change the stored rows behind the session's back, as a tamperer would: the session is
    not told, so the savepoint's rollback leaves nothing stale in its identity map."""
    execute = partial(session.execute, execution_options={"synchronize_session": False})
    event = LedgerEvent.id == victim.id
    head = LedgerHead.subject_id == victim.subject_id
    if kind == "action":
        execute(update(LedgerEvent).where(event).values(action="erase"))
    elif kind == "moment":
        later = victim.occurred_at + timedelta(microseconds=1)
        execute(update(LedgerEvent).where(event).values(occurred_at=later))
    elif kind == "brand":
        execute(update(LedgerEvent).where(event).values(brand_id=None))
    elif kind == "seq":
        execute(update(LedgerEvent).where(event).values(seq=victim.seq + 100))
    elif kind == "delete":
        execute(delete(LedgerEvent).where(event))
    elif kind == "head_hash":
        execute(update(LedgerHead).where(head).values(hash=ledger.GENESIS))
    elif kind == "head_seq":
        execute(update(LedgerHead).where(head).values(seq=LedgerHead.seq + 1))
    else:
        execute(delete(LedgerHead).where(head))


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(data=st.data())
def test_a_tamper_breaks_exactly_its_own_chain(session: Session, data: st.DataObject) -> None:
    """Whole-ledger verify over several people: one tamper of any kind (an index column, a
    seq, a deleted event, a head row) is one break, of the victim's chain and no other."""
    savepoint = session.begin_nested()
    try:
        people = [_chain(session) for _ in range(3)]
        total, breaks = verification.verify(session)
        assert breaks == [] and total == sum(len(ledger.events_for(session, p.id)) for p in people)
        victim_person = data.draw(st.sampled_from(people))
        victim = data.draw(st.sampled_from(ledger.events_for(session, victim_person.id)))
        kind = data.draw(st.sampled_from(TAMPERS))
        if kind == "brand" and victim.brand_id is None:
            kind = "action"
        _tamper(session, victim, kind)
        session.expire_all()
        _, breaks = verification.verify(session)
        assert [b.subject for b in breaks] == [str(victim_person.id)], (kind, breaks)
        for other in people:
            if other is not victim_person:
                assert verification.verify(session, subject=other.id)[1] == []
    finally:
        savepoint.rollback()


def test_a_chain_deleted_whole_is_reported(session: Session) -> None:
    person = _chain(session)
    session.execute(delete(LedgerEvent).where(LedgerEvent.subject_id == person.id))
    assert verification.verify(session, subject=person.id)[1] == [
        verification.Break(str(person.id), 1, "events are missing")
    ]
