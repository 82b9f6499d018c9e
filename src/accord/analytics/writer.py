"""Set-based storage of one chunk of valid transactions (CSV import and API batches alike).

Per chunk, a fixed number of statements whatever its size: the amounts stored for the
chunk's order ids and the ids of its customers are looked up at once, then the new customers
and transactions are written in bulk (PostgreSQL: binary COPY straight into the tables, see
writer_pg; SQLite: executemany). Order ids make every write idempotent: a row whose order id
is stored already is skipped, or rejected when its amount differs.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from sqlalchemy import Table, func, select
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from accord.analytics import writer_pg as pg
from accord.analytics.linking import link_sqlite
from accord.analytics.models import Customer, Transaction
from accord.analytics.validation import Record
from accord.core.db import rowcount, utcnow

# Core tables, not ORM entities: a list of dicts on an ORM insert takes the slower bulk path.
CUSTOMERS: Table = Customer.__table__  # type: ignore[assignment]
TRANSACTIONS: Table = Transaction.__table__  # type: ignore[assignment]
# Customer ids remembered across the chunks of one import (about 250 bytes each).
CUSTOMERS_KNOWN = 200_000


@dataclass
class ChunkResult:
    imported: int = 0
    duplicates: int = 0
    rejected: list[tuple[int, str]] = field(default_factory=list)


def split_repeats(records: list[Record]) -> tuple[list[Record], list[Record]]:
    """(first row of each order id, later rows repeating an order id) of one chunk."""
    first: dict[str, Record] = {}
    repeats: list[Record] = []
    for record in records:
        if record.order_id in first:
            repeats.append(record)
        else:
            first[record.order_id] = record
    return list(first.values()), repeats


def write_records(
    session: Session,
    brand_id: uuid.UUID,
    records: list[Record],
    customers: dict[str, uuid.UUID] | None = None,
) -> ChunkResult:
    """Store valid records: customers upserted, transactions inserted, people linked.

    Returns how many rows landed, how many were already stored (same order id and amount)
    and which were rejected (same order id, another amount) with their line and reason. The
    first occurrence of an order id, stored or in the file, is the one that counts.
    ``customers`` (external id -> customer id) carries the ids found or made by earlier
    chunks of the same transaction, so that each customer is looked up once per import.
    """
    unique, repeats = split_repeats(records)
    result = ChunkResult()
    if not unique:
        return result
    session.flush()
    postgres = session.get_bind().dialect.name == "postgresql"
    if postgres:
        pg.lock_brand(session, brand_id)
    stored = _stored_amounts(session, brand_id, [r.order_id for r in unique])
    new = _new_records(unique, stored, result)
    if new and postgres:
        _write_postgres(session, brand_id, new, {} if customers is None else customers)
        result.imported = len(new)
    elif new:
        _write_sqlite(session, brand_id, new, result)
    if repeats:
        # After the write every repeated order id is stored, with the amount that counts.
        stored = _stored_amounts(session, brand_id, sorted({r.order_id for r in repeats}))
        for record in repeats:
            amount = stored.get(record.order_id)
            if amount is None or amount == record.amount:
                result.duplicates += 1
            else:
                result.rejected.append((record.line, _conflict_reason(record.order_id, amount)))
    return result


def _stored_amounts(
    session: Session, brand_id: uuid.UUID, order_ids: list[str]
) -> dict[str, Decimal]:
    if session.get_bind().dialect.name == "postgresql":
        return pg.stored_amounts(session, brand_id, order_ids)
    t = Transaction
    query = select(t.order_id, t.amount).where(
        t.brand_id == brand_id, t.order_id.in_(_json_values(order_ids))
    )
    return {oid: Decimal(amount) for oid, amount in session.execute(query).all()}


def _new_records(
    records: list[Record], stored: dict[str, Decimal], result: ChunkResult
) -> list[Record]:
    """The records whose order ids are not stored; the others are counted as duplicates or,
    with another amount than the stored one, rejected."""
    new: list[Record] = []
    for record in records:
        found = stored.get(record.order_id)
        if found is None:
            new.append(record)
        elif found == record.amount:
            result.duplicates += 1
        else:
            result.rejected.append((record.line, _conflict_reason(record.order_id, found)))
    return new


def _link_pairs(records: list[Record]) -> dict[str, str]:
    """External id -> the address that may link it (its e-mail column, or the id itself)."""
    pairs = {r.customer: r.email or r.customer.strip().lower() for r in records}
    return {k: v for k, v in pairs.items() if "@" in v}


def _write_postgres(
    session: Session, brand_id: uuid.UUID, records: list[Record], known: dict[str, uuid.UUID]
) -> None:
    if len(known) > CUSTOMERS_KNOWN:
        known.clear()  # memory stays bounded however many customers a file names
    # Sorted names: new customers reach the (brand, external id) index in key order.
    pg.customer_ids(session, brand_id, sorted({r.customer for r in records}), known)
    pg.insert_transactions(session, brand_id, records, known)
    pg.link(session, brand_id, _link_pairs(records))


def _conflict_reason(order_id: str, stored: Any) -> str:
    return f"duplicate order id {order_id!r} with a different amount (stored: {stored})"


# --- SQLite: executemany with ON CONFLICT DO NOTHING; sets passed as one JSON parameter. ----


def _json_values(values: list[str]) -> Any:
    return select(func.json_each(json.dumps(values)).table_valued("value").c.value)


def _write_sqlite(
    session: Session, brand_id: uuid.UUID, good: list[Record], result: ChunkResult
) -> None:
    c = Customer
    now = utcnow()
    names = sorted({r.customer for r in good})
    session.execute(
        sqlite_insert(CUSTOMERS).on_conflict_do_nothing(),
        [
            {"id": uuid.uuid4(), "brand_id": brand_id, "external_id": n, "created_at": now}
            for n in names
        ],
    )
    ids = dict(
        session.execute(
            select(c.external_id, c.id).where(
                c.brand_id == brand_id, c.external_id.in_(_json_values(names))
            )
        ).all()
    )
    rows = [
        {
            "brand_id": brand_id,
            "customer_id": ids[r.customer],
            "occurred_at": r.occurred_at,
            "amount": r.amount,
            "currency": r.currency,
            "channel": r.channel,
            "order_id": r.order_id,
            "product": r.product,
            "cost": r.cost,
            "is_refund": r.is_refund,
            "created_at": now,
        }
        for r in good
    ]
    inserted = session.execute(sqlite_insert(TRANSACTIONS).on_conflict_do_nothing(), rows)
    result.imported = rowcount(inserted)
    result.duplicates += len(good) - result.imported
    link_sqlite(session, brand_id, [[k, v] for k, v in _link_pairs(good).items()])
