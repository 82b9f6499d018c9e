"""Verifying the per-person hash chains, for `accord ledger verify` and the history page.

Every stored body is re-hashed with hashlib, and every other fact is checked against it: the
index columns (action, time, brand) open the canonical body in this order, `seq` and the
subject are in it, and `prev` must be the previous event's hash (the genesis hash for seq 1).
The last event of each chain must be the person's head row, and a head that counts events
must have them. Rows are read in (subject, seq) order straight from the DB-API cursor
(streamed on PostgreSQL), so memory stays flat; the per-event test is one expression of
string comparisons, and only an event that fails it is examined again to name what is wrong.
`bench/ledger_verify.py` holds this to at least half the rate of merely hashing the bodies.
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from functools import partial
from itertools import chain
from typing import Any

from sqlalchemy import text
from sqlalchemy.orm import Session

from accord.consent.ledger import GENESIS


@dataclass(frozen=True)
class Break:
    subject: str
    seq: int
    reason: str


def _events_sql(dialect: str, one: bool) -> str:
    """Each event with its index columns as text: the time as SQLite stores it (PostgreSQL
    formats it alike), UUIDs as stored (SQLite's 32 hex digits are reformatted in Python, where
    a ledger's few brands are cached). On PostgreSQL each row also carries the head's hash where
    the head points at it, so only a chain's last event has one; the server joins while Python
    checks. SQLite, in-process, is cheaper walking the heads beside the events (`_HeadWalk`)."""
    if dialect == "postgresql":
        columns = (
            "e.subject_id::text, e.seq, e.hash, e.body, e.action, "
            "to_char(e.occurred_at AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS.US'), "
            "e.brand_id::text, h.hash"
        )
        source = "ledger_events e LEFT JOIN ledger_heads h "
        source += "ON h.subject_id = e.subject_id AND h.seq = e.seq"
        where = "WHERE e.subject_id = %(subject)s" if one else ""
    else:
        columns = "e.subject_id, e.seq, e.hash, e.body, e.action, e.occurred_at, e.brand_id, NULL"
        source = "ledger_events e"
        where = "WHERE e.subject_id = :subject" if one else ""
    return f"SELECT {columns} FROM {source} {where} ORDER BY e.subject_id, e.seq"


class _HeadWalk:
    """SQLite's heads, read in the events' order: the head of each chain as the chain closes."""

    def __init__(self, rows: Iterator[Any]) -> None:
        self.rows = rows
        self.pending: Any = next(rows, None)

    def hash_at(self, raw: str, seq: int) -> str | None:
        while self.pending is not None and self.pending[0] < raw:
            self.pending = next(self.rows, None)
        head = self.pending
        return head[2] if head is not None and head[0] == raw and head[1] == seq else None


@contextmanager
def _rows(
    session: Session, sql: str, params: dict[str, Any], batch: int
) -> Iterator[Iterator[Any]]:
    """Rows straight from the DB-API cursor: verification reads every event, and SQLAlchemy's
    per-row work would cost more than the hashing. On PostgreSQL the server streams the rows in
    chunks (libpq's chunked mode) while Python checks the previous chunk: no FETCH round trips,
    and memory stays flat."""
    dbapi = session.connection().connection.dbapi_connection
    assert dbapi is not None
    cursor = dbapi.cursor()
    try:
        if session.get_bind().dialect.name == "postgresql":
            yield cursor.stream(sql, params or None, size=batch)
        else:
            cursor.execute(sql, params)
            yield chain.from_iterable(iter(partial(cursor.fetchmany, batch), []))
    finally:
        cursor.close()


def _missing_chains(session: Session, params: dict[str, Any]) -> list[Break]:
    """Heads that count events of which none is stored: a whole chain was deleted."""
    sql = (
        "SELECT h.subject_id FROM ledger_heads h WHERE h.seq > 0 "
        "AND NOT EXISTS (SELECT 1 FROM ledger_events e WHERE e.subject_id = h.subject_id)"
    )
    if params:
        sql += " AND h.subject_id = :subject"
    return [
        Break(str(uuid.UUID(str(raw))), 1, "events are missing")
        for (raw,) in session.execute(text(sql), params)
    ]


def _uuid_text(raw: str) -> str:
    """SQLite stores UUIDs as 32 hex digits; bodies and PostgreSQL's text use the 36 form."""
    return raw if len(raw) == 36 else str(uuid.UUID(raw))


class _SeqParts(dict[int, str]):
    """The body's `seq` member for each position, made once per position, not once per event."""

    def __missing__(self, seq: int) -> str:
        value = self[seq] = f',"seq":{seq},"source":'
        return value


class _Brands(dict[Any, str]):
    """The body's `"brand":…` value for each stored brand id; a ledger names few brands."""

    def __missing__(self, raw: str | None) -> str:
        value = "null" if raw is None else f'"{_uuid_text(raw)}"'
        self[raw] = value
        return value


def _problem(
    row: tuple[Any, ...], expected_seq: int, prev: str, subject: str, brands: _Brands
) -> str:
    """Name the first thing wrong with an event that failed the combined test."""
    _, seq, stored_hash, body, action, moment, brand, _ = row
    if hashlib.sha256(body.encode()).hexdigest() != stored_hash:
        return "hash does not match the event body"
    if seq != expected_seq:
        return f"expected seq {expected_seq}"
    prefix = f'{{"action":"{action}","at":"{moment.replace(" ", "T", 1)}Z","brand":{brands[brand]},'
    if not body.startswith(prefix):
        return "index columns differ from the body"
    if f',"prev":"{prev}","scope":' not in body:
        return "previous-hash link is broken"
    if f',"seq":{seq},"source":' not in body:
        return f"expected seq {expected_seq}"
    return "subject column differs from the body"


def _head_walk(stack: ExitStack, session: Session, params: dict[str, Any], batch: int) -> _HeadWalk:
    """SQLite: the heads read beside the events, in the same order."""
    sql = "SELECT subject_id, seq, hash FROM ledger_heads"
    sql += " WHERE subject_id = :subject" if params else ""
    sql += " ORDER BY subject_id"
    return _HeadWalk(stack.enter_context(_rows(session, sql, params, batch)))


def _head_break(raw: str, expected_seq: int) -> Break:
    return Break(_uuid_text(raw), expected_seq - 1, "chain head does not match")


def verify(
    session: Session, *, subject: uuid.UUID | None = None, batch: int = 5000
) -> tuple[int, list[Break]]:
    """Recompute every chain (or one person's); return the events checked and the first break
    of each broken chain, in subject order."""
    session.flush()  # the raw reads below do not autoflush
    dialect = session.get_bind().dialect.name
    params: dict[str, Any] = {}
    if subject is not None:
        params["subject"] = subject if dialect == "postgresql" else subject.hex
    breaks: list[Break] = []
    brands = _Brands()
    sha256 = hashlib.sha256
    checked = 0
    current: Any = None
    subject_part = ""
    expected_seq, prev, broken = 1, GENESIS, False
    head: str | None = None  # the head's hash, if the head points at the last event read
    seq_parts = _SeqParts()
    with ExitStack() as stack:
        walk = _head_walk(stack, session, params, batch) if dialect == "sqlite" else None
        events_sql = _events_sql(dialect, subject is not None)
        rows = stack.enter_context(_rows(session, events_sql, params, batch))
        for checked, row in enumerate(rows, 1):  # noqa: B007 -- the count is the result
            raw, seq, stored_hash, body, action, moment, brand, row_head = row
            if raw != current:
                if walk is not None and current is not None:
                    head = walk.hash_at(current, expected_seq - 1)
                if current is not None and not broken and head != prev:
                    breaks.append(_head_break(current, expected_seq))
                current, expected_seq, prev, broken = raw, 1, GENESIS, False
                subject_part = f',"subject":"{_uuid_text(raw)}","v":'
            head = row_head
            if broken:
                continue
            at = moment.replace(" ", "T", 1)
            if (
                seq == expected_seq
                and sha256(body.encode()).hexdigest() == stored_hash
                and body.startswith(f'{{"action":"{action}","at":"{at}Z","brand":{brands[brand]},')
                and f',"prev":"{prev}","scope":' in body
                and seq_parts[seq] in body
                and subject_part in body
            ):
                expected_seq, prev = expected_seq + 1, stored_hash
                continue
            reason = _problem(row, expected_seq, prev, subject_part, brands)
            breaks.append(Break(_uuid_text(raw), seq, reason))
            broken = True
        if walk is not None and current is not None:
            head = walk.hash_at(current, expected_seq - 1)
    if current is not None and not broken and head != prev:
        breaks.append(_head_break(current, expected_seq))
    breaks.extend(_missing_chains(session, params))
    breaks.sort(key=lambda b: b.subject)
    return checked, breaks
