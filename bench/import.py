"""Benchmark: CSV transaction import against storing the same resolved rows in bulk.

Goal (PostgreSQL): `accord.analytics.importer.import_csv` imports at least 0.5x as many rows
per second as a COPY of the same rows, already resolved (customer ids looked up, values
parsed: the rows the import stored, read back), into a table of the real shape: a copy of
analytics_transactions with the same primary key (brand, order id), the same customer index
and the same foreign key to analytics_customers, in the same run on the same server
(`RESULT import_vs_keyed_copy_postgres`). On SQLite, the same import against one
`executemany` INSERT of those resolved rows into a table of the real shape
(`RESULT import_vs_executemany_sqlite`, reported, no goal).

For information, as before: the rate against `COPY bare FROM STDIN (FORMAT csv, HEADER)` of the
file into a table with the file's columns and no keys (`RESULT import_vs_copy_postgres`).

The import does everything a real one does: read and check every row in Python (column by
column, in a worker thread while the server stores the chunk before), look up each chunk's
order ids (one range probe, then one by one only if stored ids fall in the chunk's range) and
customers, COPY the new customers and then the rows straight into analytics_transactions
(primary key (brand, order id), one index, one foreign key to the customer), link customers
whose id is an e-mail address, and commit. Set-up (not measured): a synthetic CSV
(order_id, customer, time, amount, currency, channel; one customer per 5 rows, times to the
second over two years) and a schema made by `accord.core.migrate.upgrade` on a fresh
PostgreSQL database `accord_bench_import`.

Prints the raw rates, `RESULT import_vs_copy_postgres <ratio>` and, for information, the rate
of importing the same file again (every row already stored) and a SQL-only floor: the same
rows stored by one INSERT … SELECT from the bare table, i.e. what the real table's unique
keys, indexes and foreign-key checks cost without any Python. Also for information,
`RESULT keyed_copy_vs_copy_postgres`: the same COPY into a table whose order id is a primary
key and nothing more. An import keyed by (brand, order id) must keep that key, so this ratio
bounds from above what any such importer can reach against the bare floor on this server,
before it validates a value, resolves a customer or stores an index. `--profile` prints where the
import's main thread spends its time (the parsing runs in a worker thread). 1,000,000 rows
by default, 100,000 with --quick.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import pstats
import random
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from _common import BENCH_SECRET, fresh_postgres

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

GOAL = 0.5
DATABASE = "accord_bench_import"
COLUMNS = "order_id,customer,time,amount,currency,channel"
CHANNELS = ("web", "store", "app", "phone")


def write_csv(path: Path, rows: int, seed: int = 1) -> None:
    rng = random.Random(seed)
    start = datetime(2023, 1, 1, tzinfo=UTC)
    customers = max(rows // 5, 1)
    with path.open("w", newline="") as f:
        f.write(COLUMNS + "\n")
        for i in range(rows):
            when = start + timedelta(seconds=rng.randrange(2 * 365 * 86400))
            cents = rng.randrange(100, 50_000)
            f.write(
                f"ord-{i:09d},cust-{rng.randrange(customers):07d},"
                f"{when:%Y-%m-%dT%H:%M:%SZ},{cents // 100}.{cents % 100:02d},EUR,"
                f"{CHANNELS[i % 4]}\n"
            )


BARE_COLUMNS = (
    "order_id text, customer text, time timestamptz, amount numeric(14,2), currency text, "
    "channel text"
)


def raw_copy(url: str, path: Path, table: str = "bare", columns: str = BARE_COLUMNS) -> float:
    """Seconds for COPY of the file into a table with the file's columns (and commit)."""
    import psycopg

    with psycopg.connect(url) as conn:
        conn.execute(f"DROP TABLE IF EXISTS {table}")
        conn.execute(f"CREATE TABLE {table} ({columns})")
        conn.commit()
        started = time.perf_counter()
        with (
            conn.cursor() as cur,
            cur.copy(f"COPY {table} FROM STDIN (FORMAT csv, HEADER true)") as copy,
            path.open("rb") as f,
        ):
            while block := f.read(1 << 20):
                copy.write(block)
        conn.commit()
        return time.perf_counter() - started


def keyed_copy(url: str, path: Path) -> float:
    """Seconds for the same COPY into a table that also keeps the one guarantee an idempotent
    import cannot do without: order ids unique (a primary key, "C" collation as Accord's).
    No customer resolution, no customer index, no foreign key, no Python: the best ratio to
    the floor that any importer keyed by order id can reach on this server."""
    import psycopg

    keyed = BARE_COLUMNS.replace("order_id text", 'order_id text COLLATE "C" PRIMARY KEY')
    seconds = raw_copy(url, path, "keyed", keyed)
    with psycopg.connect(url) as conn:
        conn.execute("DROP TABLE keyed")
    return seconds


def constrained_floor(url: str) -> float:
    """Seconds for the database alone to store the rows of `bare` in analytics_transactions.

    INSERT … SELECT from the bare table (customers exist by then; order ids get a suffix so
    that none conflicts), rolled back: what the table's unique keys, indexes and foreign-key
    checks cost without any Python, for reading the main ratio.
    """
    import psycopg

    with psycopg.connect(url) as conn:
        started = time.perf_counter()
        conn.execute(
            "INSERT INTO analytics_transactions (brand_id, customer_id, occurred_at, amount, "
            "currency, channel, order_id, is_refund, created_at) "
            "SELECT c.brand_id, c.id, b.time, b.amount, b.currency, b.channel, "
            "b.order_id || '-floor', false, now() FROM bare b JOIN analytics_customers c "
            "ON c.external_id = b.customer ON CONFLICT (brand_id, order_id) DO NOTHING"
        )
        elapsed = time.perf_counter() - started
        conn.rollback()
        conn.execute("DROP TABLE bare")
        conn.commit()
    return elapsed


def real_shape_copy(url: str) -> float:
    """Seconds for COPY of the rows the import stored (read back first, not timed) into a
    table of analytics_transactions' shape: its primary key, its index, its foreign key."""
    import psycopg

    with psycopg.connect(url) as conn:
        buffer = io.BytesIO()
        with conn.cursor().copy("COPY analytics_transactions TO STDOUT") as out:
            for block in out:
                buffer.write(block)
        conn.execute("DROP TABLE IF EXISTS floor_tx")
        conn.execute("CREATE TABLE floor_tx (LIKE analytics_transactions INCLUDING ALL)")
        conn.execute(
            "ALTER TABLE floor_tx ADD FOREIGN KEY (brand_id, customer_id) "
            "REFERENCES analytics_customers (brand_id, id) ON DELETE CASCADE"
        )
        conn.commit()
        data = buffer.getvalue()
        started = time.perf_counter()
        with conn.cursor().copy("COPY floor_tx FROM STDIN") as copy:
            for at in range(0, len(data), 1 << 20):
                copy.write(data[at : at + (1 << 20)])
        conn.commit()
        elapsed = time.perf_counter() - started
        conn.execute("DROP TABLE floor_tx")
        conn.commit()
    return elapsed


def sqlite_measure(path: Path, tmp: Path, rows: int) -> None:
    """SQLite: the import, then one executemany of the rows it stored into a table of the
    real shape (same DDL, same index), in the same run."""
    import sqlite3

    url = f"sqlite:///{tmp / 'import.db'}"
    first, again, imported = accord_import(url, path, tmp, False)
    if imported != rows:
        raise RuntimeError(f"SQLite: imported {imported} of {rows} rows")
    conn = sqlite3.connect(tmp / "import.db")
    conn.execute("PRAGMA foreign_keys = ON")
    ddl = conn.execute(
        "SELECT sql FROM sqlite_master "
        "WHERE tbl_name = 'analytics_transactions' AND sql IS NOT NULL"
    ).fetchall()
    data = conn.execute("SELECT * FROM analytics_transactions").fetchall()
    for (statement,) in ddl:
        conn.execute(statement.replace("analytics_transactions", "floor_tx"))
    conn.commit()
    marks = ",".join("?" * len(data[0]))
    started = time.perf_counter()
    conn.execute("BEGIN")
    conn.executemany(f"INSERT INTO floor_tx VALUES ({marks})", data)
    conn.commit()
    floor = time.perf_counter() - started
    conn.close()
    print(f"[sqlite] import_csv:  {rows / first:12,.0f} rows/s ({first:.2f} s)")
    print(f"[sqlite] executemany: {rows / floor:12,.0f} rows/s ({floor:.2f} s, resolved rows)")
    print(f"[sqlite] import again:{rows / again:12,.0f} rows/s ({again:.2f} s, all rows stored)")
    print(f"RESULT import_vs_executemany_sqlite {floor / first:.3f}")


def accord_import(url: str, path: Path, tmp: Path, profile: bool) -> tuple[float, float, int]:
    """Seconds for import_csv (first import, then the same file again) and rows imported."""
    from accord.analytics.importer import import_csv
    from accord.brands import service as brands
    from accord.brands.schemas import BrandCreate
    from accord.core import migrate
    from accord.core.db import Database, make_engine
    from accord.core.settings import Settings

    db = Database(make_engine(url))
    migrate.upgrade(db.engine)
    settings = Settings(var_dir=tmp / "var", database_url=url)
    with db.transaction() as session:
        brand = brands.create_brand(
            session,
            BrandCreate(
                name="Bench",
                slug="bench",
                sender_name="Bench",
                sender_email="news@bench.example",
                support_email="help@bench.example",
            ),
            secret=BENCH_SECRET,
        )
    timings: list[float] = []
    imported = 0
    profiler = cProfile.Profile() if profile else None
    for attempt in range(2):
        started = time.perf_counter()
        if profiler is not None and attempt == 0:
            profiler.enable()
        with db.transaction() as session:
            report = import_csv(session, settings, brand.id, path, None, tmp / "rejects.csv")
        if profiler is not None and attempt == 0:
            profiler.disable()
        timings.append(time.perf_counter() - started)
        if attempt == 0:
            imported = report.imported
        if report.rejected:
            raise RuntimeError(f"{report.rejected} rows rejected: see {report.rejects_path}")
    db.engine.dispose()
    if profiler is not None:
        out = io.StringIO()
        pstats.Stats(profiler, stream=out).sort_stats("cumulative").print_stats(25)
        print(out.getvalue())
    return timings[0], timings[1], imported


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--quick", action="store_true", help="100,000 rows")
    parser.add_argument("--rows", type=int, default=None, help="rows in the synthetic CSV")
    parser.add_argument("--profile", action="store_true", help="profile the import (cProfile)")
    parser.add_argument("--backend", choices=("sqlite", "postgres", "both"), default="both")
    args = parser.parse_args()
    rows = args.rows or (100_000 if args.quick else 1_000_000)
    if args.backend != "postgres":
        with tempfile.TemporaryDirectory() as name:
            path = Path(name) / "transactions.csv"
            write_csv(path, rows)
            sqlite_measure(path, Path(name), rows)
        if args.backend == "sqlite":
            return
    url = fresh_postgres(DATABASE)
    if url is None:
        print("PostgreSQL is not reachable: nothing measured.")
        sys.exit(1)
    with tempfile.TemporaryDirectory() as name:
        tmp = Path(name)
        path = tmp / "transactions.csv"
        write_csv(path, rows)
        size = path.stat().st_size
        print(f"{rows:,} rows, {size / 1e6:.1f} MB")
        copy_seconds = raw_copy(url, path)
        keyed_seconds = keyed_copy(url, path)
        first, again, imported = accord_import(url, path, tmp, args.profile)
        real_seconds = real_shape_copy(url)
        floor_seconds = constrained_floor(url)
    if imported != rows:
        raise RuntimeError(f"imported {imported} of {rows} rows")
    copy_rate, import_rate = rows / copy_seconds, rows / first
    print(f"raw COPY:        {copy_rate:12,.0f} rows/s ({copy_seconds:.2f} s)")
    print(f"import_csv:      {import_rate:12,.0f} rows/s ({first:.2f} s)")
    print(f"import again:    {rows / again:12,.0f} rows/s ({again:.2f} s, all rows stored)")
    print(
        f"SQL-only floor:  {rows / floor_seconds:12,.0f} rows/s ({floor_seconds:.2f} s, "
        "INSERT … SELECT into analytics_transactions, no Python)"
    )
    print(f"import_csv / SQL-only floor: {floor_seconds / first:.3f}")
    print(
        f"COPY into a table keyed by order id: {rows / keyed_seconds:12,.0f} rows/s "
        f"({keyed_seconds:.2f} s), {copy_seconds / keyed_seconds:.3f}x raw COPY: the ceiling of "
        "any import that is idempotent by order id"
    )
    print(
        f"COPY of the resolved rows into a table of the real shape: {rows / real_seconds:12,.0f} "
        f"rows/s ({real_seconds:.2f} s)"
    )
    ratio = import_rate / copy_rate
    print(f"goal: >= {GOAL}x the COPY of the resolved rows into the real shape")
    print(f"RESULT keyed_copy_vs_copy_postgres {copy_seconds / keyed_seconds:.3f}")
    print(f"RESULT import_vs_copy_postgres {ratio:.3f}")
    print(f"RESULT import_vs_keyed_copy_postgres {real_seconds / first:.3f}")


if __name__ == "__main__":
    main()
