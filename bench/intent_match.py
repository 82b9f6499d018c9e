"""Benchmark: the SQL that lists the intents a brand may answer, against a hand-written floor.

Goal: with 100,000 open intents and 1,000 brands, each subscribed to a few of the taxonomy's
categories and publishing a few personal agreements as accepted, listing the intents one brand
may answer now the way Accord does (`accord.intents.service.answerable_ids`: open, unexpired,
of a subscribed category, person has not blocked the brand, not answered by it yet, every
required term published as accepted by the brand; newest first) takes at most 1.3x the time of
a hand-written single SQL query that returns the SAME ids in the same order, measured in the
same run, on SQLite and on PostgreSQL. Both are fetched in full through the same connection;
the sets are compared for every brand measured. Rounds are interleaved and the best of each
kept per brand; the ratio is the sum over the brands measured.

Prints `RESULT intent_match_vs_floor_sqlite <ratio>`, `RESULT intent_match_vs_floor_postgres
<ratio>` and `RESULT intent_match_vs_floor <the larger>` (goal <= 1.3), and the rows per brand.
`--quick` uses 10,000 intents, 100 brands and fewer brands measured (within a minute).
"""

from __future__ import annotations

import argparse
import random
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

from _common import fresh_postgres
from sqlalchemy import Uuid, bindparam, column, insert, text
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from accord.brands.models import Brand
from accord.core import migrate
from accord.core.db import UTCDateTime, make_engine
from accord.intents import service as intents
from accord.intents.models import Block, Intent, IntentTerm, Offer, Subscription
from accord.people.models import Person
from accord.terms.models import BrandAcceptance

ROSTER = ["service-only", "service-only-portable", "no-stalking", "no-sharing", "no-ai-training",
          "intent-only"]  # fmt: skip
CATEGORIES = list(intents.CATEGORIES)
FLOOR = (
    text(
        """
    SELECT i.id FROM intents i
    JOIN intent_subscriptions s ON s.category = i.category AND s.brand_id = :brand
    WHERE i.status = 'open' AND i.expires_at > :now
      AND NOT EXISTS (SELECT 1 FROM intent_blocks k
                      WHERE k.person_id = i.person_id AND k.brand_id = :brand)
      AND NOT EXISTS (SELECT 1 FROM intent_offers o
                      WHERE o.intent_id = i.id AND o.brand_id = :brand)
      AND NOT EXISTS (SELECT 1 FROM intent_terms t
                      WHERE t.intent_id = i.id
                        AND NOT EXISTS (SELECT 1 FROM terms_brand_accepts a
                                        WHERE a.brand_id = :brand AND a.slug = t.slug
                                          AND a.version = t.version))
    ORDER BY i.created_at DESC, i.id DESC
    """
    )
    .bindparams(bindparam("brand", type_=Uuid()), bindparam("now", type_=UTCDateTime()))
    .columns(column("id", Uuid()))
)


def build(engine: Engine, n_intents: int, n_brands: int, seed: int = 7) -> list[uuid.UUID]:
    """The world, set-based; returns the brands' ids."""
    rng = random.Random(seed)
    migrate.upgrade(engine)
    now = datetime.now(UTC)
    people = [uuid.uuid4() for _ in range(max(n_intents // 5, 100))]
    brands = [uuid.uuid4() for _ in range(n_brands)]
    with Session(engine) as session:
        session.execute(insert(Person), [
            {"id": p, "email": f"p{i}@bench.example", "display_name": "", "time_zone": "UTC",
             "locale": "en", "created_at": now}
            for i, p in enumerate(people)
        ])  # fmt: skip
        session.execute(insert(Brand), [
            {"id": b, "name": f"Brand {i}", "slug": f"brand-{i}", "kind": "",
             "sender_name": "B", "sender_email": f"b{i}@bench.example",
             "support_email": f"s{i}@bench.example", "send_rate_per_second": 100,
             "created_at": now}
            for i, b in enumerate(brands)
        ])  # fmt: skip
        session.execute(insert(Subscription), [
            {"brand_id": b, "category": c, "created_at": now}
            for b in brands for c in rng.sample(CATEGORIES, rng.randint(2, 6))
        ])  # fmt: skip
        session.execute(insert(BrandAcceptance), [
            {"brand_id": b, "slug": s, "version": 1, "created_at": now}
            for b in brands for s in rng.sample(ROSTER, rng.randint(0, 4))
        ])  # fmt: skip
        rows, required = [], []
        for i in range(n_intents):
            intent_id = uuid.uuid4()
            status = "open" if rng.random() < 0.9 else rng.choice(["closed", "withdrawn"])
            days = rng.randint(-3, 40)  # a few expired
            rows.append({
                "id": intent_id, "person_id": rng.choice(people),
                "pseudonym": f"Shopper {i:08d}", "category": rng.choice(CATEGORIES),
                "description": "A thing I want to buy.", "budget_min": Decimal("10"),
                "budget_max": Decimal("100"), "currency": "EUR",
                "timeframe_end": now + timedelta(days=days - 1),
                "expires_at": now + timedelta(days=days), "country": "DE",
                "subdivision": None, "channel": "email", "status": status,
                "created_at": now - timedelta(seconds=n_intents - i),
            })  # fmt: skip
            for slug in rng.sample(ROSTER, rng.choice([0, 0, 1, 1, 2])):
                required.append({"intent_id": intent_id, "slug": slug, "version": 1})
        session.execute(insert(Intent), rows)
        session.execute(insert(IntentTerm), required)
        pairs = {(rng.choice(rows)["id"], rng.choice(brands)) for _ in range(n_intents // 2)}
        session.execute(insert(Offer), [
            {"id": uuid.uuid4(), "intent_id": i, "brand_id": b, "price": Decimal("50"),
             "currency": "EUR", "description": "An offer.", "expires_at": now + timedelta(days=5),
             "terms": [], "status": "open", "created_at": now}
            for i, b in pairs
        ])  # fmt: skip
        blocks = {(rng.choice(people), rng.choice(brands)) for _ in range(n_intents // 20)}
        session.execute(insert(Block), [
            {"person_id": p, "brand_id": b, "created_at": now} for p, b in blocks
        ])  # fmt: skip
        session.commit()
    with engine.begin() as connection:
        connection.exec_driver_sql("ANALYZE")
    return brands


def measure(engine: Engine, brands: list[uuid.UUID], rounds: int) -> tuple[float, int]:
    """(service time / floor time, rows per brand on average); checks both give the same ids."""
    now = datetime.now(UTC)
    best_service = {b: float("inf") for b in brands}
    best_floor = {b: float("inf") for b in brands}
    total_rows = 0
    with Session(engine) as session:
        for round_ in range(rounds):
            for brand in brands:
                started = time.perf_counter()
                ours = intents.answerable_ids(session, brand, now)
                middle = time.perf_counter()
                floor = session.execute(FLOOR, {"brand": brand, "now": now}).scalars().all()
                ended = time.perf_counter()
                if list(ours) != list(floor):
                    raise SystemExit(f"brand {brand}: the service and the floor disagree")
                best_service[brand] = min(best_service[brand], middle - started)
                best_floor[brand] = min(best_floor[brand], ended - middle)
                if round_ == 0:
                    total_rows += len(ours)
            session.rollback()
    return sum(best_service.values()) / sum(best_floor.values()), total_rows // len(brands)


def run(backend: str, engine: Engine, args: argparse.Namespace) -> float:
    started = time.perf_counter()
    brands = build(engine, args.intents, args.brands)
    print(f"{backend}: {args.intents:,} intents, {args.brands:,} brands built in "
          f"{time.perf_counter() - started:.1f} s", flush=True)  # fmt: skip
    sample = random.Random(3).sample(brands, min(args.measured, len(brands)))
    ratio, rows = measure(engine, sample, args.rounds)
    print(f"{backend}: {len(sample)} brands measured, {rows:,} answerable intents each on "
          f"average, best of {args.rounds} rounds")  # fmt: skip
    print(f"RESULT intent_match_vs_floor_{backend} {ratio:.3f}", flush=True)
    return ratio


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--quick", action="store_true", help="10,000 intents, 100 brands")
    parser.add_argument("--intents", type=int, default=100_000)
    parser.add_argument("--brands", type=int, default=1_000)
    parser.add_argument("--measured", type=int, default=40, help="brands timed")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--backend", choices=["sqlite", "postgres", "both"], default="both")
    args = parser.parse_args()
    if args.quick:
        args.intents, args.brands, args.measured, args.rounds = 10_000, 100, 10, 3
    ratios = []
    if args.backend in ("sqlite", "both"):
        with tempfile.TemporaryDirectory() as tmp:
            engine = make_engine(f"sqlite:///{Path(tmp) / 'intents.db'}")
            ratios.append(run("sqlite", engine, args))
            engine.dispose()
    if args.backend in ("postgres", "both"):
        url = fresh_postgres(f"accord_bench_intents_{uuid.uuid4().hex[:8]}")
        if url is None:
            print("PostgreSQL is not reachable: skipped", file=sys.stderr)
        else:
            engine = make_engine(url)
            try:
                ratios.append(run("postgres", engine, args))
            finally:
                engine.dispose()
                _drop(url)
    if ratios:
        print(f"RESULT intent_match_vs_floor {max(ratios):.3f}")


def _drop(url: str) -> None:
    import psycopg
    from _common import PG_ADMIN

    name = url.rsplit("/", 1)[1]
    with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


if __name__ == "__main__":
    main()
