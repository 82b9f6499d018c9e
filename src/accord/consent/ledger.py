"""Appending to and verifying the per-person hash chains.

An event body is a small JSON object; its hash is SHA-256 over the RFC 8785 canonical
encoding. Each body holds `prev` (the hash of the person's previous event) and `seq`, so the
chain is in the hashed bytes themselves; the unique (subject_id, seq) forbids forks.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import rfc8785
from sqlalchemy import insert, select, update
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


def _check_row(row: Any, expected_seq: int, expected_prev: str) -> str | None:
    """Why this stored event does not fit its chain, or None."""
    raw = row.body.encode()
    if hashlib.sha256(raw).hexdigest() != row.hash:
        return "hash does not match the event body"
    try:
        body = json.loads(raw)
    except ValueError:
        return "event body is not JSON"
    if body.get("seq") != expected_seq or row.seq != expected_seq:
        return f"expected seq {expected_seq}"
    if body.get("prev") != expected_prev:
        return "previous-hash link is broken"
    if body.get("subject") != str(row.subject_id):
        return "subject column differs from the body"
    brand = str(row.brand_id) if row.brand_id else None
    if body.get("brand") != brand or body.get("action") != row.action:
        return "index columns differ from the body"
    if body.get("at") != timestamp(row.occurred_at):
        return "time column differs from the body"
    return None


def _rows(session: Session, query: Any, batch: int) -> Iterator[Any]:
    result = session.execute(query.execution_options(yield_per=batch))
    yield from result


def verify(
    session: Session, *, subject: uuid.UUID | None = None, batch: int = 5000
) -> tuple[int, list[Break]]:
    """Recompute every chain (or one person's); return the events checked and the first break
    of each broken chain. Streams in (subject, seq) order, so memory stays flat."""
    query = select(
        LedgerEvent.subject_id,
        LedgerEvent.seq,
        LedgerEvent.hash,
        LedgerEvent.brand_id,
        LedgerEvent.action,
        LedgerEvent.occurred_at,
        LedgerEvent.body,
    ).order_by(LedgerEvent.subject_id, LedgerEvent.seq)
    if subject is not None:
        query = query.where(LedgerEvent.subject_id == subject)
    head_query = select(LedgerHead.subject_id, LedgerHead.hash)
    if subject is not None:
        head_query = head_query.where(LedgerHead.subject_id == subject)
    heads = {row.subject_id: row.hash for row in session.execute(head_query)}
    breaks: list[Break] = []
    checked = 0
    current: uuid.UUID | None = None
    expected_seq, expected_prev, broken = 1, GENESIS, False
    for row in _rows(session, query, batch):
        if row.subject_id != current:
            if current is not None and not broken and heads.get(current) != expected_prev:
                breaks.append(Break(str(current), expected_seq - 1, "chain head does not match"))
            current, expected_seq, expected_prev, broken = row.subject_id, 1, GENESIS, False
        checked += 1
        if broken:
            continue
        reason = _check_row(row, expected_seq, expected_prev)
        if reason is not None:
            breaks.append(Break(str(row.subject_id), row.seq, reason))
            broken = True
            continue
        expected_seq, expected_prev = expected_seq + 1, row.hash
    if current is not None and not broken and heads.get(current) != expected_prev:
        breaks.append(Break(str(current), expected_seq - 1, "chain head does not match"))
    return checked, breaks
