"""Set-based storage of one chunk of valid transactions (CSV import and API batches alike).

Per chunk, a fixed number of statements whatever its size: PostgreSQL gets the rows by COPY
into a temporary table and does the rest with INSERT … SELECT; SQLite gets executemany. Order
ids make every write idempotent: a row whose order id is stored already is skipped, or
rejected when its amount differs.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from sqlalchemy import String, Table, any_, bindparam, func, select, text
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from accord.analytics.linking import link_sqlite
from accord.analytics.models import Customer, Transaction
from accord.analytics.validation import Record
from accord.core.db import rowcount, utcnow

STAGE = "accord_import_stage"
# Core tables, not ORM entities: a list of dicts on an ORM insert takes the slower bulk path.
CUSTOMERS: Table = Customer.__table__  # type: ignore[assignment]
TRANSACTIONS: Table = Transaction.__table__  # type: ignore[assignment]
_TYPES = ["int4", "text", "timestamptz", "numeric", "text", "text", "text", "text", "numeric",
          "bool", "text"]  # fmt: skip
_COLUMNS = (
    "line, customer, occurred_at, amount, currency, channel, order_id, product, cost, "
    "is_refund, email"
)


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


def write_records(session: Session, brand_id: uuid.UUID, records: list[Record]) -> ChunkResult:
    """Store valid records: customers upserted, transactions inserted, people linked.

    Returns how many rows landed, how many were already stored (same order id and amount)
    and which were rejected (same order id, another amount) with their line and reason. The
    first occurrence of an order id, stored or in the file, is the one that counts.
    """
    unique, repeats = split_repeats(records)
    result = ChunkResult()
    if not unique:
        return result
    session.flush()
    if session.get_bind().dialect.name == "postgresql":
        _write_postgres(session, brand_id, unique, result)
    else:
        _write_sqlite(session, brand_id, unique, result)
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
    t = Transaction
    if session.get_bind().dialect.name == "postgresql":
        among = t.order_id == any_(bindparam("ids", order_ids, type_=ARRAY(String)))
    else:
        among = t.order_id.in_(_json_values(order_ids))
    query = select(t.order_id, t.amount).where(t.brand_id == brand_id, among)
    return {oid: Decimal(amount) for oid, amount in session.execute(query).all()}


def _conflict_reason(order_id: str, stored: Any) -> str:
    return f"duplicate order id {order_id!r} with a different amount (stored: {stored})"


# --- PostgreSQL: COPY into a temporary table, then a handful of set-based statements. ------


def prepare_stage(session: Session) -> None:
    """The temporary staging table; created once per transaction, emptied per chunk."""
    session.execute(
        text(
            f"CREATE TEMP TABLE IF NOT EXISTS {STAGE} (line integer, customer text, "
            "occurred_at timestamptz, amount numeric(14,2), currency text, channel text, "
            "order_id text, product text, cost numeric(14,2), is_refund boolean, email text) "
            "ON COMMIT DROP"
        )
    )
    session.execute(text(f"TRUNCATE {STAGE}"))


def _write_postgres(
    session: Session, brand_id: uuid.UUID, records: list[Record], result: ChunkResult
) -> None:
    prepare_stage(session)
    raw = session.connection().connection.dbapi_connection
    assert raw is not None
    cursor: Any = raw.cursor()
    with cursor, cursor.copy(f"COPY {STAGE} ({_COLUMNS}) FROM STDIN (FORMAT BINARY)") as copy:
        # Binary with declared types: a third less client time per row than text COPY.
        copy.set_types(_TYPES)
        for record in records:
            copy.write_row(record)
    params: dict[str, Any] = {"brand": brand_id}
    # Rows whose order id is stored already leave the stage first: the inserts below then
    # touch only new rows instead of failing speculative insertions on a re-import.
    conflicts = session.execute(
        text(
            f"WITH gone AS (DELETE FROM {STAGE} i USING analytics_transactions t "
            "WHERE t.brand_id = :brand AND t.order_id = i.order_id "
            "RETURNING i.line, i.order_id, t.amount, t.amount <> i.amount AS differs) "
            "SELECT line, order_id, amount FROM gone WHERE differs"
        ),
        params,
    ).all()
    result.rejected += [(line, _conflict_reason(oid, amount)) for line, oid, amount in conflicts]
    session.execute(
        text(
            "INSERT INTO analytics_customers (id, brand_id, external_id, created_at) "
            f"SELECT gen_random_uuid(), :brand, s.customer, now() FROM (SELECT DISTINCT customer "
            f"FROM {STAGE}) s WHERE NOT EXISTS (SELECT 1 FROM analytics_customers c "
            "WHERE c.brand_id = :brand AND c.external_id = s.customer) "
            "ON CONFLICT (brand_id, external_id) DO NOTHING"
        ),
        params,
    )
    inserted = session.execute(
        text(
            "INSERT INTO analytics_transactions (brand_id, customer_id, occurred_at, amount, "
            "currency, channel, order_id, product, cost, is_refund, created_at) "
            "SELECT :brand, c.id, i.occurred_at, i.amount, i.currency, i.channel, i.order_id, "
            f"i.product, i.cost, i.is_refund, now() FROM {STAGE} i JOIN analytics_customers c "
            "ON c.brand_id = :brand AND c.external_id = i.customer "
            "ON CONFLICT (brand_id, order_id) DO NOTHING"
        ),
        params,
    )
    result.imported = rowcount(inserted)
    result.duplicates += len(records) - len(conflicts) - result.imported
    # Only rows that can name an e-mail address reach the join with contact points.
    session.execute(
        text(
            "UPDATE analytics_customers c SET person_id = m.person_id FROM ("
            "SELECT DISTINCT ON (i.customer) i.customer, cp.person_id "
            f"FROM {STAGE} i JOIN contact_points cp ON cp.channel = 'email' "
            "AND cp.verified_at IS NOT NULL "
            "AND cp.address_normalised = COALESCE(i.email, lower(btrim(i.customer))) "
            "JOIN relationships r ON r.person_id = cp.person_id AND r.brand_id = :brand "
            "WHERE strpos(COALESCE(i.email, i.customer), '@') > 0 "
            "ORDER BY i.customer, cp.person_id) m "
            "WHERE c.brand_id = :brand AND c.external_id = m.customer AND c.person_id IS NULL"
        ),
        params,
    )


# --- SQLite: executemany with ON CONFLICT DO NOTHING; sets passed as one JSON parameter. ----


def _json_values(values: list[str]) -> Any:
    return select(func.json_each(json.dumps(values)).table_valued("value").c.value)


def _write_sqlite(
    session: Session, brand_id: uuid.UUID, records: list[Record], result: ChunkResult
) -> None:
    c = Customer
    stored_amount = _stored_amounts(session, brand_id, [r.order_id for r in records])
    good: list[Record] = []
    for record in records:
        found = stored_amount.get(record.order_id)
        if found is not None and found != record.amount:
            result.rejected.append((record.line, _conflict_reason(record.order_id, found)))
        else:
            good.append(record)
    if not good:
        return
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
    pairs = {r.customer: r.email or r.customer.strip().lower() for r in good}
    link_sqlite(session, brand_id, [[k, v] for k, v in pairs.items() if "@" in v])
