"""PostgreSQL storage of one chunk: set-based look-ups, then COPY into the real tables.

Rows go straight into analytics_customers and analytics_transactions by binary COPY, with no
staging table and no INSERT … SELECT: the server stores each row once. That is safe because
a transaction-scoped advisory lock per brand makes writers of one brand's transactions take
turns, so the order ids and customers looked up below cannot be stored by anyone else before
this transaction ends. Without the lock two concurrent imports of one file could both see an
order id as new; with it the second waits, then finds the first's rows and skips them.
"""

from __future__ import annotations

import secrets
import time
import uuid
import zlib
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from decimal import Decimal
from typing import Any

from sqlalchemy.orm import Session

from accord.analytics.validation import Record
from accord.core import read_memo
from accord.core.db import utcnow

# The advisory lock's first key: one namespace for "writing a brand's transactions".
LOCK_SPACE = zlib.crc32(b"accord.analytics.transactions") & 0x7FFFFFFF
# One index probe per looked-up id, whatever the planner thinks of the brand's size: inside
# an import's transaction the statistics still describe the tables before it, and a scan of
# all the brand's rows per chunk made imports quadratic. LIMIT 1 keeps the subquery a
# parameterised probe (a plain subquery would be flattened into a join the planner may hash).
_PROBE = (
    "SELECT i.key, x.{column} FROM unnest(%(keys)s::text[]) AS i(key) CROSS JOIN LATERAL ("
    "SELECT x.{column} FROM {table} x WHERE x.brand_id = %(brand)s "
    'AND x.{key} = i.key COLLATE "C" LIMIT 1) x'
)
_TRANSACTION_COLUMNS = (
    "brand_id, order_id, customer_id, occurred_at, amount, currency, channel, product, cost, "
    "is_refund, created_at"
)
_TRANSACTION_TYPES = ["uuid", "text", "uuid", "timestamptz", "numeric", "text", "text", "text",
                      "numeric", "bool", "timestamptz"]  # fmt: skip


def lock_brand(session: Session, brand_id: uuid.UUID) -> None:
    """Wait for other writers of the brand's transactions; held until this transaction ends."""
    with _cursor(session) as cursor:
        cursor.execute(
            "SELECT pg_advisory_xact_lock(%s, hashtext(%s))", (LOCK_SPACE, str(brand_id))
        )


def stored_amounts(
    session: Session, brand_id: uuid.UUID, order_ids: Sequence[str]
) -> dict[str, Decimal]:
    """The amounts stored for those of `order_ids` the brand has already."""
    if not order_ids:
        return {}
    with _cursor(session) as cursor:
        # One probe first: the first stored order id at or after the chunk's smallest ("C"
        # order is code point order, as Python's min and max). New orders usually carry ids
        # apart from the stored ones, and then none needs looking up one by one. ORDER BY
        # the key makes the primary key the plan whatever the (stale) statistics say.
        cursor.execute(
            "SELECT t.order_id FROM analytics_transactions t WHERE t.brand_id = %s "
            'AND t.order_id >= %s COLLATE "C" ORDER BY t.brand_id, t.order_id LIMIT 1',
            (brand_id, min(order_ids)),
        )
        first = cursor.fetchone()
        if first is None or first[0] > max(order_ids):
            return {}
        query = _PROBE.format(column="amount", table="analytics_transactions", key="order_id")
        cursor.execute(query, {"brand": brand_id, "keys": list(order_ids)})
        return dict(cursor.fetchall())


def customer_ids(
    session: Session, brand_id: uuid.UUID, names: Sequence[str], known: dict[str, uuid.UUID]
) -> None:
    """Add to `known` the customer id of each of `names` it lacks, creating (by COPY) the
    customers the brand does not have yet."""
    wanted = [name for name in names if name not in known]
    if not wanted:
        return
    with _cursor(session) as cursor:
        query = _PROBE.format(column="id", table="analytics_customers", key="external_id")
        cursor.execute(query, {"brand": brand_id, "keys": wanted})
        known.update(cursor.fetchall())
    new = [name for name in wanted if name not in known]
    if not new:
        return
    now = utcnow()
    with _copy(session, "analytics_customers (id, brand_id, external_id, created_at)") as copy:
        copy.set_types(["uuid", "uuid", "text", "timestamptz"])
        for name, customer in zip(new, time_ordered_ids(len(new)), strict=True):
            known[name] = customer
            copy.write_row((customer, brand_id, name, now))


def time_ordered_ids(count: int) -> list[uuid.UUID]:
    """`count` UUIDv7 (RFC 9562), increasing: the millisecond first, then a random start plus
    a counter. Random (v4) ids scatter every index entry, and the transactions' index on
    (brand, customer) with them; ids made together stay together in every index."""
    prefix = (time.time_ns() // 1_000_000) << 80 | 7 << 76 | 0b10 << 62
    start = secrets.randbits(74)
    ids = []
    for i in range(count):
        n = (start + i) & ((1 << 74) - 1)
        ids.append(uuid.UUID(int=prefix | (n >> 62) << 64 | (n & ((1 << 62) - 1))))
    return ids


def insert_transactions(
    session: Session, brand_id: uuid.UUID, records: list[Record], ids: dict[str, uuid.UUID]
) -> None:
    """COPY rows whose order ids are known new (looked up under the brand's lock)."""
    now = utcnow()
    with _copy(session, f"analytics_transactions ({_TRANSACTION_COLUMNS})") as copy:
        # Binary with declared types: the server parses nothing, the client formats in C.
        copy.set_types(_TRANSACTION_TYPES)
        write = copy.write_row
        for r in records:
            write((brand_id, r.order_id, ids[r.customer], r.occurred_at, r.amount, r.currency,
                   r.channel, r.product, r.cost, r.is_refund, now))  # fmt: skip


def link(session: Session, brand_id: uuid.UUID, pairs: dict[str, str]) -> None:
    """Link unlinked customers to the related person whose verified address they name."""
    if not pairs:
        return
    with _cursor(session) as cursor:
        cursor.execute(
            "UPDATE analytics_customers c SET person_id = m.person_id FROM ("
            "SELECT DISTINCT ON (p.customer) p.customer, cp.person_id "
            "FROM unnest(%(customers)s::text[], %(addresses)s::text[]) AS p(customer, address) "
            "JOIN contact_points cp ON cp.channel = 'email' AND cp.verified_at IS NOT NULL "
            "AND cp.address_normalised = p.address JOIN relationships r "
            "ON r.person_id = cp.person_id AND r.brand_id = %(brand)s "
            "ORDER BY p.customer, cp.person_id) m WHERE c.brand_id = %(brand)s "
            "AND c.external_id = m.customer AND c.person_id IS NULL",
            {"brand": brand_id, "customers": list(pairs), "addresses": list(pairs.values())},
        )


@contextmanager
def _cursor(session: Session) -> Iterator[Any]:
    """A cursor of the session's own connection, hence in its transaction. Plain psycopg:
    tens of thousands of result rows cost a tenth of what they cost through SQLAlchemy."""
    read_memo.forget(session)
    raw = session.connection().connection.dbapi_connection
    assert raw is not None
    cursor: Any = raw.cursor()
    with cursor:
        yield cursor


@contextmanager
def _copy(session: Session, target: str) -> Iterator[Any]:
    """COPY … FROM STDIN (binary) on the session's own connection."""
    with (
        _cursor(session) as cursor,
        cursor.copy(f"COPY {target} FROM STDIN (FORMAT BINARY)") as copy,
    ):
        yield copy
