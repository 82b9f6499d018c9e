"""A slow, obvious verifier of the ledger, for tests only: the ledger's rules in a few lines, to
hold `accord.consent.verification` (fast and clever, as its benchmark requires) to them.

For each person, their events in `seq` order must be the chain 1, 2, 3, ...: each body is the
canonical encoding of a JSON object, hashes to the stored hash, names the event's own position
as `seq`, the previous event's hash as `prev` (the genesis hash for the first), and the same
subject, action, time and brand as the event's columns; the head row must point at the last event
(its seq and hash). A head that counts events of which none is stored is a chain deleted whole.
The first event that breaks a rule is the chain's break; a chain is reported once.
"""

from __future__ import annotations

import json
import uuid
from collections import defaultdict
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from accord.consent.ledger import GENESIS, canonical, digest, timestamp
from accord.consent.models import LedgerEvent, LedgerHead
from accord.consent.verification import Break


def verify(session: Session, *, subject: uuid.UUID | None = None) -> tuple[int, list[Break]]:
    """The events read and the first break of each broken chain, in subject order."""
    session.flush()
    events = select(LedgerEvent).order_by(LedgerEvent.seq)
    heads = select(LedgerHead)
    if subject is not None:
        events = events.where(LedgerEvent.subject_id == subject)
        heads = heads.where(LedgerHead.subject_id == subject)
    chains: dict[uuid.UUID, list[LedgerEvent]] = defaultdict(list)
    read = 0
    for event in session.scalars(events):
        chains[event.subject_id].append(event)
        read += 1
    head_of = {head.subject_id: head for head in session.scalars(heads)}
    breaks = [
        broken
        for person in sorted(set(chains) | set(head_of), key=str)
        if (broken := first_break(person, chains[person], head_of.get(person))) is not None
    ]
    return read, breaks


def first_break(
    person: uuid.UUID, chain: list[LedgerEvent], head: LedgerHead | None
) -> Break | None:
    if not chain:
        if head is not None and head.seq > 0:
            return Break(str(person), 1, "events are missing")
        return None
    prev = GENESIS
    for position, event in enumerate(chain, start=1):
        problem = what_is_wrong(event, position, prev)
        if problem is not None:
            return Break(str(person), event.seq, problem)
        prev = event.hash
    if head is None or head.seq != len(chain) or head.hash != prev:
        return Break(str(person), len(chain), "chain head does not match")
    return None


def what_is_wrong(event: LedgerEvent, position: int, prev: str) -> str | None:
    try:
        body: Any = json.loads(event.body)
    except ValueError:
        return "the body is not JSON"
    if not isinstance(body, dict):
        return "the body is not a JSON object"
    encoded = canonical(body)
    if encoded != event.body.encode() or digest(encoded) != event.hash:
        return "hash does not match the event body"
    if event.seq != position or body.get("seq") != position:
        return f"expected seq {position}"
    if body.get("prev") != prev:
        return "previous-hash link is broken"
    columns = {
        "subject": str(event.subject_id),
        "action": event.action,
        "at": timestamp(event.occurred_at),
        "brand": None if event.brand_id is None else str(event.brand_id),
    }
    if any(body.get(name) != value for name, value in columns.items()):
        return "columns differ from the body"
    return None
