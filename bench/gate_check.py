"""Benchmark: the gate as a service (`POST /api/v1/gate/check`) against a hand-written floor.

Goal: answering 10,000 (person, e-mail, marketing topic) items in one call takes at most 1.5x
the time of a hand-written single SQL query that answers the same question for the same people
(for each: allowed, or the first rule that refuses), measured in the same run, on SQLite and on
PostgreSQL.

What is timed for the gate: what the API does between the parsed JSON and the JSON answer:
validating the request body (`CheckRequest`, 10,000 items), `gatecheck.service.check` (topic
and person look-ups, the gate's facts for every person in one query, the per-message rules,
the usage counter) and building the answers. The floor: a hand-written CASE over the people
asked about, one WHEN per rule of a marketing e-mail in the gate's order, giving each person's
reason (NULL: allowed). Both must give every item the same answer. Also printed, for
diagnosis: against the allowed-only floor (`bench/gate_audience.py`'s EXISTS query restricted
to the same people: who may be sent to, without reasons).

Set-up (not measured): `gate_audience`'s world (people in every relationship state, grants,
choices, preferences, contact points, sent messages for the caps) of 200,000 people (`--quick`:
40,000); the 10,000 items are people drawn from the whole population (related or not, so some
are `no_relationship`). Rounds are interleaved; the best of each is kept.
Prints `RESULT gate_check_vs_floor_<backend> <ratio>` (goal <= 1.5) and
`RESULT gate_check_vs_allowed_only_floor_<backend> <ratio>`.
"""

from __future__ import annotations

import argparse
import random
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import _gate_floor
import _gate_world
import gate_audience as world_of
from _common import fresh_postgres
from sqlalchemy import bindparam, select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from accord.campaigns.gate_rules import CAP_WINDOW
from accord.core import migrate
from accord.core.db import make_engine
from accord.gatecheck import service
from accord.gatecheck.schemas import CheckRequest
from accord.people.models import Person
from accord.relationships.models import Topic

GOAL = 1.5
ITEMS = 10_000
FULL_PEOPLE = 200_000
QUICK_PEOPLE = 40_000
PG_DATABASE = "accord_bench_gate_check"


# The floor: every item's answer (NULL, or the first rule that fails) written by hand for a
# marketing e-mail (no quiet hours on e-mail), over the people asked about.
FLOOR_REASONS = """
SELECT p.id,
  CASE
    WHEN r.person_id IS NULL OR r.state = 'invited' THEN 'no_relationship'
    WHEN (r.state = 'paused' AND (r.paused_until IS NULL OR r.paused_until > :at))
      OR (g.paused_until IS NOT NULL AND g.paused_until > :at) THEN 'paused'
    WHEN r.state = 'ended' THEN 'ended'
    WHEN NOT EXISTS (SELECT 1 FROM purpose_grants pg
                     WHERE pg.person_id = p.id AND pg.brand_id = :brand
                       AND pg.purpose = 'marketing' AND pg.status = 'granted')
      THEN 'no_marketing_consent'
    WHEN NOT EXISTS (SELECT 1 FROM channel_choices cc
                     WHERE cc.person_id = p.id AND cc.brand_id = :brand
                       AND cc.purpose = 'marketing' AND cc.channel = 'email')
      THEN 'channel_not_chosen'
    WHEN NOT EXISTS (SELECT 1 FROM topic_choices tc
                     WHERE tc.person_id = p.id AND tc.topic_id = :topic) THEN 'topic_not_chosen'
    WHEN g.do_not_contact = {true} THEN 'global_opt_out'
    WHEN NOT EXISTS (SELECT 1 FROM contact_points cp
                     WHERE cp.person_id = p.id AND cp.channel = 'email') THEN 'no_contact_point'
    WHEN NOT EXISTS (SELECT 1 FROM contact_points cp
                     WHERE cp.person_id = p.id AND cp.channel = 'email'
                       AND cp.verified_at IS NOT NULL) THEN 'unverified'
    WHEN NOT EXISTS (SELECT 1 FROM contact_points cp
                     WHERE cp.person_id = p.id AND cp.channel = 'email'
                       AND cp.verified_at IS NOT NULL AND cp.suppressed_reason IS NULL)
      THEN 'suppressed'
    WHEN (SELECT count(*) FROM outbox o
          WHERE o.person_id = p.id AND o.purpose = 'marketing' AND o.sent_at > :since
            AND o.state = 'sent' AND o.brand_id = :brand) >= r.brand_cap THEN 'brand_cap'
    WHEN (SELECT count(*) FROM outbox o
          WHERE o.person_id = p.id AND o.purpose = 'marketing' AND o.sent_at > :since
            AND o.state = 'sent') >= COALESCE(g.global_cap, 10) THEN 'global_cap'
  END AS reason
FROM people p
LEFT JOIN relationships r ON r.person_id = p.id AND r.brand_id = :brand
LEFT JOIN global_preferences g ON g.person_id = p.id
WHERE {among}
"""


def reasons_floor_sql(engine: Engine) -> str:
    pg = engine.dialect.name == "postgresql"
    among = "p.id = ANY(:ids)" if pg else "p.id IN :ids"
    return FLOOR_REASONS.format(true="TRUE" if pg else "1", among=among)


def floor_sql(engine: Engine, world: Any) -> tuple[str, dict[str, Any]]:
    """gate_audience's allowed-only floor, for the people in `:ids` only."""
    pg = engine.dialect.name == "postgresql"
    among = "r.person_id = ANY(:ids)" if pg else "r.person_id IN :ids"
    sql, params = _gate_floor.fill_floor(engine, world, _gate_floor.FLOOR_EXISTS)
    return sql.replace(
        "WHERE r.brand_id = :brand", f"WHERE r.brand_id = :brand AND {among}"
    ), params


def run_floor(
    session: Session, engine: Engine, world: Any, ids: list[uuid.UUID], sql: str | None = None
) -> Any:
    """The allowed-only floor (a set of ids), or with `sql` the reasons floor ({id: reason})."""
    pg = engine.dialect.name == "postgresql"
    if sql is None:
        filled, params = floor_sql(engine, world)
    else:
        filled = sql
        params = {
            "brand": world.brand,
            "topic": world.topic,
            "at": world.at,
            "since": world.at - CAP_WINDOW,
        }
    clause = _gate_world.bound(filled, params)
    if pg:
        from sqlalchemy import Uuid
        from sqlalchemy.dialects.postgresql import ARRAY

        clause = clause.bindparams(bindparam("ids", ids, type_=ARRAY(Uuid())))
    else:
        clause = clause.bindparams(bindparam("ids", [i.hex for i in ids], expanding=True))
    if sql is not None:
        return {uuid.UUID(str(row[0])): row[1] for row in session.execute(clause)}
    return {uuid.UUID(str(row[0])) for row in session.execute(clause)}


def run_check(session: Session, world: Any, body: dict[str, Any]) -> list[dict[str, Any]]:
    request = CheckRequest.model_validate(body)
    decisions = service.check(session, world.brand, request.items, request.at)
    answers = [
        {"allowed": d.allowed, "reason": d.reason, "defer_until": d.defer_until} for d in decisions
    ]
    session.rollback()  # the usage counter: each round starts from the same state
    return answers


def timed(engine: Engine, fn: Any) -> tuple[float, Any]:
    with Session(engine) as session:
        start = time.perf_counter()
        out = fn(session)
        return time.perf_counter() - start, out


def bench(backend: str, url: str, people: int, rounds: int) -> None:
    engine = make_engine(url)
    try:
        started = time.perf_counter()
        migrate.upgrade(engine)
        world = _gate_world.make_refs(engine, datetime.now(UTC).replace(microsecond=0))
        _gate_world.build_world(engine, people, world)
        _gate_world.finish_build(engine, False)
        with Session(engine) as session:
            everyone = list(session.scalars(select(Person.id)))
            slug = session.scalars(select(Topic.slug).where(Topic.id == world.topic)).one()
        ids = random.Random(7).sample(everyone, min(ITEMS, len(everyone)))
        body = {
            "items": [{"person_id": str(i), "channel": "email", "topic": slug} for i in ids],
            "at": world.at.isoformat(),
        }
        print(f"{backend}: world of {people} people built in {time.perf_counter() - started:.1f}s")
        _, answers = timed(engine, lambda s: run_check(s, world, body))
        _, allowed = timed(engine, lambda s: run_floor(s, engine, world, ids))
        reasons_sql = reasons_floor_sql(engine)
        _, reasons = timed(engine, lambda s: run_floor(s, engine, world, ids, reasons_sql))
        from_check = {i for i, a in zip(ids, answers, strict=True) if a["allowed"]}
        if from_check != allowed:
            raise AssertionError(
                f"the check and the floor disagree: {len(from_check - allowed)} only in the "
                f"check, {len(allowed - from_check)} only in the floor"
            )
        differ = [
            i
            for i, a in zip(ids, answers, strict=True)
            if reasons.get(i) != a["reason"]
            and not (i not in reasons and a["reason"] == "no_relationship")
        ]
        if differ:
            raise AssertionError(f"the check and the reasons floor disagree on {len(differ)}")
        print(f"  {len(ids)} items, {len(allowed)} allowed")
        runs = {
            "check": lambda s: run_check(s, world, body),
            "floor": lambda s: run_floor(s, engine, world, ids, reasons_sql),
            "floor_allowed_only": lambda s: run_floor(s, engine, world, ids),
        }
        times: dict[str, list[float]] = {name: [] for name in runs}
        for _ in range(rounds):
            for name, fn in runs.items():
                times[name].append(timed(engine, fn)[0])
        for name, values in times.items():
            print(f"  {name:20} best {min(values):.4f}s ({', '.join(f'{t:.4f}' for t in values)})")
        best = {name: min(values) for name, values in times.items()}
        ratio = best["check"] / best["floor"]
        print(f"RESULT gate_check_vs_floor_{backend} {ratio:.3f}")
        print(
            f"RESULT gate_check_vs_allowed_only_floor_{backend} "
            f"{best['check'] / best['floor_allowed_only']:.3f}"
        )
        print(f"goal <= {GOAL}: {'met' if ratio <= GOAL else 'NOT met'}")
        sys.stdout.flush()
    finally:
        engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--quick", action="store_true", help=f"{QUICK_PEOPLE:,} people")
    parser.add_argument("--people", type=int, help=f"people (default {FULL_PEOPLE:,})")
    parser.add_argument("--rounds", type=int, default=5, help="timed rounds (5)")
    parser.add_argument("--backend", choices=["sqlite", "postgres", "both"], default="both")
    args = parser.parse_args()
    people = args.people or (QUICK_PEOPLE if args.quick else FULL_PEOPLE)
    backends = ["sqlite", "postgres"] if args.backend == "both" else [args.backend]
    with tempfile.TemporaryDirectory() as tmp:
        for backend in backends:
            if backend == "sqlite":
                bench(backend, f"sqlite:///{Path(tmp) / 'check.db'}", people, args.rounds)
                continue
            found = fresh_postgres(PG_DATABASE)
            if found is None:
                print("postgres: not reachable, skipped")
                continue
            try:
                bench(backend, found, people, args.rounds)
            finally:
                world_of.drop_postgres(PG_DATABASE)


if __name__ == "__main__":
    main()
