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

from sqlalchemy import Table, and_, bindparam, func, select, text, update
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from accord.analytics.models import Customer, Transaction
from accord.analytics.validation import Record
from accord.core.db import rowcount, utcnow
from accord.people.models import ContactPoint
from accord.relationships.models import Relationship

STAGE = "accord_import_stage"
# Core tables, not ORM entities: a list of dicts on an ORM insert takes the slower bulk path.
CUSTOMERS: Table = Customer.__table__  # type: ignore[assignment]
TRANSACTIONS: Table = Transaction.__table__  # type: ignore[assignment]
_COLUMNS = (
    "line, customer, occurred_at, amount, currency, channel, order_id, product, cost, "
    "is_refund, email"
)


@dataclass
class ChunkResult:
    imported: int = 0
    duplicates: int = 0
    rejected: list[tuple[int, str]] = field(default_factory=list)


def dedupe(records: list[Record]) -> tuple[list[Record], int, list[tuple[int, str]]]:
    """Drop repeats of an order id within the chunk: same amount skips, another rejects."""
    first: dict[str, Record] = {}
    rejected: list[tuple[int, str]] = []
    duplicates = 0
    for record in records:
        seen = first.get(record.order_id)
        if seen is None:
            first[record.order_id] = record
        elif seen.amount == record.amount:
            duplicates += 1
        else:
            rejected.append(
                (
                    record.line,
                    f"duplicate order id {record.order_id!r} with a different amount "
                    f"({record.amount} here, {seen.amount} on line {seen.line})",
                )
            )
    return list(first.values()), duplicates, rejected


def write_records(session: Session, brand_id: uuid.UUID, records: list[Record]) -> ChunkResult:
    """Store valid records: customers upserted, transactions inserted, people linked.

    Returns how many rows landed, how many were already stored (same order id and amount)
    and which were rejected (same order id, another amount) with their line and reason.
    """
    unique, duplicates, rejected = dedupe(records)
    result = ChunkResult(duplicates=duplicates, rejected=rejected)
    if not unique:
        return result
    session.flush()
    if session.get_bind().dialect.name == "postgresql":
        _write_postgres(session, brand_id, unique, result)
    else:
        _write_sqlite(session, brand_id, unique, result)
    return result


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
    with cursor, cursor.copy(f"COPY {STAGE} ({_COLUMNS}) FROM STDIN") as copy:
        for record in records:
            copy.write_row(record)
    params: dict[str, Any] = {"brand": brand_id}
    conflicts = session.execute(
        text(
            f"SELECT i.line, i.order_id, t.amount FROM {STAGE} i JOIN analytics_transactions t "
            "ON t.brand_id = :brand AND t.order_id = i.order_id WHERE t.amount <> i.amount"
        ),
        params,
    ).all()
    result.rejected += [(line, _conflict_reason(oid, amount)) for line, oid, amount in conflicts]
    bad = [line for line, _, _ in conflicts]
    session.execute(
        text(
            "INSERT INTO analytics_customers (id, brand_id, external_id, created_at) "
            "SELECT gen_random_uuid(), :brand, s.customer, now() FROM "
            f"(SELECT DISTINCT customer FROM {STAGE} WHERE line <> ALL(CAST(:bad AS integer[]))) s "
            "ON CONFLICT (brand_id, external_id) DO NOTHING"
        ),
        {**params, "bad": bad},
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
    result.duplicates += len(records) - len(bad) - result.imported
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
    t, c = Transaction, Customer
    stored = session.execute(
        select(t.order_id, t.amount).where(
            t.brand_id == brand_id, t.order_id.in_(_json_values([r.order_id for r in records]))
        )
    ).all()
    stored_amount: dict[str, Decimal] = {oid: Decimal(amount) for oid, amount in stored}
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
    _link_sqlite(session, brand_id, [[k, v] for k, v in pairs.items() if "@" in v])


def _link_sqlite(session: Session, brand_id: uuid.UUID, pairs: list[list[str]]) -> None:
    if not pairs:
        return
    table = func.json_each(bindparam("pairs", json.dumps(pairs))).table_valued("value")
    external = func.json_extract(table.c.value, "$[0]")
    address = func.json_extract(table.c.value, "$[1]")
    match = (
        select(ContactPoint.person_id)
        .select_from(table)
        .join(ContactPoint, ContactPoint.address_normalised == address)
        .join(
            Relationship,
            and_(
                Relationship.person_id == ContactPoint.person_id, Relationship.brand_id == brand_id
            ),
        )
        .where(
            external == Customer.external_id,
            ContactPoint.channel == "email",
            ContactPoint.verified_at.is_not(None),
        )
        .order_by(ContactPoint.person_id)
        .limit(1)
        .scalar_subquery()
    )
    session.execute(
        update(Customer)
        .where(
            Customer.brand_id == brand_id,
            Customer.person_id.is_(None),
            Customer.external_id.in_(select(external).select_from(table)),
        )
        .values(person_id=match),
        execution_options={"synchronize_session": False},
    )


def link_customers(session: Session, brand_id: uuid.UUID) -> int:
    """Link every unlinked customer whose external id is a verified e-mail address of a person
    related to the brand (e.g. someone who followed the brand after their purchases were
    imported). Returns how many customers were linked. One statement on either backend."""
    address = func.lower(func.trim(Customer.external_id))
    match = (
        select(ContactPoint.person_id)
        .join(
            Relationship,
            and_(
                Relationship.person_id == ContactPoint.person_id, Relationship.brand_id == brand_id
            ),
        )
        .where(
            ContactPoint.channel == "email",
            ContactPoint.verified_at.is_not(None),
            ContactPoint.address_normalised == address,
        )
        .order_by(ContactPoint.person_id)
        .limit(1)
        .scalar_subquery()
    )
    result = session.execute(
        update(Customer)
        .where(
            Customer.brand_id == brand_id,
            Customer.person_id.is_(None),
            Customer.external_id.contains("@"),
            match.is_not(None),
        )
        .values(person_id=match),
        execution_options={"synchronize_session": False},
    )
    return rowcount(result)
