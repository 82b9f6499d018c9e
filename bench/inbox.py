"""Benchmark: a brand's conversation inbox against a hand-written SQL floor.

Goal: for a brand with 1,000,000 messages in 200,000 threads (and another brand beside it),
listing the first page of its open threads, newest activity first, with each thread's unread
count and last-message preview and the person's name, the way the console and the API list it
(`accord.conversations.inbox.page`), takes at most 1.3x the time of a hand-written SQL query
that returns the same rows (the floor), measured in the same run, on SQLite and on PostgreSQL.

The floor is one SELECT over the thread table joined to people and members, on the thread
table's own columns (the unread count and preview are kept on the thread row by the statement
that adds a message), with the same typed columns, through the same session: what is left to
compare is how the page is built and run. Both must return the same rows, in the same order.

Also timed and reported, for diagnosis (same rounds): the second page (through the cursor),
the "waiting on us" filter, the filter counts the inbox shows (`inbox.counts`: open, waiting
and assigned threads, each counted up to 1,000 over an index range), and the first page
computed from the messages alone, with no counters on the thread (unread: the person's
messages after the brand's last; preview: the last message): what the denormalised row saves.

Set-up (not measured): the schema from `accord.core.migrate.upgrade` on a fresh SQLite file
and a fresh PostgreSQL database `accord_bench_inbox`; the brands, a member and the people
through the services or set-based INSERT ... SELECT (generate_series on PostgreSQL, a recursive
CTE on SQLite); every thread's five messages alternate between the person and the brand, and
the thread's counters are what those messages make. 40% of the threads are closed, two thirds
of the open ones wait on the brand. PostgreSQL then gets VACUUM ANALYZE (what autovacuum does).

Rounds are interleaved; each timed figure is the mean of `--repeat` runs in one session, and
the best round of each is kept. Prints `RESULT inbox_vs_floor_<backend> <ratio>` (goal <= 1.3)
and, for diagnosis, `inbox_next_page_vs_floor_<backend>`, `inbox_waiting_vs_floor_<backend>`,
`inbox_counts_vs_floor_<backend>`, `inbox_from_messages_vs_floor_<backend>`.
`--quick` uses 20,000 threads (100,000 messages).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from _common import BENCH_SECRET, PG_ADMIN, fresh_postgres
from sqlalchemy import Integer, String, Uuid, bindparam, column, text
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import BindParameter, TextClause

from accord.brands import service as brands
from accord.brands.schemas import BrandCreate, MemberCreate
from accord.conversations import inbox
from accord.conversations.inbox import Filter
from accord.core import migrate
from accord.core.db import UTCDateTime, make_engine
from accord.core.permissions import Role

GOAL = 1.3
FULL_THREADS = 200_000
QUICK_THREADS = 20_000
MESSAGES_PER_THREAD = 5
PG_DATABASE = "accord_bench_inbox"


@dataclass(frozen=True)
class World:
    brand: uuid.UUID
    other: uuid.UUID
    member: uuid.UUID
    base: datetime


# --- the world -------------------------------------------------------------------------------

# Thread n (1..T) of the brand (and, for n <= T/10, one of the other brand's): five messages
# at base + 10n + j seconds (j = 0..4), alternating from the person's, but for n % 3 = 1 the
# last three are the person's (3 unread, waiting on the brand), for n % 3 = 2 the last one is
# (1 unread), and for n % 3 = 0 the last two are the brand's (waiting on the person). Closed
# when n % 5 < 2. Assigned to the member when n % 7 = 0. Person: one of T/4 people.
SQLITE_SERIES = "WITH RECURSIVE s(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM s WHERE n < :count)"
PG_SERIES = "WITH s(n) AS (SELECT generate_series(1, :count))"
SQLITE_ID = "lower(hex(randomblob(16)))"
PG_ID = "gen_random_uuid()"
SQLITE_AT = "strftime('%Y-%m-%d %H:%M:%S', :base, '+' || ({secs}) || ' seconds') || '.000000'"
PG_AT = "(CAST(:base AS timestamptz) + make_interval(secs => {secs}))"

BUILD = [
    "CREATE TABLE bench_people (n INTEGER PRIMARY KEY, id {uuid})",
    "{people_series} INSERT INTO bench_people (n, id) SELECT n, {id} FROM s",
    """
    INSERT INTO people (id, email, display_name, time_zone, locale, created_at)
    SELECT id, 'p' || n || '@bench.example', 'Person ' || n, 'UTC', 'en', :base
    FROM bench_people
    """,
    "CREATE TABLE bench_threads (n INTEGER, brand {uuid}, id {uuid}, person {uuid})",
    """
    {series} INSERT INTO bench_threads (n, brand, id, person)
    SELECT s.n, :brand, {id}, p.id FROM s JOIN bench_people p ON p.n = 1 + s.n % :people
    """,
    """
    {series} INSERT INTO bench_threads (n, brand, id, person)
    SELECT s.n, :other, {id}, p.id FROM s JOIN bench_people p ON p.n = 1 + (s.n * 7) % :people
    WHERE s.n <= :count / 10
    """,
    """
    INSERT INTO conversation_threads (
        id, brand_id, person_id, subject, status, waiting_on, started_by, assigned_member_id,
        brand_unread, person_unread, message_count, last_message_at, last_author, last_preview,
        first_response_at, first_response_seconds, closed_at, resolution_seconds,
        created_at, updated_at)
    SELECT id, brand, person, 'Question about order ' || n,
           CASE WHEN n % 5 < 2 THEN 'closed' ELSE 'open' END,
           CASE WHEN n % 3 <> 0 THEN 'brand' ELSE 'person' END,
           'person',
           CASE WHEN n % 7 = 0 AND brand = :brand THEN :member END,
           CASE n % 3 WHEN 1 THEN 3 WHEN 2 THEN 1 ELSE 0 END,
           CASE WHEN n % 3 <> 0 THEN 0 ELSE 2 END,
           5, {at_last},
           CASE WHEN n % 3 <> 0 THEN 'person' ELSE 'brand' END,
           'Message 4 of thread ' || n || ': is it in stock, and when could it ship?',
           {at_first_answer}, 1,
           CASE WHEN n % 5 < 2 THEN {at_last} END,
           CASE WHEN n % 5 < 2 THEN 4 END,
           {at_start}, {at_last}
    FROM bench_threads
    """,
    "CREATE TABLE bench_k (j INTEGER PRIMARY KEY)",
    "INSERT INTO bench_k (j) VALUES (0), (1), (2), (3), (4)",
    """
    INSERT INTO conversation_messages (
        id, thread_id, brand_id, person_id, author, member_id, via, body, original, created_at)
    SELECT {id}, t.id, t.brand, t.person,
           CASE WHEN k.j = 4 THEN CASE WHEN t.n % 3 <> 0 THEN 'person' ELSE 'brand' END
                WHEN k.j = 3 THEN CASE WHEN t.n % 3 = 1 THEN 'person' ELSE 'brand' END
                WHEN k.j % 2 = 0 THEN 'person' ELSE 'brand' END,
           NULL, 'portal',
           'Message ' || k.j || ' of thread ' || t.n || ': is it in stock, and when could it ship?',
           NULL, {at_message}
    FROM bench_threads t CROSS JOIN bench_k k
    ORDER BY t.n, k.j
    """,
    "DROP TABLE bench_people",
    "DROP TABLE bench_threads",
    "DROP TABLE bench_k",
]


def _sql(template: str, pg: bool) -> str:
    at = PG_AT if pg else SQLITE_AT
    series = PG_SERIES if pg else SQLITE_SERIES
    return template.format(
        series=series,
        people_series=series.replace(":count", ":people"),
        id=PG_ID if pg else SQLITE_ID,
        uuid="uuid" if pg else "CHAR(32)",
        at_last=at.format(secs="n * 10 + 4"),
        at_first_answer=at.format(secs="n * 10 + 1"),
        at_start=at.format(secs="n * 10"),
        at_message=at.format(secs="t.n * 10 + k.j"),
    )


def typed(sql: str, params: dict[str, Any]) -> TextClause:
    """text() with each parameter bound with Accord's column type (UUID, UTC time)."""
    binds: list[BindParameter[Any]] = []
    for name, value in params.items():
        if f":{name}" not in sql:
            continue
        if isinstance(value, uuid.UUID):
            binds.append(bindparam(name, value, type_=Uuid()))
        elif isinstance(value, datetime):
            binds.append(bindparam(name, value, type_=UTCDateTime()))
        else:
            binds.append(bindparam(name, value))
    return text(sql).bindparams(*binds)


def make_refs(engine: Engine) -> World:
    with Session(engine) as session:
        made = []
        for slug in ("inbox", "elsewhere"):
            brand = brands.create_brand(
                session,
                BrandCreate(
                    name=slug.title(),
                    slug=slug,
                    sender_name=slug.title(),
                    sender_email=f"news@{slug}.example",
                    support_email=f"help@{slug}.example",
                ),
                secret=BENCH_SECRET,
            )
            made.append(brand)
        member = brands.add_member(
            session, made[0].id, MemberCreate(email="agent@inbox.example", role=Role.support)
        )
        world = World(made[0].id, made[1].id, member.id, datetime(2026, 1, 1, tzinfo=UTC))
        session.commit()
    return world


def build_world(engine: Engine, threads: int, world: World) -> None:
    pg = engine.dialect.name == "postgresql"
    params = {
        "count": threads,
        "people": max(1, threads // 4),
        "brand": world.brand,
        "other": world.other,
        "member": world.member,
        "base": world.base,
    }
    with engine.begin() as conn:
        if pg:
            conn.execute(text("SET LOCAL synchronous_commit = off"))
        else:
            conn.execute(text("PRAGMA cache_size = -1000000"))
        for template in BUILD:
            conn.execute(typed(_sql(template, pg), params))
    with engine.connect() as conn:
        if pg:
            conn.execution_options(isolation_level="AUTOCOMMIT").execute(text("VACUUM ANALYZE"))
        else:
            conn.execute(text("PRAGMA wal_checkpoint(TRUNCATE)"))


# --- the queries -----------------------------------------------------------------------------

FLOOR = """
SELECT t.id, t.person_id, p.display_name, t.subject, t.status, t.waiting_on, t.brand_unread,
       t.last_message_at, t.last_author, t.last_preview, t.assigned_member_id, m.display_name
FROM conversation_threads t
JOIN people p ON p.id = t.person_id
LEFT JOIN members m ON m.id = t.assigned_member_id
WHERE t.brand_id = :brand AND t.status = 'open'
ORDER BY t.last_message_at DESC, t.id DESC
LIMIT 51
"""

# The same page from the messages alone: no counters on the thread row.
FROM_MESSAGES = """
SELECT t.id, t.person_id, p.display_name, t.subject, t.status,
       (SELECT m.author FROM conversation_messages m WHERE m.thread_id = t.id
        ORDER BY m.created_at DESC, m.id DESC LIMIT 1) AS last_author,
       (SELECT count(*) FROM conversation_messages m
        WHERE m.thread_id = t.id AND m.author = 'person'
          AND m.created_at > COALESCE((SELECT max(b.created_at) FROM conversation_messages b
                                       WHERE b.thread_id = t.id AND b.author = 'brand'),
                                      t.created_at)) AS unread,
       t.last_message_at,
       (SELECT substr(m.body, 1, 160) FROM conversation_messages m WHERE m.thread_id = t.id
        ORDER BY m.created_at DESC, m.id DESC LIMIT 1) AS preview
FROM conversation_threads t
JOIN people p ON p.id = t.person_id
WHERE t.brand_id = :brand AND t.status = 'open'
ORDER BY t.last_message_at DESC, t.id DESC
LIMIT 51
"""


def _columns(clause: TextClause, *spec: tuple[str, Any]) -> Any:
    return clause.columns(*[column(name, type_) for name, type_ in spec])


def floor_query(world: World) -> Any:
    return _columns(
        typed(FLOOR, {"brand": world.brand}),
        ("id", Uuid()),
        ("person_id", Uuid()),
        ("display_name", String()),
        ("subject", String()),
        ("status", String()),
        ("waiting_on", String()),
        ("brand_unread", Integer()),
        ("last_message_at", UTCDateTime()),
        ("last_author", String()),
        ("last_preview", String()),
        ("assigned_member_id", Uuid()),
        ("assigned_name", String()),
    )


def from_messages_query(world: World) -> Any:
    return _columns(
        typed(FROM_MESSAGES, {"brand": world.brand}),
        ("id", Uuid()),
        ("person_id", Uuid()),
        ("display_name", String()),
        ("subject", String()),
        ("status", String()),
        ("last_author", String()),
        ("unread", Integer()),
        ("last_message_at", UTCDateTime()),
        ("preview", String()),
    )


# --- measuring -------------------------------------------------------------------------------


def check_agreement(engine: Engine, world: World) -> str:
    """The page and the floor give the same rows; returns the cursor of the first page."""
    with Session(engine) as session:
        rows, cursor = inbox.page(session, world.brand, Filter.open)
        floor = session.execute(floor_query(world)).all()
        messages = session.execute(from_messages_query(world)).all()
    got = [
        (r.id, r.person_name, r.unread, r.preview, r.last_message_at, r.assigned_member_id)
        for r in rows
    ]
    expected = [(f[0], f[2], f[6], f[9], f[7], f[10]) for f in floor[:50]]
    if got != expected:
        raise AssertionError("the inbox page and the floor disagree")
    if [(m[0], m[6]) for m in messages[:50]] != [(g[0], g[2]) for g in got]:
        raise AssertionError("the counters on the thread rows disagree with the messages")
    if cursor is None or len(rows) != 50:
        raise AssertionError("expected a full first page and a cursor")
    return cursor


def repeated(engine: Engine, fn: Callable[[Session], object], repeat: int) -> float:
    """Mean wall-clock seconds of `repeat` runs in one session (a request's session)."""
    with Session(engine) as session:
        fn(session)  # warm: the statement compiled and cached, the pages in memory
        start = time.perf_counter()
        for _ in range(repeat):
            fn(session)
        return (time.perf_counter() - start) / repeat


def measure(engine: Engine, world: World, rounds: int, repeat: int) -> dict[str, float]:
    cursor = check_agreement(engine, world)
    floor, from_messages = floor_query(world), from_messages_query(world)
    runs: dict[str, Callable[[Session], object]] = {
        "floor": lambda s: s.execute(floor).all(),
        "page": lambda s: inbox.page(s, world.brand, Filter.open),
        "next_page": lambda s: inbox.page(s, world.brand, Filter.open, cursor=cursor),
        "waiting": lambda s: inbox.page(s, world.brand, Filter.waiting),
        "counts": lambda s: inbox.counts(s, world.brand, world.member),
        "from_messages": lambda s: s.execute(from_messages).all(),
    }
    times: dict[str, list[float]] = {name: [] for name in runs}
    for _ in range(rounds):  # interleaved, so drift in machine load hits all alike
        for name, fn in runs.items():
            times[name].append(repeated(engine, fn, repeat))
    for name, values in times.items():
        print(
            f"  {name:14} best {min(values) * 1000:8.3f} ms  "
            f"median {statistics.median(values) * 1000:8.3f} ms  "
            f"({', '.join(f'{v * 1000:.3f}' for v in values)})"
        )
    return {name: min(values) for name, values in times.items()}


def bench(backend: str, url: str, threads: int, args: argparse.Namespace) -> None:
    engine = make_engine(url)
    try:
        started = time.perf_counter()
        migrate.upgrade(engine)
        world = make_refs(engine)
        build_world(engine, threads, world)
        built = time.perf_counter() - started
        print(
            f"{backend}: {threads:,} threads, {threads * MESSAGES_PER_THREAD:,} messages "
            f"(and a tenth more for another brand) built in {built:.1f}s"
        )
        sys.stdout.flush()
        best = measure(engine, world, args.rounds, args.repeat)
        for name, label in (
            ("page", "inbox_vs_floor"),
            ("next_page", "inbox_next_page_vs_floor"),
            ("waiting", "inbox_waiting_vs_floor"),
            ("counts", "inbox_counts_vs_floor"),
            ("from_messages", "inbox_from_messages_vs_floor"),
        ):
            print(f"RESULT {label}_{backend} {best[name] / best['floor']:.3f}")
        ratio = best["page"] / best["floor"]
        print(f"goal <= {GOAL}: {'met' if ratio <= GOAL else 'NOT met'}")
        sys.stdout.flush()
    finally:
        engine.dispose()


def drop_postgres(name: str) -> None:
    import psycopg

    with psycopg.connect(PG_ADMIN, autocommit=True, connect_timeout=3) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--quick", action="store_true", help=f"{QUICK_THREADS:,} threads")
    parser.add_argument("--threads", type=int, help=f"threads (default {FULL_THREADS:,})")
    parser.add_argument("--rounds", type=int, default=5, help="timed rounds (5)")
    parser.add_argument("--repeat", type=int, default=200, help="runs per timed figure (200)")
    parser.add_argument(
        "--backend", choices=["sqlite", "postgres", "both"], default="both", help="database(s)"
    )
    parser.add_argument("--keep", action="store_true", help="keep the PostgreSQL database")
    args = parser.parse_args()
    threads = args.threads or (QUICK_THREADS if args.quick else FULL_THREADS)
    backends = ["sqlite", "postgres"] if args.backend == "both" else [args.backend]
    with tempfile.TemporaryDirectory() as tmp:
        for backend in backends:
            if backend == "sqlite":
                bench(backend, f"sqlite:///{Path(tmp) / 'inbox.db'}", threads, args)
                continue
            found = fresh_postgres(PG_DATABASE)
            if found is None:
                print("postgres: not reachable, skipped")
                continue
            try:
                bench(backend, found, threads, args)
            finally:
                if not args.keep:
                    drop_postgres(PG_DATABASE)


if __name__ == "__main__":
    main()
