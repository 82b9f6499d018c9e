"""Appending to and verifying the per-person hash chains.

An event body is a small JSON object; its hash is SHA-256 over the RFC 8785 canonical
encoding. Each body holds `prev` (the hash of the person's previous event) and `seq`, so the
chain is in the hashed bytes themselves; the unique (subject_id, seq) forbids forks.
"""

from __future__ import annotations

import hashlib
import json
import re
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import rfc8785
from sqlalchemy import String, cast, insert, select, update
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


def _json_string() -> str:
    """A JSON string exactly as json.loads accepts it, as an unrolled (fast) pattern."""
    plain = '[^"\\\\\\x00-\\x1f]'
    escape = r'\\(?:["\\/bfnrt]|u[0-9a-fA-F]{4})'
    return f'"{plain}*(?:{escape}{plain}*)*"'


_AT = r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z"  # what `timestamp` writes
_AT_FORMAT = re.compile(_AT)
_UUID = r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"
_STR = _json_string()
_OPT = f"(?:null|{_STR})"
# A version-1 body exactly as `canonical` lays it out (RFC 8785 sorts the keys). The fields
# verify compares are captured; none can hold an escape, so the captured text is the value.
# Any other body (or one whose `value` is not a JSON object) goes through json.loads.
_CANONICAL_V1 = re.compile(
    rf'\{{"action":"([a-z_]{{1,32}})","at":"({_AT})","brand":(?:null|"({_UUID})"),'
    rf'"evidence":\{{(?:{_STR}:{_STR}(?:,{_STR}:{_STR})*)?\}},"policy":{_OPT},'
    r'"prev":"([0-9a-f]{64})",'
    rf'"scope":\{{"channel":{_OPT},"purpose":{_OPT},"topic":{_OPT}\}},'
    rf'"seq":([1-9][0-9]{{0,17}}),"source":{_STR},"subject":"({_UUID})",'
    r'"v":1,"value":(\{.*\})\}',
    re.DOTALL,
)
# action, at (None unless written as `timestamp` writes it), brand, prev, seq, subject
_Fields = tuple[Any, str | None, Any, Any, Any, Any]


def _fields(text: str) -> _Fields | None:
    """The fields verify compares, from a stored body; None if it is not a JSON object."""
    match = _CANONICAL_V1.fullmatch(text)
    if match is not None and (match[7] == "{}" or _is_object(match[7])):
        action, at, brand, prev, seq, subject = match.group(1, 2, 3, 4, 5, 6)
        return action, at, brand, prev, int(seq), subject
    try:
        body = json.loads(text)
    except ValueError:
        return None
    if not isinstance(body, dict):
        return None
    get = body.get
    at = get("at")
    if not isinstance(at, str) or _AT_FORMAT.fullmatch(at) is None:
        at = None
    return get("action"), at, get("brand"), get("prev"), get("seq"), get("subject")


def _is_object(text: str) -> bool:
    try:
        return isinstance(json.loads(text), dict)
    except ValueError:
        return False


def _moment(stored: str) -> datetime:
    """occurred_at as the database prints it: SQLite naive UTC text, PostgreSQL ISO with an
    offset. Cheaper than the ORM's per-row datetime processing."""
    moment = datetime.fromisoformat(stored)
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment


def verify(
    session: Session, *, subject: uuid.UUID | None = None, batch: int = 5000
) -> tuple[int, list[Break]]:
    """Recompute every chain (or one person's); return the events checked and the first break
    of each broken chain. Streams in (subject, seq) order, so memory stays flat.

    Per event it does little beyond reading and hashing the body: rows come through Core (no
    ORM row processing), ids and times as text (one UUID per chain, not two per event), and a
    body's fields from one anchored pattern of the canonical layout (json.loads otherwise)."""
    events = LedgerEvent.__table__.c
    query = select(
        cast(events.subject_id, String),
        events.seq,
        events.hash,
        cast(events.brand_id, String),
        events.action,
        cast(events.occurred_at, String),
        events.body,
    ).order_by(events.subject_id, events.seq)
    if subject is not None:
        query = query.where(events.subject_id == subject)
    head_query = select(LedgerHead.subject_id, LedgerHead.hash)
    if subject is not None:
        head_query = head_query.where(LedgerHead.subject_id == subject)
    heads = {row.subject_id: row.hash for row in session.execute(head_query)}
    session.flush()  # Core reads below do not autoflush
    breaks: list[Break] = []
    checked = 0
    current_raw: str | None = None
    current: uuid.UUID | None = None
    current_text = ""
    brands: dict[str | None, str | None] = {None: None}
    expected_seq, expected_prev, broken = 1, GENESIS, False
    sha256 = hashlib.sha256
    rows = session.connection().execute(query, execution_options={"yield_per": batch})
    for subject_raw, seq, stored_hash, brand_raw, action, stored_at, text in rows:
        if subject_raw != current_raw:
            if current is not None and not broken and heads.get(current) != expected_prev:
                breaks.append(Break(current_text, expected_seq - 1, "chain head does not match"))
            current_raw, current = subject_raw, uuid.UUID(subject_raw)
            current_text = str(current)
            expected_seq, expected_prev, broken = 1, GENESIS, False
        checked += 1
        if broken:
            continue
        if brand_raw not in brands:
            brands[brand_raw] = str(uuid.UUID(brand_raw))
        reason: str | None = None
        if sha256(text.encode()).hexdigest() != stored_hash:
            reason = "hash does not match the event body"
        elif (fields := _fields(text)) is None:
            reason = "event body is not JSON"
        else:
            body_action, body_at, body_brand, body_prev, body_seq, body_subject = fields
            if body_seq != expected_seq or seq != expected_seq:
                reason = f"expected seq {expected_seq}"
            elif body_prev != expected_prev:
                reason = "previous-hash link is broken"
            elif body_subject != current_text:
                reason = "subject column differs from the body"
            elif body_brand != brands[brand_raw] or body_action != action:
                reason = "index columns differ from the body"
            elif body_at is None or datetime.fromisoformat(body_at) != _moment(stored_at):
                reason = "time column differs from the body"
        if reason is not None:
            breaks.append(Break(current_text, seq, reason))
            broken = True
            continue
        expected_seq, expected_prev = expected_seq + 1, stored_hash
    if current is not None and not broken and heads.get(current) != expected_prev:
        breaks.append(Break(current_text, expected_seq - 1, "chain head does not match"))
    return checked, breaks
