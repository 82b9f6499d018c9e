"""Benchmark: resolving a campaign audience through the SQL gate against a hand-written floor.

Goal: for 1,000,000 people with mixed relationships and preferences, getting a marketing
e-mail campaign's eligible set the way `campaigns.service.resolve` gets it takes at most 1.3x
the time of a hand-written single SQL query that returns the SAME eligible set (the floor:
joins and EXISTS giving only the eligible person ids), measured in the same run, on SQLite and
on PostgreSQL. What is timed for the gate is `campaigns.service.eligible_batches`, as resolve
runs it: the gate's eligible form (`gate_sql.eligible_select`) over each batch of the audience
(a range of person ids holding about `service.BATCH` people), whose rows are fetched here where
resolve wraps the same SELECTs in INSERT ... SELECT into the outbox; plus a count of the
audience to size the batches (resolve takes that size from the per-reason counts it records,
`reason_counts`, which is timed separately below and not in the headline).

Also timed and reported, for diagnosis (same rounds, same floor): the eligible form over the
whole audience in one statement; the reason form (`gate_sql.gate_select`: every audience
member with its reason) fully fetched; `reason_counts` over it (what a preview runs, and resolve
besides its batches); and both gate forms' rows straight from the DB-API cursor.

Set-up (not measured): the schema from `accord.core.migrate.upgrade` on a fresh SQLite file and
a fresh PostgreSQL database `accord_bench_gate`; two brands, topics and the campaign through
the services; people, relationships in every state, purpose grants, channel and topic choices,
global preferences, e-mail and SMS contact points (some unverified or suppressed) and sent
outbox rows for the caps, all inserted set-based (INSERT ... SELECT over generate_series on
PostgreSQL, over a recursive CTE on SQLite), rows derived from the person's number so both
backends get the same mix. PostgreSQL then gets VACUUM ANALYZE (what autovacuum would do);
SQLite is left as Accord leaves it (no ANALYZE; `--sqlite-analyze` to add one).

The floor is the faster (in this run, per backend) of two hand-written statements: EXISTS
with correlated cap counts, and joins on the choice tables' keys with the caps aggregated once.
Both apply the terms rule too, written plainly (`_floor_terms.py`): the gate must apply it, so a
floor for the gate's set in any world must as well (without it the floors matched the gate only
because the world holds no terms, and skipped work the gate does; here it keeps nobody out).
Both must return exactly the gate's NULL-reason rows, as must the eligible form and resolve's
batches, and reason_counts must equal the counted full fetch. Rounds are interleaved; the best
of each is kept. Prints `RESULT gate_vs_floor_<backend> <ratio>` (ratio = resolve's eligible
batches / floor, goal <= 1.3) and, for diagnosis, with the same floor:
`gate_eligible_one_statement_vs_floor_<backend>`, `gate_reasons_full_fetch_vs_floor_<backend>`
(every member with its reason, fetched), `reason_counts_vs_floor_<backend>`, and
`eligible_sql_only_vs_floor_<backend>` / `reasons_sql_only_vs_floor_<backend>` (the one-statement
forms' rows straight from the DB-API cursor against the floors' likewise: the SQL alone).
Jurisdictions: each person also has a place (where the law sees them: US-FL, US, US-CA, CA-ON,
DE, US-OK or none) and Florida's and Oklahoma's people some marketing texts on the topic in the
last 24 hours. The same audience is then measured again for an SMS marketing campaign, with the
shipped legal rules loaded (the migration loads `compliance/rules.toml`): the gate reads the
rules of each person's place (windows, which resolve defers rather than drops, and the states'
3 texts a topic in 24 hours), and the floors add, per frequency limit the rules name, the
strictest `max` of the rules covering the person's place read from the rules tables by hand-
written SQL. Both must again return the same set (the gate's NULL or deferring reasons, what
resolve writes): `RESULT gate_vs_floor_<backend>_sms <ratio>` (goal <= 1.3) and the same
diagnostics with `_sms`.
`--quick` uses 50,000 people.
`--explain` prints the plans (EXPLAIN ANALYZE on PostgreSQL, EXPLAIN QUERY PLAN on SQLite).
"""

from __future__ import annotations

import argparse
import dataclasses
import importlib.util
import statistics
import sys
import tempfile
import time
import uuid
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import partial
from pathlib import Path
from typing import Any

from _common import PG_ADMIN, fresh_postgres
from _gate_floor import FLOORS, floor_query
from _gate_world import World, build_world, finish_build, make_refs
from sqlalchemy import Select, text
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session
from sqlalchemy.sql import Executable
from sqlalchemy.sql.selectable import TextualSelect

from accord.campaigns import service as campaigns
from accord.campaigns.audience import audience_of
from accord.campaigns.gate_rules import DEFERRING, Sending
from accord.campaigns.gate_sql import eligible_select, gate_select, reason_counts
from accord.campaigns.models import Campaign
from accord.core import migrate
from accord.core.db import make_engine
from accord.relationships.vocabulary import Channel, Purpose

GOAL = 1.3
FULL_PEOPLE = 1_000_000
QUICK_PEOPLE = 50_000
PG_DATABASE = "accord_bench_gate"


# --- the gate ------------------------------------------------------------------------------


GateSelect = Callable[..., Any]  # a Select of the audience's columns


@dataclass(frozen=True)
class Gate:
    """The gate under test: Accord's, or a candidate loaded with --gate-from."""

    select: GateSelect
    eligible: GateSelect
    counts: Callable[[Session, Select[Any]], dict[str, int]]

    def _args(self, session: Session, world: World) -> tuple[Sending, Any]:
        campaign = session.get_one(Campaign, world.campaign)
        channel = Channel(campaign.channel)
        sending = Sending(world.brand, Purpose.marketing, world.topic, channel, world.at)
        return sending, audience_of(campaign)

    def query(self, session: Session, world: World) -> Select[Any]:
        """Every audience member with their reason (previews, reports)."""
        return self.select(session, *self._args(session, world))

    def eligible_query(self, session: Session, world: World) -> Select[Any]:
        """The eligible form over the whole audience in one statement (no batches)."""
        return self.eligible(session, *self._args(session, world), deferred=True)


def load_gate(path: str | None) -> Gate:
    if path is None:
        return Gate(gate_select, eligible_select, reason_counts)
    spec = importlib.util.spec_from_file_location("candidate_gate_sql", path)
    assert spec is not None and spec.loader is not None, path
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    # resolve (campaigns.service.eligible_batches) builds its batches with the candidate's.
    campaigns.eligible_select = module.eligible_select  # type: ignore[attr-defined]
    return Gate(module.gate_select, module.eligible_select, module.reason_counts)


def run_floor(session: Session, floor: TextualSelect) -> set[uuid.UUID]:
    return set(session.scalars(floor))


def run_gate(session: Session, gate: Gate, world: World) -> tuple[Counter[str], set[uuid.UUID]]:
    """The gate fully fetched: counts per reason and the eligible set, from one statement."""
    counts: Counter[str] = Counter()
    eligible: set[uuid.UUID] = set()
    for row in session.execute(gate.query(session, world)):
        counts[row.reason or "eligible"] += 1
        if row.reason is None or row.reason in DEFERRING:  # resolve writes the deferred too
            eligible.add(row.person_id)
    return counts, eligible


def run_gate_eligible(session: Session, gate: Gate, world: World) -> set[uuid.UUID]:
    return set(session.scalars(gate.eligible_query(session, world)))


def run_resolve_eligible(session: Session, world: World) -> set[uuid.UUID]:
    """What `resolve` runs to get the eligible set: `campaigns.service.eligible_batches`, each
    batch's boundary query and its eligible SELECT (which resolve wraps in INSERT … SELECT)."""
    campaign = session.get_one(Campaign, world.campaign)
    eligible: set[uuid.UUID] = set()
    for query in campaigns.eligible_batches(session, campaign, world.at):
        eligible.update(session.scalars(query))
    return eligible


def run_counts(session: Session, gate: Gate, world: World) -> dict[str, int]:
    """The audience counted by reason (preview; resolve also records these counts)."""
    return gate.counts(session, gate.query(session, world))


def run_driver(session: Session, statement: Executable) -> int:
    """SQL only: the rows straight from the DB-API cursor, no SQLAlchemy row processing."""
    result = session.connection().execute(statement)
    rows = len(result.cursor.fetchall())
    result.close()
    return rows


def explain(engine: Engine, session: Session, world: World, gate: Gate) -> None:
    pg = engine.dialect.name == "postgresql"
    statements: dict[str, TextualSelect | Select[Any]] = {
        name: floor_query(engine, world, sql, world.channel) for name, sql in FLOORS.items()
    }
    statements["gate_reasons"] = gate.query(session, world)
    statements["gate_eligible"] = gate.eligible_query(session, world)
    for name, statement in statements.items():
        compiled = statement.compile(engine, compile_kwargs={"literal_binds": True})
        prefix = "EXPLAIN (ANALYZE, BUFFERS) " if pg else "EXPLAIN QUERY PLAN "
        rows = session.execute(text(prefix + str(compiled))).all()
        print(f"--- {engine.dialect.name} {name} plan ---")
        for row in rows:
            print("  " + (row[0] if pg else f"{row[0]:>4} {row[1]:>4} {row[3]}"))


# --- measuring -------------------------------------------------------------------------------


def timed(engine: Engine, fn: Callable[[Session], object], jit: str | None) -> float:
    """One run in a fresh session (as a worker or request would have), wall-clock seconds."""
    with Session(engine) as session:
        if jit is not None and engine.dialect.name == "postgresql":
            session.execute(text(f"SET jit = {jit}"))
        start = time.perf_counter()
        fn(session)
        return time.perf_counter() - start


def check_agreement(engine: Engine, world: World, gate: Gate) -> None:
    with Session(engine) as session:
        counts, eligible = run_gate(session, gate, world)
        print(f"  audience {sum(counts.values())}: " + ", ".join(
            f"{k} {v}" for k, v in counts.most_common()
        ))  # fmt: skip
        for name, sql in FLOORS.items():
            floor = run_floor(session, floor_query(engine, world, sql, world.channel))
            if floor != eligible:
                raise AssertionError(
                    f"{name} and the gate disagree: {len(floor - eligible)} only in the floor, "
                    f"{len(eligible - floor)} only in the gate"
                )
        if run_gate_eligible(session, gate, world) != eligible:
            raise AssertionError("the gate's eligible form differs from its NULL-reason rows")
        if run_resolve_eligible(session, world) != eligible:
            raise AssertionError("resolve's eligible batches differ from the NULL-reason rows")
        if dict(counts) != gate.counts(session, gate.query(session, world)):
            raise AssertionError("reason_counts differs from the counted full fetch")


def measure(
    engine: Engine, world: World, gate: Gate, rounds: int, args: argparse.Namespace
) -> dict[str, float]:
    check_agreement(engine, world, gate)
    if args.explain:
        with Session(engine) as session:
            explain(engine, session, world, gate)
    floors = {name: floor_query(engine, world, sql, world.channel) for name, sql in FLOORS.items()}
    runs: dict[str, Callable[[Session], object]] = {
        **{name: partial(run_floor, floor=query) for name, query in floors.items()},
        "resolve": lambda s: run_resolve_eligible(s, world),
        "gate_eligible": lambda s: run_gate_eligible(s, gate, world),
        "gate_reasons": lambda s: run_gate(s, gate, world),
        "reason_counts": lambda s: run_counts(s, gate, world),
        **{f"{name}_sql": partial(run_driver, statement=q) for name, q in floors.items()},
        "eligible_sql": lambda s: run_driver(s, gate.eligible_query(s, world)),
        "reasons_sql": lambda s: run_driver(s, gate.query(s, world)),
    }
    times: dict[str, list[float]] = {name: [] for name in runs}
    for _ in range(rounds):  # interleaved, so drift in machine load hits all alike
        for name, fn in runs.items():
            times[name].append(timed(engine, fn, args.pg_jit))
    for name, values in times.items():
        print(
            f"  {name:18} best {min(values):8.3f}s  median {statistics.median(values):8.3f}s  "
            f"({', '.join(f'{v:.3f}' for v in values)})"
        )
    best = {name: min(values) for name, values in times.items()}
    best["floor"] = min(best["floor_exists"], best["floor_join"])
    best["floor_sql"] = min(best["floor_exists_sql"], best["floor_join_sql"])
    return best


def bench(backend: str, url: str, people: int, gate: Gate, args: argparse.Namespace) -> None:
    engine = make_engine(url)
    try:
        started = time.perf_counter()
        migrate.upgrade(engine)
        at = datetime.now(UTC).replace(microsecond=0)
        world = make_refs(engine, at)
        build_world(engine, people, world)
        finish_build(engine, args.sqlite_analyze)
        print(f"{backend}: world of {people} people built in {time.perf_counter() - started:.1f}s")
        sys.stdout.flush()
        for measured, suffix in ((world, ""), (texted(world), "_sms")):
            if suffix:
                print(f"{backend}: the same audience texted, the legal rules of each place loaded")
            report(engine, measured, gate, args, backend + suffix)
    finally:
        engine.dispose()


def texted(world: World) -> World:
    assert world.sms_campaign is not None
    return dataclasses.replace(world, campaign=world.sms_campaign, channel="sms")


def report(engine: Engine, world: World, gate: Gate, args: argparse.Namespace, tag: str) -> None:
    """Measure one campaign and print its RESULT lines, `tag` being the backend (and _sms)."""
    best = measure(engine, world, gate, args.rounds, args)
    for name, label, floor in (
        ("resolve", "gate_vs_floor", "floor"),
        ("gate_eligible", "gate_eligible_one_statement_vs_floor", "floor"),
        ("gate_reasons", "gate_reasons_full_fetch_vs_floor", "floor"),
        ("reason_counts", "reason_counts_vs_floor", "floor"),
        ("eligible_sql", "eligible_sql_only_vs_floor", "floor_sql"),
        ("reasons_sql", "reasons_sql_only_vs_floor", "floor_sql"),
    ):
        print(f"RESULT {label}_{tag} {best[name] / best[floor]:.3f}")
    ratio = best["resolve"] / best["floor"]
    print(f"goal <= {GOAL}: {'met' if ratio <= GOAL else 'NOT met'}")
    sys.stdout.flush()


def drop_postgres(name: str) -> None:
    import psycopg

    with psycopg.connect(PG_ADMIN, autocommit=True, connect_timeout=3) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--quick", action="store_true", help=f"{QUICK_PEOPLE:,} people")
    parser.add_argument("--people", type=int, help=f"people (default {FULL_PEOPLE:,})")
    parser.add_argument("--rounds", type=int, help="timed rounds per query (3; quick: 2)")
    parser.add_argument(
        "--backend", choices=["sqlite", "postgres", "both"], default="both", help="database(s)"
    )
    parser.add_argument("--explain", action="store_true", help="print the queries' plans")
    parser.add_argument("--sqlite-analyze", action="store_true", help="ANALYZE the SQLite file")
    parser.add_argument(
        "--pg-jit",
        choices=["on", "off"],
        help="set jit for every timed session on PostgreSQL (default: the server's setting)",
    )
    parser.add_argument(
        "--gate-from",
        metavar="FILE",
        help="time a candidate gate_sql.py (its gate_select, eligible_select and reason_counts;\n"
        "resolve's batches use its eligible_select) instead of accord.campaigns.gate_sql,\n"
        "e.g. to try a proposed patch without installing it",
    )
    parser.add_argument("--keep", action="store_true", help="keep the PostgreSQL database")
    args = parser.parse_args()
    people = args.people or (QUICK_PEOPLE if args.quick else FULL_PEOPLE)
    args.rounds = args.rounds or (2 if args.quick else 3)
    gate = load_gate(args.gate_from)
    backends = ["sqlite", "postgres"] if args.backend == "both" else [args.backend]
    with tempfile.TemporaryDirectory() as tmp:
        for backend in backends:
            if backend == "sqlite":
                url = f"sqlite:///{Path(tmp) / 'gate.db'}"
                bench(backend, url, people, gate, args)
                continue
            found = fresh_postgres(PG_DATABASE)
            if found is None:
                print("postgres: not reachable, skipped")
                continue
            try:
                bench(backend, found, people, gate, args)
            finally:
                if not args.keep:
                    drop_postgres(PG_DATABASE)


if __name__ == "__main__":
    main()
