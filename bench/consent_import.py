"""Benchmark: bulk consent import against writing the same rows in bulk, on SQLite and PostgreSQL.

Goal: `accord relationships import` (`accord.relationships.consent_import.run`) stores a file
of opt-ins at least 0.3x as fast as a floor that writes exactly the rows it wrote (people, their
e-mail contact points, relationships, purpose grants, channel and topic choices, one ledger
event per row with its hash chained, the ledger heads, the pending consents and the queued
confirmation mails), already computed, with one bulk statement per table: `COPY … FROM STDIN`
on PostgreSQL, one `executemany` INSERT on SQLite, into a fresh database of the same schema
(keys, foreign keys and indexes), in one transaction, in the same run.

The import does all of its work: reads and checks every row (e-mail, purpose, channels,
topics, times, evidence), looks up people, erased addresses, relationships and grants a chunk
at a time, creates the missing people, hashes the evidence with the server key, chains and
hashes each ledger event, and queues a confirmation mail (with a fresh token) for the rows
without a completed double opt-in (one row in four). Set-up, not measured: a synthetic CSV and
two fresh databases migrated by `accord.core.migrate.upgrade`.

Each round imports into a fresh database and then runs the floor on what it wrote; the best
of --rounds (5) interleaved rounds counts for each, so that a burst of load on a shared machine
does not decide the figure. Prints both rates, `RESULT consent_import_vs_floor_<backend>
<ratio>`, each round's ratio, and, for information, the rate of importing the same file again
(nothing new is written). 100,000 rows by default, 10,000 with --quick.
"""

from __future__ import annotations

import argparse
import csv
import json
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from _common import BENCH_SECRET, fresh_postgres

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

GOAL = 0.3
HEADER = "email,source,collected_at,ip,form_url,double_opt_in,topics,channels,notice_version"
# Parents first: the order the floor writes them in.
TABLES = (
    "people",
    "contact_points",
    "relationships",
    "purpose_grants",
    "channel_choices",
    "topic_choices",
    "ledger_heads",
    "ledger_events",
    "pending_consents",
    "outbox",
)


def q(column: str) -> str:
    return f'"{column}"'


def write_csv(path: Path, rows: int) -> None:
    with path.open("w", newline="") as f:
        f.write(HEADER + "\n")
        for i in range(rows):
            confirmed = "no" if i % 4 == 3 else "yes"
            where = f"203.0.{i % 250}.{i % 200 + 1}," if i % 2 else ",https://shop.example/join"
            topics = "news deals" if i % 3 else "news"
            f.write(
                f"person{i:07d}@people.example,newsletter form,2025-03-{i % 28 + 1:02d}T10:00:00Z,"
                f"{where},{confirmed},{topics},email,privacy-2025-01\n"
            )


def _rows(path: Path) -> Iterator[tuple[int, dict[str, str]]]:
    with path.open(newline="") as f:
        yield from enumerate(csv.DictReader(f), start=2)


def setup(url: str, tmp: Path) -> tuple[Any, Any, Any]:
    from accord.brands import service as brands
    from accord.brands.schemas import BrandCreate
    from accord.core import migrate
    from accord.core.db import Database, make_engine
    from accord.core.settings import Settings
    from accord.relationships import topics
    from accord.relationships.schemas import TopicCreate
    from accord.relationships.vocabulary import Purpose

    db = Database(make_engine(url))
    migrate.upgrade(db.engine)
    settings = Settings(var_dir=tmp / "var", database_url=url, secret_key=BENCH_SECRET)
    with db.transaction() as session:
        brand = brands.create_brand(
            session,
            BrandCreate(
                name="Bench",
                slug="bench",
                sender_name="Bench",
                sender_email="news@bench.example",
                support_email="help@bench.example",
                postal_address="1 Bench Road",
            ),
            secret=BENCH_SECRET,
        )
        for slug in ("news", "deals"):
            topics.create(
                session,
                brand.id,
                TopicCreate(slug=slug, name=slug, description="d", purpose=Purpose.marketing),
            )
        session.expunge(brand)
    from accord.relationships import consent_import_rows

    # Modules the first row loads (e-mail validation, URL parsing), loaded before the clock.
    consent_import_rows.parse(
        2,
        next(_rows(Path(__file__).with_name("consent_import.py")))
        if False
        else {
            "email": "w@people.example",
            "source": "s",
            "collected_at": "2025-01-01",
            "ip": "203.0.113.1",
        },
    )
    return db, settings, brand


def run_import(db: Any, settings: Any, brand: Any, path: Path) -> tuple[float, Any]:
    from accord.relationships import consent_import

    started = time.perf_counter()
    with db.transaction() as session:
        brand = session.merge(brand)
        report = consent_import.run(session, settings, brand, _rows(path))
    return time.perf_counter() - started, report


def dump(db: Any) -> dict[str, tuple[list[str], list[tuple[Any, ...]]]]:
    """Every row the import wrote, per table (the brand's own rows are set up apart)."""
    from sqlalchemy import MetaData

    meta = MetaData()
    meta.reflect(db.engine, only=[*TABLES, "brands", "topics", "brand_keys"])
    out: dict[str, tuple[list[str], list[tuple[Any, ...]]]] = {}
    with db.engine.connect() as conn:
        for name in (*TABLES, "brands", "topics", "brand_keys"):
            table = meta.tables[name]
            columns = [c.name for c in table.columns]
            query = (
                f"SELECT {', '.join(q(c) for c in columns)} FROM {name}"  # raw values, as stored
            )
            out[name] = (columns, [tuple(r) for r in conn.exec_driver_sql(query)])
    return out


def floor_sqlite(url: str, rows: dict[str, tuple[list[str], list[tuple[Any, ...]]]]) -> float:
    from sqlalchemy import create_engine

    engine = create_engine(url)
    raw = engine.raw_connection()
    try:
        cur = raw.cursor()
        prepared = {}
        for name in ("brands", "brand_keys", "topics"):
            columns, data = rows[name]
            marks = ",".join("?" * len(columns))
            cur.executemany(
                f"INSERT INTO {name} ({','.join(map(q, columns))}) VALUES ({marks})", data
            )
        raw.commit()
        for name in TABLES:
            columns, data = rows[name]
            marks = ",".join("?" * len(columns))
            prepared[name] = (
                f"INSERT INTO {name} ({','.join(map(q, columns))}) VALUES ({marks})",
                data,
            )
        started = time.perf_counter()
        cur.execute("BEGIN IMMEDIATE")
        for statement, data in prepared.values():
            cur.executemany(statement, data)
        raw.commit()
        elapsed = time.perf_counter() - started
    finally:
        raw.close()
        engine.dispose()
    return elapsed


def _copy_value(value: Any) -> Any:
    return json.dumps(value) if isinstance(value, dict | list) else value


def floor_postgres(url: str, rows: dict[str, tuple[list[str], list[tuple[Any, ...]]]]) -> float:
    import psycopg

    plain = url.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(plain) as conn:
        with conn.cursor() as cur:
            for name in ("brands", "brand_keys", "topics"):
                columns, data = rows[name]
                with cur.copy(f"COPY {name} ({','.join(map(q, columns))}) FROM STDIN") as copy:
                    for r in data:
                        copy.write_row([_copy_value(v) for v in r])
        conn.commit()
        # Values made ready for COPY before the clock starts (the import had them in hand too).
        ready = {n: [[_copy_value(v) for v in r] for r in rows[n][1]] for n in TABLES}
        started = time.perf_counter()
        with conn.cursor() as cur:
            for name in TABLES:
                columns, ready_rows = rows[name][0], ready[name]
                with cur.copy(f"COPY {name} ({','.join(map(q, columns))}) FROM STDIN") as copy:
                    for row in ready_rows:
                        copy.write_row(row)
        conn.commit()
        return time.perf_counter() - started


def _round(backend: str, path: Path, tmp: Path, rows: int, i: int) -> tuple[float, float, float]:
    """One import into a fresh database, the same file again, then the floor writing what the
    import wrote into another fresh database: (import, again, floor) seconds."""
    if backend == "sqlite":
        url_a, url_b = f"sqlite:///{tmp / f'a{i}.db'}", f"sqlite:///{tmp / f'b{i}.db'}"
    else:
        url_a = fresh_postgres("accord_bench_consent_a") or ""
        url_b = fresh_postgres("accord_bench_consent_b") or ""
    from accord.core import migrate
    from accord.core.db import make_engine

    db, settings, brand = setup(url_a, tmp)
    seconds, report = run_import(db, settings, brand, path)
    if report.rejected or report.imported != rows:
        raise RuntimeError(f"imported {report.imported} of {rows}: {report.rejects[:3]}")
    again, second = run_import(db, settings, brand, path)
    if second.imported:
        raise RuntimeError("the second import wrote something")
    written = dump(db)
    db.engine.dispose()
    target = make_engine(url_b)
    migrate.upgrade(target)
    target.dispose()
    floor = (floor_sqlite if backend == "sqlite" else floor_postgres)(url_b, written)
    if i == 0:
        events = len(written["ledger_events"][1])
        total = sum(len(written[n][1]) for n in TABLES)
        print(
            f"[{backend}] {rows:,} rows -> {total:,} database rows ({events:,} ledger events, "
            f"{report.requested:,} confirmation mails queued)"
        )
    return seconds, again, floor


def measure(backend: str, rows: int, path: Path, tmp: Path, rounds: int) -> None:
    if backend == "postgres" and not fresh_postgres("accord_bench_consent_a"):
        print("PostgreSQL is not reachable: postgres not measured.")
        return
    # Rounds interleave the import and its floor, so drift in the machine's load hits both
    # alike; the best of each counts.
    timings = [_round(backend, path, tmp, rows, i) for i in range(rounds)]
    seconds, again, floor = (min(t[k] for t in timings) for k in range(3))
    print(f"[{backend}] import:        {rows / seconds:10,.0f} rows/s ({seconds:.2f} s)")
    print(
        f"[{backend}] floor:         {rows / floor:10,.0f} rows/s ({floor:.2f} s, same rows, bulk)"
    )
    print(f"[{backend}] import again:  {rows / again:10,.0f} rows/s ({again:.2f} s, nothing new)")
    print(
        f"[{backend}] best of {rounds} rounds; each round's ratio: "
        + ", ".join(f"{f / s:.3f}" for s, _, f in timings)
    )
    print(f"RESULT consent_import_vs_floor_{backend} {floor / seconds:.3f}")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--quick", action="store_true", help="10,000 rows")
    parser.add_argument("--rows", type=int, default=None)
    parser.add_argument("--backend", choices=("sqlite", "postgres", "both"), default="both")
    parser.add_argument("--rounds", type=int, default=5, help="measured rounds; best counts")
    args = parser.parse_args()
    rows = args.rows or (10_000 if args.quick else 100_000)
    print(f"goal: >= {GOAL}x the floor on each backend")
    with tempfile.TemporaryDirectory() as name:
        tmp = Path(name)
        path = tmp / "optins.csv"
        write_csv(path, rows)
        for backend in ("sqlite", "postgres") if args.backend == "both" else (args.backend,):
            measure(backend, rows, path, tmp, args.rounds)


if __name__ == "__main__":
    main()
