"""Benchmark: `accord`'s ledger verification throughput against a hash-only floor.

Goal: `verification.verify(session)` over 1,000,000 events (about 50,000 people, so ~20 events
per chain) checks at least 0.5x as many events per second as a floor that reads the same
stored canonical bytes from the same database (`SELECT body FROM ledger_events ORDER BY
subject_id, seq`, streamed with the same yield_per batch) and runs hashlib.sha256 over each;
same run, same database, same batch size.

Set-up (not measured): genuine chained bodies and hashes are made in Python with
`ledger.canonical` / `ledger.digest`, interleaved across people in time order as real appends
would be, and bulk-inserted (executemany on SQLite, COPY on PostgreSQL) together with the
ledger_heads rows, into a schema made by `accord.core.migrate.upgrade` on a fresh database
(a SQLite file in a temporary directory; PostgreSQL database `accord_bench_ledger`).
verify must report zero breaks.

Prints `RESULT ledger_verify_vs_floor_<backend> <ratio>` for each backend, plus the raw rates.
`--quick` uses 50,000 events.
"""

from __future__ import annotations

import argparse
import cProfile
import hashlib
import inspect
import io
import pstats
import random
import sqlite3
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from _common import fresh_postgres
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from accord.consent import ledger, verification
from accord.consent.models import LedgerEvent
from accord.core import migrate
from accord.core.db import make_engine

GOAL = 0.5
FULL_EVENTS = 1_000_000
QUICK_EVENTS = 50_000
EVENTS_PER_PERSON = 20
BATCH: int = inspect.signature(verification.verify).parameters["batch"].default
COLUMNS = ("subject_id", "seq", "hash", "brand_id", "action", "occurred_at", "body")
FLOOR_SQL = "SELECT body FROM ledger_events ORDER BY subject_id, seq"

Row = tuple[uuid.UUID, int, str, uuid.UUID | None, str, datetime, str]
Head = tuple[uuid.UUID, int, str]

PURPOSES = ("marketing", "profiling", "sharing")
CHANNELS = ("email", "sms", "push", "inapp", "postal")


# --- data ------------------------------------------------------------------------------------


class _Chains:
    """Makes genuine events the way `ledger.append` does, without a database."""

    def __init__(self, events: int, seed: int) -> None:
        self.rng = random.Random(seed)
        self.brands = [self.uid() for _ in range(12)]
        self.topics = {brand: [self.uid() for _ in range(6)] for brand in self.brands}
        self.subjects = [self.uid() for _ in range(max(1, events // EVENTS_PER_PERSON))]
        self.heads: dict[uuid.UUID, tuple[int, str]] = {}
        self.followed: dict[uuid.UUID, list[uuid.UUID]] = {}

    def uid(self) -> uuid.UUID:
        return uuid.UUID(int=self.rng.getrandbits(128), version=4)

    def hexdigest(self) -> str:
        return f"{self.rng.getrandbits(256):064x}"

    def _scope(self, brand: uuid.UUID) -> ledger.Scope:
        roll = self.rng.random()
        if roll < 0.4:
            return ledger.Scope(purpose=self.rng.choice(PURPOSES))
        if roll < 0.7:
            return ledger.Scope(purpose="marketing", channel=self.rng.choice(CHANNELS))
        return ledger.Scope(purpose="marketing", topic=self.rng.choice(self.topics[brand]))

    def _decision(self, subject: uuid.UUID, moment: datetime) -> dict[str, Any]:
        """What happened: brand, action, scope, source, policy, evidence, value."""
        rng = self.rng
        followed = self.followed.setdefault(subject, [])
        event: dict[str, Any] = {"brand": None, "scope": ledger.Scope(), "source": "portal"}
        event.update(policy=None, evidence={}, value={})
        roll = rng.random()
        if not followed or roll < 0.06:
            brand = rng.choice(self.brands)
            if brand not in followed:
                followed.append(brand)
            return {**event, "brand": brand, "action": "follow"}
        brand = rng.choice(followed)
        event["brand"] = brand
        if roll < 0.45:
            return {**event, "action": "grant", "scope": self._scope(brand)}
        if roll < 0.70:
            return {**event, "action": "withdraw", "scope": self._scope(brand)}
        if roll < 0.77:
            return {**event, "action": "set_cap", "value": {"cap": rng.randrange(0, 15)}}
        if roll < 0.81:
            share = {"digest": self.hexdigest(), "count": rng.randrange(1, 6)}
            return {**event, "action": "share", "value": share}
        if roll < 0.87:
            value = {"start": f"{rng.randrange(19, 24)}:00", "end": f"0{rng.randrange(6, 10)}:30"}
            return {**event, "brand": None, "action": "set_quiet_hours", "value": value}
        if roll < 0.95:  # consent a brand collected itself, with hashed evidence
            evidence = {
                "ip": self.hexdigest(),
                "form_url": self.hexdigest(),
                "method": rng.choice(("web form", "checkout", "in store")),
                "collected_at": (moment - timedelta(minutes=rng.randrange(1, 600))).isoformat(),
            }
            scope = ledger.Scope(purpose="marketing")
            policy = f"notice-2024-{rng.randrange(1, 13):02d}"
            return {
                **event,
                "action": "grant",
                "scope": scope,
                "source": "api",
                "policy": policy,
                "evidence": evidence,
            }
        if roll < 0.98:
            until = ledger.timestamp(moment + timedelta(days=rng.randrange(7, 60)))
            return {**event, "action": "pause", "value": {"until": until}}
        return {**event, "action": "resume"}

    def event(self, subject: uuid.UUID, moment: datetime) -> Row:
        seq, prev = self.heads.get(subject, (0, ledger.GENESIS))
        seq += 1
        made = self._decision(subject, moment)
        brand: uuid.UUID | None = made["brand"]
        body = {  # the same layout as ledger.append writes
            "v": ledger.VERSION,
            "subject": str(subject),
            "seq": seq,
            "prev": prev,
            "at": ledger.timestamp(moment),
            "brand": str(brand) if brand else None,
            "action": made["action"],
            "scope": made["scope"].as_json(),
            "source": made["source"],
            "policy": made["policy"],
            "evidence": made["evidence"],
            "value": made["value"],
        }
        raw = ledger.canonical(body)
        event_hash = ledger.digest(raw)
        self.heads[subject] = (seq, event_hash)
        return (subject, seq, event_hash, brand, made["action"], moment, raw.decode())


def generate(events: int, seed: int = 20240601) -> tuple[list[Row], list[Head]]:
    """`events` events over ~events/20 people, interleaved in time order over two years."""
    chains = _Chains(events, seed)
    rng = chains.rng
    moment = datetime(2023, 1, 1, tzinfo=UTC)
    mean_gap_us = int(2 * 365 * 86400 * 1e6 / events)
    rows: list[Row] = []
    for _ in range(events):
        moment += timedelta(microseconds=rng.randrange(1, 2 * mean_gap_us))
        rows.append(chains.event(rng.choice(chains.subjects), moment))
    heads = [(subject, seq, head) for subject, (seq, head) in chains.heads.items()]
    return rows, heads


# --- loading ---------------------------------------------------------------------------------


def _bound(engine: Engine, rows: list[Row]) -> Iterator[tuple[Any, ...]]:
    """Rows as the driver receives them from SQLAlchemy (so SQLite stores the same text)."""
    table = LedgerEvent.__table__
    dialect = engine.dialect
    processors = [
        table.c[name].type.dialect_impl(dialect).bind_processor(dialect) for name in COLUMNS
    ]
    for row in rows:
        yield tuple(
            proc(value) if proc is not None else value
            for proc, value in zip(processors, row, strict=True)
        )


def load_sqlite(engine: Engine, rows: list[Row], heads: list[Head]) -> None:
    uuid_bind = LedgerEvent.__table__.c.subject_id.type.dialect_impl(engine.dialect)
    to_db = uuid_bind.bind_processor(engine.dialect)
    assert to_db is not None
    raw = engine.raw_connection()  # the pooled connection, with Accord's SQLite pragmas
    try:
        conn = raw.driver_connection
        assert isinstance(conn, sqlite3.Connection)
        conn.executemany(
            f"INSERT INTO ledger_events ({', '.join(COLUMNS)}) VALUES (?, ?, ?, ?, ?, ?, ?)",
            _bound(engine, rows),
        )
        conn.executemany(
            "INSERT INTO ledger_heads (subject_id, seq, hash) VALUES (?, ?, ?)",
            ((to_db(subject), seq, head) for subject, seq, head in heads),
        )
        conn.commit()
        conn.execute("ANALYZE")
        conn.commit()
    finally:
        raw.close()


def load_postgres(url: str, rows: list[Row], heads: list[Head]) -> None:
    import psycopg

    with psycopg.connect(url) as conn:
        with conn.cursor() as cursor:
            with cursor.copy(f"COPY ledger_events ({', '.join(COLUMNS)}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
            with cursor.copy("COPY ledger_heads (subject_id, seq, hash) FROM STDIN") as copy:
                for head in heads:
                    copy.write_row(head)
        conn.commit()
        conn.autocommit = True
        conn.execute("VACUUM ANALYZE ledger_events")
        conn.execute("VACUUM ANALYZE ledger_heads")


# --- measuring -------------------------------------------------------------------------------


def floor(engine: Engine, batch: int) -> int:
    """Read every stored body in chain order and hash it: the least a verifier must do.

    Straight from the DB-API cursor in chunks of `batch` (on PostgreSQL streamed in libpq's
    chunked mode, the fastest read psycopg offers), so the floor carries no per-row work but
    the hashing."""
    count = 0
    sha256 = hashlib.sha256
    raw = engine.raw_connection()
    try:
        dbapi = raw.driver_connection
        assert dbapi is not None
        cursor = dbapi.cursor()
        if engine.dialect.name == "postgresql":
            for (body,) in cursor.stream(FLOOR_SQL, size=batch):
                sha256(body.encode()).hexdigest()
                count += 1
        else:
            cursor.execute(FLOOR_SQL)
            while chunk := cursor.fetchmany(batch):
                count += len(chunk)
                for (body,) in chunk:
                    sha256(body.encode()).hexdigest()
        cursor.close()
        raw.rollback()
    finally:
        raw.close()
    return count


def accord_verify(engine: Engine, batch: int) -> int:
    with Session(engine) as session:
        checked, breaks = verification.verify(session, batch=batch)
    assert not breaks, f"verify found {len(breaks)} break(s), first: {breaks[0]}"
    return checked


def timed(fn: Callable[[Engine, int], int], engine: Engine, batch: int, expected: int) -> float:
    start = time.perf_counter()
    count = fn(engine, batch)
    elapsed = time.perf_counter() - start
    assert count == expected, f"{fn.__name__} saw {count} events, expected {expected}"
    return count / elapsed


def profile_verify(engine: Engine, batch: int, top: int = 30) -> str:
    profiler = cProfile.Profile()
    profiler.enable()
    accord_verify(engine, batch)
    profiler.disable()
    out = io.StringIO()
    stats = pstats.Stats(profiler, stream=out)
    stats.sort_stats("tottime").print_stats(top)
    stats.sort_stats("cumulative").print_stats(top)
    return out.getvalue()


def measure(backend: str, engine: Engine, events: int, rounds: int) -> tuple[float, float]:
    floor(engine, BATCH)  # warm the caches for both
    accord_rates, floor_rates = [], []
    for _ in range(rounds):  # interleaved, so drift in machine load hits both alike
        floor_rates.append(timed(floor, engine, BATCH, events))
        accord_rates.append(timed(accord_verify, engine, BATCH, events))
    best_accord, best_floor = max(accord_rates), max(floor_rates)
    print(
        f"{backend}: verify {best_accord:,.0f} events/s, floor {best_floor:,.0f} events/s "
        f"({events:,} events, batch {BATCH})"
    )
    return best_accord, best_floor


def prepare(backend: str, workdir: Path, rows: list[Row], heads: list[Head]) -> Engine | None:
    start = time.perf_counter()
    if backend == "sqlite":
        engine = make_engine(f"sqlite:///{workdir}/ledger.db")
        migrate.upgrade(engine)
        load_sqlite(engine, rows, heads)
    else:
        url = fresh_postgres("accord_bench_ledger")
        if url is None:
            return None
        engine = make_engine(url)
        migrate.upgrade(engine)
        load_postgres(url, rows, heads)
    print(f"{backend}: loaded {len(rows):,} events in {time.perf_counter() - start:.1f}s")
    return engine


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--quick", action="store_true", help=f"{QUICK_EVENTS:,} events")
    parser.add_argument("--events", type=int, help=f"events to verify (default {FULL_EVENTS:,})")
    parser.add_argument("--rounds", type=int, default=3, help="measured rounds; best counts")
    parser.add_argument(
        "--backend", choices=["sqlite", "postgres", "both"], default="both", help="database(s)"
    )
    parser.add_argument(
        "--profile",
        action="store_true",
        help="also print a cProfile of one verify run",
    )
    args = parser.parse_args()
    events = args.events or (QUICK_EVENTS if args.quick else FULL_EVENTS)
    backends = ["sqlite", "postgres"] if args.backend == "both" else [args.backend]

    start = time.perf_counter()
    rows, heads = generate(events)
    print(
        f"generated {len(rows):,} events for {len(heads):,} people "
        f"in {time.perf_counter() - start:.1f}s"
    )
    with tempfile.TemporaryDirectory() as tmp:
        for backend in backends:
            engine = prepare(backend, Path(tmp), rows, heads)
            if engine is None:
                print(f"{backend}: not reachable, skipped")
                continue
            try:
                verify_rate, floor_rate = measure(backend, engine, events, args.rounds)
                ratio = verify_rate / floor_rate
                print(f"RESULT ledger_verify_vs_floor_{backend} {ratio:.3f}")
                print(f"goal >= {GOAL}: {'met' if ratio >= GOAL else 'NOT met'}")
                if args.profile:
                    print(profile_verify(engine, BATCH))
            finally:
                engine.dispose()
            sys.stdout.flush()


if __name__ == "__main__":
    main()
