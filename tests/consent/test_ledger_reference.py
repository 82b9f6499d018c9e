"""Differential property test: `accord.consent.verification` (fast) and the obvious reference
verifier (tests/consent/reference_ledger.py) give the same verdict and the same first broken
link of every chain, for random chains with random tampers, over the whole ledger and per person.
"""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta
from functools import partial
from typing import Any

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from sqlalchemy import delete, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from accord.consent import ledger, verification
from accord.consent.ledger import Scope
from accord.consent.models import LedgerEvent, LedgerHead
from tests.consent import reference_ledger

BRANDS = [None, uuid.UUID(int=1), uuid.UUID(int=2)]
START = datetime(2026, 1, 1, tzinfo=UTC)

event = st.fixed_dictionaries(
    {
        "action": st.sampled_from(["grant", "withdraw", "confirm", "pause", "resume", "end"]),
        "brand": st.sampled_from(BRANDS),
        "purpose": st.sampled_from([None, "marketing", "profiling"]),
        "micros": st.integers(0, 10**12),
    }
)
chains = st.lists(st.lists(event, max_size=6), min_size=1, max_size=4)

# What a tamperer with write access to the tables can do to one event or one head row.
EVENT_TAMPERS = [
    "body_byte",  # one character of the body replaced
    "hash_byte",  # one character of the stored hash replaced
    "action",  # an index column changed, the body left alone
    "moment",
    "brand",
    "subject",  # the event moved to another (new) person
    "seq",  # renumbered past the end
    "swap",  # two events trade places
    "delete",
    "rehash",  # the body edited (and its action column), its hash recomputed
    "rehash_prev",  # the body's prev replaced, its hash recomputed
    "rechain",  # the body edited and the chain rebuilt from there to the head: undetectable
]
HEAD_TAMPERS = ["head_hash", "head_seq", "head_zero", "head_delete"]
tamper = st.tuples(
    st.sampled_from(EVENT_TAMPERS + HEAD_TAMPERS),
    st.integers(0, 3),  # which person
    st.integers(0, 5),  # which of their events
    st.integers(0, 10**6),  # a choice within the tamper (position, character, partner)
)


def build(session: Session, specs: list[list[dict[str, Any]]]) -> list[uuid.UUID]:
    people = []
    for spec in specs:
        person = uuid.uuid4()
        ledger.hold(session, person)  # a head row at seq 0, as before a first decision
        for n, e in enumerate(spec):
            ledger.append(
                session,
                subject=person,
                action=e["action"],
                source="portal",
                brand=e["brand"],
                scope=Scope(purpose=e["purpose"]),
                value={"n": n},
                at=START + timedelta(microseconds=e["micros"]),
            )
        people.append(person)
    return people


def chain_of(session: Session, person: uuid.UUID) -> list[Any]:
    query = select(LedgerEvent.__table__).where(LedgerEvent.subject_id == person)
    return list(session.execute(query.order_by(LedgerEvent.seq)))


class Unreadable(Exception):
    """An earlier tamper left the body no event's (not JSON, or a member renamed): a tamperer
    who re-hashes writes a well-formed body, and the two verifiers are held to agree on those.
    On a body of another shape the fast one is stricter (its layout checks see a renamed `v` or
    a member sorted before `action`), which the reference does not model."""


# The members every event body has, as `ledger.append` writes them.
MEMBERS = {"v", "subject", "seq", "prev", "at", "brand", "action", "scope", "source", "policy",
           "evidence", "value"}  # fmt: skip


def rewritten(row: Any, **changes: Any) -> tuple[str, str]:
    try:
        body = ledger.body_of(row) | changes
    except json.JSONDecodeError as exc:
        raise Unreadable from exc
    if set(body) != MEMBERS:
        raise Unreadable
    raw = ledger.canonical(body)
    return raw.decode(), ledger.digest(raw)


# One branch per kind of tamper in EVENT_TAMPERS and HEAD_TAMPERS: read side by side.
def apply_tamper(  # noqa: C901
    session: Session, people: list[uuid.UUID], how: tuple[str, int, int, int]
) -> None:
    kind, who, which, choice = how
    person = people[who % len(people)]
    execute = partial(session.execute, execution_options={"synchronize_session": False})
    head = LedgerHead.subject_id == person
    if kind == "head_delete":
        execute(delete(LedgerHead).where(head))
        return
    if kind in HEAD_TAMPERS:
        changes: dict[str, dict[str, Any]] = {
            "head_hash": {"hash": ledger.GENESIS},
            "head_seq": {"seq": LedgerHead.seq + 1},
            "head_zero": {"seq": 0},
        }
        execute(update(LedgerHead).where(head).values(changes[kind]))
        return
    chain = chain_of(session, person)
    if not chain:
        return
    victim = chain[which % len(chain)]
    this = LedgerEvent.id == victim.id
    if kind in ("body_byte", "hash_byte"):
        column = "body" if kind == "body_byte" else "hash"
        text: str = getattr(victim, column)
        at = choice % len(text)
        alphabet = '0123456789abcdefxyz{}":, '
        new = alphabet[choice % len(alphabet)]
        new = new if new != text[at] else "Z"
        execute(update(LedgerEvent).where(this).values({column: text[:at] + new + text[at + 1 :]}))
    elif kind == "action":
        execute(update(LedgerEvent).where(this).values(action="erase"))
    elif kind == "moment":
        later = victim.occurred_at + timedelta(microseconds=1 + choice)
        execute(update(LedgerEvent).where(this).values(occurred_at=later))
    elif kind == "brand":
        brand = BRANDS[1] if victim.brand_id is None else None
        execute(update(LedgerEvent).where(this).values(brand_id=brand))
    elif kind == "subject":
        execute(update(LedgerEvent).where(this).values(subject_id=uuid.uuid4()))
    elif kind == "seq":
        execute(update(LedgerEvent).where(this).values(seq=victim.seq + 100 + choice % 7))
    elif kind == "swap":
        partner = chain[choice % len(chain)]
        if partner.id == victim.id:
            return
        execute(update(LedgerEvent).where(this).values(seq=-1))
        execute(update(LedgerEvent).where(LedgerEvent.id == partner.id).values(seq=victim.seq))
        execute(update(LedgerEvent).where(this).values(seq=partner.seq))
    elif kind == "delete":
        execute(delete(LedgerEvent).where(this))
    elif kind == "rehash":
        body, digest = rewritten(victim, action="withdraw", value={"tampered": choice})
        execute(update(LedgerEvent).where(this).values(body=body, hash=digest, action="withdraw"))
    elif kind == "rehash_prev":
        body, digest = rewritten(victim, prev=f"{choice:064x}")
        execute(update(LedgerEvent).where(this).values(body=body, hash=digest))
    else:  # rechain: rewrite from the victim on, each linked to the last, and move the head
        # By place in the chain, not by seq: an earlier tamper may have renumbered events.
        at = which % len(chain)
        prev = ledger.GENESIS if at == 0 else chain[at - 1].hash
        for row in chain[at:]:
            body, digest = rewritten(row, prev=prev, value={"rewritten": choice})
            execute(
                update(LedgerEvent).where(LedgerEvent.id == row.id).values(body=body, hash=digest)
            )
            prev = digest
        execute(update(LedgerHead).where(head).values(hash=prev))


def links(breaks: list[verification.Break]) -> list[tuple[str, int]]:
    return [(b.subject, b.seq) for b in breaks]


@settings(
    max_examples=120,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(specs=chains, tampers=st.lists(tamper, max_size=3), who=st.integers(0, 3))
# Found by the search: a body's `v` renamed, then the chain rebuilt over it (its shape is then
# no event's), and a rebuild after a renumbering (the chain indexed by seq ran off its end).
@example(
    specs=[[{"action": "grant", "brand": None, "purpose": None, "micros": 5}]],
    tampers=[("body_byte", 0, 0, 3477), ("rechain", 0, 0, 0)],
    who=0,
)
@example(
    specs=[[{"action": "grant", "brand": None, "purpose": None, "micros": 5}] * 2],
    tampers=[("seq", 0, 0, 0), ("rechain", 0, 1, 0)],
    who=0,
)
def test_fast_and_reference_verifiers_agree(
    session: Session,
    specs: list[list[dict[str, Any]]],
    tampers: list[tuple[str, int, int, int]],
    who: int,
) -> None:
    savepoint = session.begin_nested()
    try:
        people = build(session, specs)
        assert (
            verification.verify(session)
            == reference_ledger.verify(session)
            == (
                sum(map(len, specs)),
                [],
            )
        )
        for how in tampers:
            try:
                with session.begin_nested():
                    apply_tamper(session, people, how)
            except (IntegrityError, Unreadable):
                pass  # a (subject, seq) taken, or a body to re-hash broken: nothing changed
        session.expire_all()
        fast_read, fast = verification.verify(session)
        slow_read, slow = reference_ledger.verify(session)
        assert (fast_read, links(fast)) == (slow_read, links(slow)), (tampers, fast, slow)
        person = people[who % len(people)]
        one = links(verification.verify(session, subject=person)[1])
        assert one == links(reference_ledger.verify(session, subject=person)[1])
    finally:
        savepoint.rollback()


def test_the_reference_verifier_finds_what_it_must(session: Session) -> None:
    """The reference is a test's yardstick; it is itself held to a few known tampers."""
    savepoint = session.begin_nested()
    try:
        [person] = build(
            session, [[{"action": "grant", "brand": None, "purpose": None, "micros": 0}] * 3]
        )
        assert reference_ledger.verify(session, subject=person) == (3, [])
        apply_tamper(session, [person], ("rehash_prev", 0, 1, 7))
        session.expire_all()
        assert reference_ledger.verify(session, subject=person)[1] == [
            verification.Break(str(person), 2, "previous-hash link is broken")
        ]
    finally:
        savepoint.rollback()
