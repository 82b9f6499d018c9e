"""Appending to and verifying the per-person hash chains.

An event body is a small JSON object; its hash is SHA-256 over the RFC 8785 canonical
encoding. Each body holds `prev` (the hash of the person's previous event) and `seq`, so the
chain is in the hashed bytes themselves; the unique (subject_id, seq) forbids forks.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import lru_cache
from operator import attrgetter
from typing import Any

import rfc8785
from sqlalchemy import (
    Integer,
    String,
    Uuid,
    bindparam,
    insert,
    select,
    true,
    update,
)
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from accord.consent.models import LedgerEvent, LedgerHead
from accord.core import pg_bulk, sqlite_bulk
from accord.core.db import among_many, transaction_info, utcnow, write_locked
from accord.core.direct import Direct

GENESIS = "0" * 64
VERSION = 1


@dataclass(frozen=True)
class Scope:
    purpose: str | None = None
    channel: str | None = None
    topic: uuid.UUID | None = None

    def as_json(self) -> dict[str, str | None]:
        return {
            "purpose": self.purpose,
            "channel": self.channel,
            "topic": str(self.topic) if self.topic else None,
        }


@lru_cache(maxsize=4096)
def timestamp(moment: datetime) -> str:
    # Cached (the same instant gives the same text, whatever its zone): strftime takes
    # microseconds, and a bulk import stamps every event with one time and its evidence
    # with the few times a file holds.
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def stamp(moment: datetime) -> str:
    """`timestamp` for a moment met once (a decision's own time, which a cache would only
    miss): `isoformat` is C and several times cheaper than `strftime`; the same text."""
    utc = moment.astimezone(UTC)
    if utc.year < 1000:  # strftime does not pad the year to four digits
        return timestamp(moment)
    return utc.isoformat(timespec="microseconds")[:-6] + "Z"  # "+00:00" -> "Z"


def canonical(body: Mapping[str, Any]) -> bytes:
    return rfc8785.dumps(body)


_encode = json.JSONEncoder(
    sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
).encode


def canonical_event(body: Mapping[str, Any]) -> bytes:
    """`canonical` for an event body built here, at C speed: for JSON of strings, integers
    below 2**53, null, lists and objects with ASCII keys, Python's sorted compact encoding
    with unescaped non-ASCII is byte for byte RFC 8785 (same escapes, same key order); only
    floats and non-BMP keys differ, and event bodies have neither. bench/consent_import.py
    shows why; tests/consent/test_canonical.py holds it to `canonical`."""
    return _encode(body).encode()


_SAFE_INT = 2**53


def _plain(value: Any) -> bool:
    """Does `canonical_event` encode `value` as RFC 8785 does (see there): null, booleans,
    integers below 2**53, strings without lone surrogates, lists, objects with ASCII keys?"""
    if value is None or isinstance(value, bool):
        return True
    if isinstance(value, str):
        return value.isascii() or not any("\ud800" <= c <= "\udfff" for c in value)
    if isinstance(value, int):
        return -_SAFE_INT < value < _SAFE_INT
    if isinstance(value, list):
        return all(_plain(v) for v in value)
    if isinstance(value, dict):
        return all(isinstance(k, str) and k.isascii() and _plain(v) for k, v in value.items())
    return False


def digest(canonical_bytes: bytes) -> str:
    return hashlib.sha256(canonical_bytes).hexdigest()


_HEADS = "ledger_heads"  # transaction_info: subject -> (seq, hash) of the heads held


# Built once: the hot path of every decision runs these on the session's DBAPI cursor
# (`accord.core.direct`: compiled once per dialect), on the tables, so no ORM bookkeeping runs
# for rows the session never holds as objects.
_heads: Any = LedgerHead.__table__
_events: Any = LedgerEvent.__table__
_SUBJECT = _heads.c.subject_id == bindparam("subject", type_=Uuid())
_LOCK_HEAD = Direct(
    {
        "postgresql": select(_heads.c.seq, _heads.c.hash).where(_SUBJECT).with_for_update(),
        # A write that changes nothing takes SQLite's write lock, and reads the head.
        "sqlite": update(_heads)
        .where(_SUBJECT)
        .values(seq=_heads.c.seq)
        .returning(_heads.c.seq, _heads.c.hash),
    }
)
_NEW_HEAD = Direct(
    {
        "postgresql": pg_insert(_heads).on_conflict_do_nothing(),
        "sqlite": sqlite_insert(_heads).on_conflict_do_nothing(),
    },
    keys=["subject_id", "seq", "hash"],
)
_EVENT_COLUMNS = ["subject_id", "seq", "hash", "brand_id", "action", "occurred_at", "body"]
_MOVED = _SUBJECT & (_heads.c.seq == bindparam("last", type_=Integer()))
_NEW = {"seq": bindparam("seq", type_=Integer()), "hash": bindparam("hash", type_=String())}
_MOVE_HEAD = Direct(update(_heads).where(_MOVED).values(_NEW))
_INSERT_EVENT = Direct(insert(_events).inline(), keys=_EVENT_COLUMNS)


def _move_and_insert(along: Any = None) -> Any:
    """PostgreSQL: the head moves and the event goes in by one statement, the event only when
    the head moved (it had not moved under our lock): one round trip instead of two. `along`:
    the caller's write of the state the decision changes, carried in the same WITH clause."""
    moved = update(_heads).where(_MOVED).values(_NEW).returning(_heads.c.subject_id).cte("moved")
    event = select(
        moved.c.subject_id,
        bindparam("seq", type_=Integer()),
        bindparam("hash", type_=String()),
        bindparam("brand_id", type_=Uuid()),
        bindparam("action", type_=String()),
        bindparam("occurred_at", type_=_events.c.occurred_at.type),
        bindparam("body", type_=String()),
    )
    statement = insert(_events).from_select(_EVENT_COLUMNS, event)
    return statement if along is None else statement.add_cte(along.cte("along"))


_APPEND = Direct({"postgresql": _move_and_insert()})


class Along:
    """A write of the state a decision changes (an INSERT or DELETE, its parameters named apart
    from the event's), built once, that `append` runs with the event: on PostgreSQL inside the
    append's own statement (a data-modifying CTE: one round trip for the state and the event,
    in the same transaction as before, and still undone with it when the head had moved),
    elsewhere as its own statement just before the event's."""

    def __init__(self, write: Any) -> None:
        self.alone = Direct(write)
        self.with_event = Direct({"postgresql": _move_and_insert(write)})


class HeldRead:
    """A read of the caller's (one row, or none) that must see the state as it stands under the
    subject's lock (`hold_reading`), built once per dialect ({"postgresql": …, "sqlite": …}).

    PostgreSQL: run by the statement that takes the lock, one statement where there were two:
    the head locked FOR UPDATE in a CTE, the read beside it. A statement reads from the
    snapshot it began with, so a decision that committed while the lock waited (or after that
    snapshot) is not in what it read: the statement also reads the head as that snapshot saw
    it, and when that is not the head it locked, the read runs again on its own, now under the
    lock. This holds because every change to a person's decisions moves their head in the
    transaction that makes it (`append`, `append_many`): a transaction that took the lock and
    left the head where it was changed nothing such a read sees.

    SQLite: a transaction that began holding the database's write lock (BEGIN IMMEDIATE:
    `accord.core.db.write_locked`) has no lock to take, and nobody writes beside it: the head is
    read by the read's own statement, the same one as PostgreSQL's without FOR UPDATE. Any other
    transaction takes the lock by the lock's own statement first and reads after it. (Carried in
    the lock's RETURNING it would need a WITH before the UPDATE, and Python's sqlite3 opens a
    transaction only before a statement that starts with INSERT, UPDATE, DELETE or REPLACE: the
    lock would end with that statement.)
    """

    def __init__(self, read: Mapping[str, Any]) -> None:
        self.alone = Direct(read)
        self.with_lock = Direct(
            {
                "postgresql": _beside(read["postgresql"], lock=True),
                "sqlite": _beside(read["sqlite"], lock=False),
            }
        )


def _beside(read: Any, *, lock: bool) -> Any:
    """The head (locked FOR UPDATE when `lock`), the head as the statement's snapshot saw it,
    and `read`'s row beside them (its columns, then whether there was one)."""
    head = select(_heads.c.seq, _heads.c.hash).where(_SUBJECT)
    locked = (head.with_for_update() if lock else head).cte("locked")
    seen = select(_heads.c.seq).where(_SUBJECT).scalar_subquery().label("seen")
    held = read.add_columns(true().label("found")).subquery("held")
    return select(locked.c.seq, locked.c.hash, seen, *held.c).select_from(
        locked.outerjoin(held, true())
    )


def hold_reading(session: Session, subject: uuid.UUID, read: HeldRead, **values: Any) -> Any:
    """`hold(session, subject)`, then `read`'s row as it stands under the lock (None: none)."""
    dialect = session.get_bind().dialect
    held: dict[uuid.UUID, tuple[int, str]] = transaction_info(session).setdefault(_HEADS, {})
    if subject not in held and (dialect.name == "postgresql" or write_locked(session)):
        found = read.with_lock.first(session, subject=subject, **values)
        if found is not None:  # else the person's first decision: `hold` starts their chain
            held[subject] = (found[0], found[1])
            if found[2] == found[0]:  # what the read saw is what the lock holds
                return read.alone.compiled(dialect).row._make(found[3:-1]) if found[-1] else None
    hold(session, subject)
    return read.alone.first(session, **values)


def _lock_head(session: Session, subject: uuid.UUID) -> tuple[int, str] | None:
    row = _LOCK_HEAD.first(session, subject=subject)
    return None if row is None else (row[0], row[1])


def hold(session: Session, subject: uuid.UUID) -> tuple[int, str]:
    """Serialise everything that decides for this person: take their head row's lock first.
    Returns the head (seq, hash) as it stands under the lock.

    PostgreSQL: a row lock; SQLite: its single write lock, taken by a write that changes
    nothing. Decisions take it before reading state, the delivery worker before re-checking
    the gate, so a withdrawal and a send, or two clicks at once, run one after the other.
    The lock lasts until the transaction ends, so a second hold in it (the next decision, the
    append) reads the head it keeps and costs no statement; a rollback forgets it.
    """
    held: dict[uuid.UUID, tuple[int, str]] = transaction_info(session).setdefault(_HEADS, {})
    found = held.get(subject)
    if found is None:
        found = _lock_head(session, subject)
        if found is None:  # the person's first decision: their chain starts
            _NEW_HEAD.run(session, subject_id=subject, seq=0, hash=GENESIS)
            found = _lock_head(session, subject)
            assert found is not None
        held[subject] = found
    return found


@dataclass(frozen=True)
class Appended:
    """The event `append` wrote (what a caller needs of it; read the rest with `events_for`)."""

    subject_id: uuid.UUID
    seq: int
    hash: str
    occurred_at: datetime


def append(
    session: Session,
    *,
    subject: uuid.UUID,
    action: str,
    source: str,
    brand: uuid.UUID | None = None,
    scope: Scope | None = None,
    policy: str | None = None,
    evidence: Mapping[str, str] | None = None,
    value: Mapping[str, Any] | None = None,
    at: datetime | None = None,
    along: tuple[Along, Mapping[str, Any]] | None = None,
) -> Appended:
    """Append one event to the subject's chain in the caller's transaction; `along`: the
    caller's write of the state the decision changes and its parameters (see `Along`).

    The head is held (locked and read, `hold`) before anything else: on PostgreSQL that row
    lock makes a concurrent writer wait and then chain after us (n, n+1), on SQLite it takes
    the write lock up front. The head then moves by one UPDATE that also checks it has not
    moved under us: a head that did is a bug, and the unique (subject, seq) refuses the fork.
    The event is inserted as a row, never held by the session as an object: a savepoint that
    rolls back leaves nothing behind (SQLite hands a rolled-back event's id out again, and a
    session that kept the object would give it back for the next event of that id).
    """
    last, prev = hold(session, subject)
    seq = last + 1
    moment = at or utcnow()
    body = {
        "v": VERSION,
        "subject": str(subject),
        "seq": seq,
        "prev": prev,
        "at": stamp(moment),
        "brand": str(brand) if brand else None,
        "action": action,
        "scope": (scope or Scope()).as_json(),
        "source": source,
        "policy": policy,
        "evidence": dict(evidence or {}),
        "value": dict(value or {}),
    }
    # The encoding at C speed when the caller's parts allow it (they nearly always do).
    parts = (body["scope"], policy, body["evidence"], body["value"])
    raw = canonical_event(body) if all(map(_plain, parts)) else canonical(body)
    event_hash = digest(raw)
    event = {"seq": seq, "hash": event_hash, "brand_id": brand, "action": action,
             "occurred_at": moment, "body": raw.decode()}  # fmt: skip
    if session.get_bind().dialect.name == "postgresql":
        if along is None:
            moved = _APPEND.run(session, subject=subject, last=last, **event)
        else:
            write, values = along
            moved = write.with_event.run(session, subject=subject, last=last, **event, **values)
    else:
        if along is not None:
            along[0].alone.run(session, **along[1])
        moved = _MOVE_HEAD.run(session, subject=subject, last=last, seq=seq, hash=event_hash)
        if moved == 1:
            _INSERT_EVENT.run(session, subject_id=subject, **event)
    if moved != 1:
        raise RuntimeError(f"ledger head of {subject} moved under its lock")
    transaction_info(session)[_HEADS][subject] = (seq, event_hash)
    return Appended(subject, seq, event_hash, moment)


def body_of(event: LedgerEvent) -> dict[str, Any]:
    parsed: dict[str, Any] = json.loads(event.body)
    return parsed


def events_for(session: Session, subject: uuid.UUID) -> list[LedgerEvent]:
    return list(
        session.scalars(
            select(LedgerEvent).where(LedgerEvent.subject_id == subject).order_by(LedgerEvent.seq)
        )
    )


# A person's history page shows every event: read as these columns on the cursor
# (`core.direct`), since the events' ORM objects cost a third of the page.
_NEWEST_FIRST = Direct(
    select(LedgerEvent.seq, LedgerEvent.hash, LedgerEvent.body, LedgerEvent.occurred_at)
    .where(LedgerEvent.subject_id == bindparam("subject", type_=Uuid()))
    .order_by(LedgerEvent.seq.desc())
)


def events_newest_first(session: Session, subject: uuid.UUID) -> list[Any]:
    """The subject's events' `seq`, `hash`, `body` (its JSON text) and `occurred_at`, newest
    first: `events_for`'s columns, without the ORM objects."""
    return _NEWEST_FIRST.all(session, subject=subject)


@dataclass(frozen=True)
class Entry:
    """One event of a bulk append (`append_many`)."""

    subject: uuid.UUID
    action: str
    source: str
    at: datetime
    brand: uuid.UUID | None = None
    scope: Scope | None = None
    policy: str | None = None
    evidence: Mapping[str, str] | None = None
    value: Mapping[str, Any] | None = None


Heads = dict[uuid.UUID, tuple[int, str]]


def hold_many(session: Session, subjects: list[uuid.UUID]) -> Heads:
    """`hold` for many subjects at once: their heads locked (PostgreSQL: FOR UPDATE, in subject
    order; SQLite: the write lock) and read. Subjects that have no head yet are left out;
    `append_many` creates theirs."""
    if not subjects:
        return {}
    query = (
        select(LedgerHead.subject_id, LedgerHead.seq, LedgerHead.hash)
        .where(among_many(session, LedgerHead.subject_id, "subjects", subjects))
        .order_by(LedgerHead.subject_id)
    )
    if session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update()
    else:  # a write that changes nothing takes SQLite's write lock before the read
        first = LedgerHead.subject_id == subjects[0]
        session.execute(update(LedgerHead).where(first).values(seq=LedgerHead.seq))
    return {s: (seq, h) for s, seq, h in session.execute(query)}


def append_many(
    session: Session, entries: list[Entry], heads: Heads | None = None
) -> list[tuple[int, str]]:
    """Append many events in the caller's transaction with a fixed number of statements: the
    heads locked and read at once (or given: what `hold_many` returned in this transaction),
    every event inserted by one statement, the new heads by one more and the moved heads by a
    third (PostgreSQL: COPY, COPY and one UPDATE; SQLite: executemany). Events of one subject
    chain in the order given. Returns each entry's (seq, hash)."""
    if not entries:
        return []
    if heads is None:
        heads = hold_many(session, sorted({e.subject for e in entries}, key=attrgetter("int")))
    heads = dict(heads)
    known = set(heads)
    events: list[dict[str, Any]] = []
    out: list[tuple[int, str]] = []
    for e in entries:
        seq, prev = heads.get(e.subject, (0, GENESIS))
        seq += 1
        body = {
            "v": VERSION,
            "subject": str(e.subject),
            "seq": seq,
            "prev": prev,
            "at": timestamp(e.at),
            "brand": str(e.brand) if e.brand else None,
            "action": e.action,
            "scope": (e.scope or Scope()).as_json(),
            "source": e.source,
            "policy": e.policy,
            "evidence": dict(e.evidence or {}),
            "value": dict(e.value or {}),
        }
        raw = canonical_event(body)
        event_hash = digest(raw)
        heads[e.subject] = (seq, event_hash)
        out.append((seq, event_hash))
        events.append(
            {
                "subject_id": e.subject,
                "seq": seq,
                "hash": event_hash,
                "brand_id": e.brand,
                "action": e.action,
                "occurred_at": e.at,
                "body": raw.decode(),
            }
        )
    last = {e["subject_id"]: e for e in events}  # the last event of each subject
    held = transaction_info(session).get(_HEADS, {})
    for subject in last:  # their heads move below: `hold` must read them again
        held.pop(subject, None)
    table: Any = LedgerHead.__table__
    new = [{"subject_id": s, "seq": e["seq"], "hash": e["hash"]}
           for s, e in last.items() if s not in known]  # fmt: skip
    if session.get_bind().dialect.name == "postgresql":
        # One statement per table (executemany is one per row there). The events and the new
        # heads are new: (subject, seq) is free under the heads' locks, as a plain INSERT
        # assumed; a head another writer created meanwhile is a conflict, as it was.
        pg_bulk.copy(session, LedgerEvent.__table__, events)  # type: ignore[arg-type]
        pg_bulk.copy(session, table, new)
        moved_heads = [{"subject_id": s, "seq": e["seq"], "hash": e["hash"]}
                       for s, e in last.items() if s in known]  # fmt: skip
        pg_bulk.update(session, table, ["subject_id"], moved_heads)
        return out
    sqlite_bulk.insert(session, LedgerEvent.__table__, events)  # type: ignore[arg-type]
    sqlite_bulk.insert(session, table, new)
    moved = [{"s": s, "q": e["seq"], "h": e["hash"]} for s, e in last.items() if s in known]
    if moved:
        session.execute(
            update(table)
            .where(table.c.subject_id == bindparam("s"))
            .values(seq=bindparam("q"), hash=bindparam("h")),
            moved,
        )
    return out
