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
from typing import Any

import rfc8785
from sqlalchemy import insert, select, text, update
from sqlalchemy.orm import Session

from accord.consent.models import LedgerEvent, LedgerHead
from accord.core.db import insert_or_ignore, utcnow

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


def timestamp(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def canonical(body: Mapping[str, Any]) -> bytes:
    return rfc8785.dumps(body)


def digest(canonical_bytes: bytes) -> str:
    return hashlib.sha256(canonical_bytes).hexdigest()


def hold(session: Session, subject: uuid.UUID) -> None:
    """Serialise everything that decides for this person: take their head row's lock first.

    PostgreSQL: a row lock; SQLite: its single write lock, taken by a write that changes
    nothing. Decisions take it before reading state, the delivery worker before re-checking
    the gate, so a withdrawal and a send, or two clicks at once, run one after the other.
    """
    insert_or_ignore(session, LedgerHead, {"subject_id": subject, "seq": 0, "hash": GENESIS})
    head = LedgerHead.subject_id == subject
    if session.get_bind().dialect.name == "postgresql":
        session.execute(select(LedgerHead.subject_id).where(head).with_for_update()).all()
    else:
        session.execute(update(LedgerHead).where(head).values(seq=LedgerHead.seq))


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
) -> LedgerEvent:
    """Append one event to the subject's chain in the caller's transaction.

    The head row is bumped with one UPDATE … RETURNING before anything else: on PostgreSQL that
    row lock makes a concurrent writer wait and then chain after us (n, n+1), on SQLite it takes
    the write lock up front.
    """
    insert_or_ignore(session, LedgerHead, {"subject_id": subject, "seq": 0, "hash": GENESIS})
    seq, prev = session.execute(
        update(LedgerHead)
        .where(LedgerHead.subject_id == subject)
        .values(seq=LedgerHead.seq + 1)
        .returning(LedgerHead.seq, LedgerHead.hash)
    ).one()
    moment = at or utcnow()
    body = {
        "v": VERSION,
        "subject": str(subject),
        "seq": seq,
        "prev": prev,
        "at": timestamp(moment),
        "brand": str(brand) if brand else None,
        "action": action,
        "scope": (scope or Scope()).as_json(),
        "source": source,
        "policy": policy,
        "evidence": dict(evidence or {}),
        "value": dict(value or {}),
    }
    raw = canonical(body)
    event_hash = digest(raw)
    session.execute(
        update(LedgerHead).where(LedgerHead.subject_id == subject).values(hash=event_hash)
    )
    row = {
        "subject_id": subject,
        "seq": seq,
        "hash": event_hash,
        "brand_id": brand,
        "action": action,
        "occurred_at": moment,
        "body": raw.decode(),
    }
    event_id = session.execute(
        insert(LedgerEvent).values(row).returning(LedgerEvent.id)
    ).scalar_one()
    session.flush()
    return session.get_one(LedgerEvent, event_id)


def body_of(event: LedgerEvent) -> dict[str, Any]:
    parsed: dict[str, Any] = json.loads(event.body)
    return parsed


def events_for(session: Session, subject: uuid.UUID) -> list[LedgerEvent]:
    return list(
        session.scalars(
            select(LedgerEvent).where(LedgerEvent.subject_id == subject).order_by(LedgerEvent.seq)
        )
    )


@dataclass(frozen=True)
class Break:
    subject: str
    seq: int
    reason: str


# The index columns (action, time, brand) open every canonical body in this order, so the
# database compares them with the body's first bytes itself: one boolean per row instead of
# three typed columns to decode and compare in Python.
_PREFIX_SQL = {
    "sqlite": """'{"action":"' || action || '","at":"' || replace(occurred_at, ' ', 'T')
        || 'Z","brand":' || CASE WHEN brand_id IS NULL THEN 'null' ELSE '"'
        || substr(brand_id, 1, 8) || '-' || substr(brand_id, 9, 4) || '-'
        || substr(brand_id, 13, 4) || '-' || substr(brand_id, 17, 4) || '-'
        || substr(brand_id, 21, 12) || '"' END || ',"evidence":'""",
    "postgresql": """'{"action":"' || action || '","at":"'
        || to_char(occurred_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')
        || '","brand":' || coalesce('"' || brand_id::text || '"', 'null')
        || ',"evidence":'""",
}


def _verify_query(dialect: str, one: bool) -> Any:
    prefix = _PREFIX_SQL[dialect]
    subject = "subject_id" if dialect == "sqlite" else "subject_id::text"
    where = "WHERE subject_id = :subject" if one else ""
    # "Starts with", without building the prefix twice as substr(…, length(prefix)) would.
    starts = f"instr(body, {prefix}) = 1" if dialect == "sqlite" else f"starts_with(body, {prefix})"
    return text(
        f"SELECT {subject}, seq, hash, body, {starts} "
        f"FROM ledger_events {where} ORDER BY subject_id, seq"
    )


def _subject_text(raw: str) -> str:
    return str(uuid.UUID(raw))


def _link_problem(body: str, expected_seq: int, expected_prev: str, subject: str) -> str | None:
    """Check the chain fields of an (intact, hash-checked) canonical body with string search.

    Keys are sorted, so `prev` follows `evidence`/`policy`, `seq` follows `scope`, and
    `subject` is the last key but `v` and `value`; none of our bodies nest these names.
    """
    at = body.find(',"prev":"')
    if at < 0 or body[at + 9 : at + 73] != expected_prev or body[at + 73 : at + 74] != '"':
        return "previous-hash link is broken"
    at = body.find(',"seq":', at)
    end = body.find(",", at + 7)
    if at < 0 or body[at + 7 : end] != str(expected_seq):
        return f"expected seq {expected_seq}"
    at = body.rfind(',"subject":"')
    if at < 0 or body[at + 12 : at + 48] != subject or body[at + 48 : at + 49] != '"':
        return "subject column differs from the body"
    return None


def verify(
    session: Session, *, subject: uuid.UUID | None = None, batch: int = 5000
) -> tuple[int, list[Break]]:
    """Recompute every chain (or one person's); return the events checked and the first break
    of each broken chain. Streams in (subject, seq) order, so memory stays flat."""
    session.flush()  # the Core read below does not autoflush
    dialect = session.get_bind().dialect.name
    head_query = select(LedgerHead.subject_id, LedgerHead.hash)
    params: dict[str, Any] = {}
    if subject is not None:
        head_query = head_query.where(LedgerHead.subject_id == subject)
        params["subject"] = subject.hex if dialect == "sqlite" else subject
    heads = {str(row.subject_id): row.hash for row in session.execute(head_query)}
    result = session.connection().execute(
        _verify_query(dialect, subject is not None),
        params,
        execution_options={"stream_results": True},
    )
    rows = (row for chunk in iter(lambda: result.fetchmany(batch), []) for row in chunk)
    breaks: list[Break] = []
    checked = 0
    current_raw: str | None = None
    current = ""
    expected_seq, expected_prev, broken = 1, GENESIS, False
    sha256 = hashlib.sha256

    def close_chain() -> None:
        if current_raw is not None and not broken and heads.get(current) != expected_prev:
            breaks.append(Break(current, expected_seq - 1, "chain head does not match"))

    for subject_raw, seq, stored_hash, body, prefix_ok in rows:
        if subject_raw != current_raw:
            close_chain()
            current_raw, current = subject_raw, _subject_text(subject_raw)
            expected_seq, expected_prev, broken = 1, GENESIS, False
        checked += 1
        if broken:
            continue
        reason = None
        if sha256(body.encode()).hexdigest() != stored_hash:
            reason = "hash does not match the event body"
        elif seq != expected_seq:
            reason = f"expected seq {expected_seq}"
        elif not prefix_ok:
            reason = "index columns differ from the body"
        else:
            reason = _link_problem(body, expected_seq, expected_prev, current)
        if reason is not None:
            breaks.append(Break(current, seq, reason))
            broken = True
            continue
        expected_seq, expected_prev = expected_seq + 1, stored_hash
    close_chain()
    return checked, breaks
