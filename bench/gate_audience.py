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
import re
import statistics
import sys
import tempfile
import time
import uuid
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import partial
from pathlib import Path
from typing import Any

from _common import BENCH_SECRET, PG_ADMIN, fresh_postgres
from _floor_terms import TERMS
from sqlalchemy import BindParameter, Select, TextClause, Uuid, bindparam, text
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session
from sqlalchemy.sql import Executable
from sqlalchemy.sql.selectable import TextualSelect

from accord.brands import service as brands
from accord.brands.schemas import BrandCreate
from accord.campaigns import service as campaigns
from accord.campaigns.audience import audience_of
from accord.campaigns.gate_rules import CAP_WINDOW, DEFERRING, Sending
from accord.campaigns.gate_sql import eligible_select, gate_select, reason_counts
from accord.campaigns.models import Campaign
from accord.campaigns.schemas import CampaignCreate
from accord.core import migrate
from accord.core.db import UTCDateTime, make_engine
from accord.relationships import topics
from accord.relationships.schemas import TopicCreate
from accord.relationships.vocabulary import Channel, Purpose

GOAL = 1.3
FULL_PEOPLE = 1_000_000
QUICK_PEOPLE = 50_000
PG_DATABASE = "accord_bench_gate"
ZONES = ("UTC", "Europe/Berlin", "America/New_York", "Asia/Kolkata", "Pacific/Auckland")


@dataclass(frozen=True)
class World:
    brand: uuid.UUID
    other: uuid.UUID
    topic: uuid.UUID
    topic2: uuid.UUID
    other_topic: uuid.UUID
    campaign: uuid.UUID
    at: datetime
    # The same audience texted (SMS marketing): the legal rules of each person's place apply.
    sms_campaign: uuid.UUID | None = None
    channel: str = "email"  # the campaign measured: `campaign`'s channel


# --- the world -------------------------------------------------------------------------------

# Each person's mix follows from their number n (1..N) through a few independent residues:
#   A = n % 20          relationship with the brand: 0 none, 1 invited, 2 paused (no end),
#                       3 paused until yesterday, 4 ended, 5 paused until tomorrow, else active;
#                       brand_cap 1 when n % 7 = 0, else 10 in Florida and Oklahoma (L 0
#                       and 5: their texts below meet the state's limit first), else 3.
#                       n % 3 = 0 (or A = 0): also a
#                       relationship with another brand (grants, choices there too).
#   G = (n * 7) % 23    global preferences: 0 do-not-contact, 1 paused until tomorrow,
#                       2 paused until yesterday, 3 global cap 2 + quiet hours, 4..8 plain row,
#                       else no row.
#   P = (n * 11) % 17   marketing grant: 0 none, 1 pending, else granted (+ profiling if P%3=0).
#   C = (n * 13) % 19   channels: 0 none, 1 marketing sms, 2 transactional email, else
#                       marketing email (+ marketing sms if C%2=0, + transactional email if C%3=0).
#   T = (n * 17) % 29   topics: 0 none, 1 the brand's other topic only, else the campaign's
#                       topic (+ the other topic if T%2=0).
#   E = (n * 19) % 31   e-mail points: 0 none, 1 unverified, 2 suppressed, 3 unverified +
#                       verified, 4 suppressed + verified, else one verified (+ SMS if n%4=0).
#   S = (n * 23) % 37   sent outbox rows: 0 three here in the cap window, 1 ten elsewhere,
#                       2 two elsewhere + one here, 3 five here but older than the window,
#                       4 one failed here, 5 four transactional here.
#   L = n % 8           where the law sees the person (people.place_country/_subdivision, as
#                       their verified number sets it), and their SMS number's country:
#                       0 US-FL, 1 US, 2 US-CA (no rule of its own: the US's), 3 CA-ON, 4 DE,
#                       5 US-OK, else none (everywhere's rules only).
#   F = (n * 31) % 5    in Florida and Oklahoma: F marketing texts on the campaign's topic in
#                       the last 24 hours (3 or more: the state's limit is reached).

SQLITE_IDS = """
WITH RECURSIVE s(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM s WHERE n < :people)
INSERT INTO bench_ids (n, id) SELECT n, lower(hex(randomblob(16))) FROM s
"""
PG_IDS = """
INSERT INTO bench_ids (n, id) SELECT n, gen_random_uuid() FROM generate_series(1, :people) n
"""

WORLD = [
    """
    INSERT INTO bench_k (k) SELECT n FROM bench_ids WHERE n <= 10
    """,
    f"""
    INSERT INTO people (id, email, display_name, time_zone, locale, created_at, place_country,
                        place_subdivision)
    SELECT id, 'p' || n || '@bench.example', 'Person ' || n,
           CASE n % 5 {" ".join(f"WHEN {i} THEN '{z}'" for i, z in enumerate(ZONES))} END,
           'en', :created,
           CASE n % 8 WHEN 0 THEN 'US' WHEN 1 THEN 'US' WHEN 2 THEN 'US' WHEN 3 THEN 'CA'
                      WHEN 4 THEN 'DE' WHEN 5 THEN 'US' END,
           CASE n % 8 WHEN 0 THEN 'FL' WHEN 2 THEN 'CA' WHEN 3 THEN 'ON' WHEN 5 THEN 'OK' END
    FROM bench_ids ORDER BY id
    """,
    """
    INSERT INTO relationships (id, person_id, brand_id, state, paused_until, origin, brand_cap,
                               shared, updated_at, created_at)
    SELECT {newid}, id, :brand,
           CASE n % 20 WHEN 1 THEN 'invited' WHEN 2 THEN 'paused' WHEN 3 THEN 'paused'
                       WHEN 4 THEN 'ended' WHEN 5 THEN 'paused' ELSE 'active' END,
           CASE n % 20 WHEN 3 THEN :yesterday WHEN 5 THEN :tomorrow END,
           'portal', CASE WHEN n % 7 = 0 THEN 1 WHEN n % 8 IN (0, 5) THEN 10 ELSE 3 END,
           {json}, :created, :created
    FROM bench_ids WHERE n % 20 <> 0 ORDER BY id
    """,
    """
    INSERT INTO relationships (id, person_id, brand_id, state, origin, brand_cap, shared,
                               updated_at, created_at)
    SELECT {newid}, id, :other, 'active', 'portal', 3, {json}, :created, :created
    FROM bench_ids WHERE n % 20 = 0 OR n % 3 = 0 ORDER BY id
    """,
    """
    INSERT INTO purpose_grants (person_id, brand_id, purpose, status, updated_at)
    SELECT id, :brand, 'marketing',
           CASE WHEN (n * 11) % 17 = 1 THEN 'pending' ELSE 'granted' END, :created
    FROM bench_ids WHERE n % 20 <> 0 AND (n * 11) % 17 <> 0 ORDER BY id
    """,
    """
    INSERT INTO purpose_grants (person_id, brand_id, purpose, status, updated_at)
    SELECT id, :brand, 'profiling', 'granted', :created
    FROM bench_ids WHERE n % 20 <> 0 AND ((n * 11) % 17) % 3 = 0 ORDER BY id
    """,
    """
    INSERT INTO purpose_grants (person_id, brand_id, purpose, status, updated_at)
    SELECT id, :other, 'marketing', 'granted', :created
    FROM bench_ids WHERE n % 20 = 0 OR n % 3 = 0 ORDER BY id
    """,
    """
    INSERT INTO channel_choices (person_id, brand_id, purpose, channel)
    SELECT id, :brand, 'marketing', 'email'
    FROM bench_ids WHERE n % 20 <> 0 AND (n * 13) % 19 >= 3 ORDER BY id
    """,
    """
    INSERT INTO channel_choices (person_id, brand_id, purpose, channel)
    SELECT id, :brand, 'marketing', 'sms'
    FROM bench_ids
    WHERE n % 20 <> 0
      AND ((n * 13) % 19 = 1 OR ((n * 13) % 19 >= 3 AND ((n * 13) % 19) % 2 = 0))
    ORDER BY id
    """,
    """
    INSERT INTO channel_choices (person_id, brand_id, purpose, channel)
    SELECT id, :brand, 'transactional', 'email'
    FROM bench_ids
    WHERE n % 20 <> 0
      AND ((n * 13) % 19 = 2 OR ((n * 13) % 19 >= 3 AND ((n * 13) % 19) % 3 = 0))
    ORDER BY id
    """,
    """
    INSERT INTO channel_choices (person_id, brand_id, purpose, channel)
    SELECT id, :other, 'marketing', 'email'
    FROM bench_ids WHERE n % 20 = 0 OR n % 3 = 0 ORDER BY id
    """,
    """
    INSERT INTO topic_choices (person_id, topic_id, brand_id)
    SELECT id, :topic, :brand FROM bench_ids WHERE n % 20 <> 0 AND (n * 17) % 29 >= 2 ORDER BY id
    """,
    """
    INSERT INTO topic_choices (person_id, topic_id, brand_id)
    SELECT id, :topic2, :brand
    FROM bench_ids
    WHERE n % 20 <> 0
      AND ((n * 17) % 29 = 1 OR ((n * 17) % 29 >= 2 AND ((n * 17) % 29) % 2 = 0))
    ORDER BY id
    """,
    """
    INSERT INTO topic_choices (person_id, topic_id, brand_id)
    SELECT id, :other_topic, :other FROM bench_ids WHERE n % 20 = 0 OR n % 3 = 0 ORDER BY id
    """,
    """
    INSERT INTO global_preferences (person_id, quiet_start, quiet_end, global_cap,
                                    do_not_contact, paused_until)
    SELECT id,
           CASE WHEN (n * 7) % 23 = 3 THEN '22:00' END,
           CASE WHEN (n * 7) % 23 = 3 THEN '07:00' END,
           CASE WHEN (n * 7) % 23 = 3 THEN 2 ELSE 10 END,
           CASE WHEN (n * 7) % 23 = 0 THEN {true} ELSE {false} END,
           CASE (n * 7) % 23 WHEN 1 THEN :tomorrow WHEN 2 THEN :yesterday END
    FROM bench_ids WHERE (n * 7) % 23 <= 8 ORDER BY id
    """,
    """
    INSERT INTO contact_points (id, person_id, channel, address, address_normalised, is_primary,
                                verified_at, suppressed_reason, suppressed_at, created_at,
                                details, code_attempts)
    SELECT {newid}, id, 'email', 'p' || n || '@bench.example', 'p' || n || '@bench.example',
           {true},
           CASE WHEN (n * 19) % 31 IN (1, 3) THEN NULL ELSE :created END,
           CASE WHEN (n * 19) % 31 IN (2, 4) THEN 'complaint' END,
           CASE WHEN (n * 19) % 31 IN (2, 4) THEN :created END,
           :created, {json}, 0
    FROM bench_ids WHERE (n * 19) % 31 <> 0 ORDER BY id
    """,
    """
    INSERT INTO contact_points (id, person_id, channel, address, address_normalised, is_primary,
                                verified_at, created_at, details, code_attempts)
    SELECT {newid}, id, 'email', 'alt' || n || '@bench.example', 'alt' || n || '@bench.example',
           {false}, :created, :created, {json}, 0
    FROM bench_ids WHERE (n * 19) % 31 IN (3, 4) ORDER BY id
    """,
    """
    INSERT INTO contact_points (id, person_id, channel, address, address_normalised, is_primary,
                                verified_at, region, created_at, details, code_attempts)
    SELECT {newid}, id, 'sms', p || n, p || n, {true}, :created, region, :created, {json}, 0
    FROM (SELECT n, id,
                 CASE n % 8 WHEN 0 THEN '+1305' WHEN 3 THEN '+1416' WHEN 4 THEN '+4915'
                            WHEN 5 THEN '+1405' ELSE '+1202' END AS p,
                 CASE n % 8 WHEN 3 THEN 'CA' WHEN 4 THEN 'DE' ELSE 'US' END AS region
          FROM bench_ids) b
    WHERE n % 4 = 0 OR (n * 19) % 31 = 0 ORDER BY id
    """,
    """
    INSERT INTO outbox (brand_id, person_id, topic_id, channel, purpose, idempotency_key, state,
                        not_before, attempts, to_address, sent_at, created_at)
    SELECT :brand, id, :topic, 'sms', 'marketing', 's:' || n || ':' || k, 'sent', :hours_ago, 1,
           '+1' || n, :hours_ago, :hours_ago
    FROM (SELECT n, id FROM bench_ids WHERE n % 8 IN (0, 5)) b
    JOIN bench_k ON k <= (n * 31) % 5
    ORDER BY n, k
    """,
    """
    INSERT INTO outbox (brand_id, person_id, topic_id, channel, purpose, idempotency_key, state,
                        not_before, attempts, to_address, sent_at, created_at)
    SELECT CASE WHEN s = 1 OR (s = 2 AND k < 3) THEN :other ELSE :brand END,
           id,
           CASE WHEN s = 1 OR (s = 2 AND k < 3) THEN :other_topic ELSE :topic END,
           'email',
           CASE WHEN s = 5 THEN 'transactional' ELSE 'marketing' END,
           'w:' || n || ':' || k,
           CASE WHEN s = 4 THEN 'failed' ELSE 'sent' END,
           :old, 1, 'p' || n || '@bench.example',
           CASE WHEN s = 3 THEN :old WHEN s = 4 THEN NULL ELSE :recent END,
           :old
    FROM (SELECT n, id, (n * 23) % 37 AS s FROM bench_ids) b
    JOIN bench_k ON k <= CASE s WHEN 0 THEN 3 WHEN 1 THEN 10 WHEN 2 THEN 3 WHEN 3 THEN 5
                                WHEN 4 THEN 1 WHEN 5 THEN 4 ELSE 0 END
    ORDER BY n, k
    """,
]


def bound(sql: str, params: dict[str, Any]) -> TextClause:
    """text() with each parameter it uses bound with Accord's column type (UUID, UTC time)."""
    clause = text(sql)
    binds: list[BindParameter[Any]] = []
    for name, value in params.items():
        if not re.search(rf":{name}\b", sql):
            continue
        if isinstance(value, uuid.UUID):
            binds.append(bindparam(name, value, type_=Uuid()))
        elif isinstance(value, datetime):
            binds.append(bindparam(name, value, type_=UTCDateTime()))
        else:
            binds.append(bindparam(name, value))
    return clause.bindparams(*binds)


def make_refs(engine: Engine, at: datetime) -> World:
    """Brands, topics and the campaign through Accord's own services."""
    with Session(engine) as session:
        made = []
        for slug in ("bench", "elsewhere"):
            made.append(
                brands.create_brand(
                    session,
                    BrandCreate(
                        name=slug.title(),
                        slug=slug,
                        sender_name=slug.title(),
                        sender_email=f"news@{slug}.example",
                        support_email=f"help@{slug}.example",
                        postal_address="1 Bench Street, Benchville",
                    ),
                    secret=BENCH_SECRET,
                )
            )
        brand, other = made

        def topic(brand_id: uuid.UUID, slug: str) -> uuid.UUID:
            data = TopicCreate(
                slug=slug,
                name=slug.title(),
                description="What this topic is about, in plain words.",
                purpose=Purpose.marketing,
            )
            return topics.create(session, brand_id, data).id

        topic_id, topic2, other_topic = (
            topic(brand.id, "jazz"),
            topic(brand.id, "blues"),
            topic(other.id, "news"),
        )
        campaign = campaigns.create(
            session,
            brand.id,
            CampaignCreate(name="Bench", topic_id=topic_id, subject="Hi", text="Hello."),
            member_id=None,
        )
        texted = campaigns.create(
            session,
            brand.id,
            CampaignCreate(name="Bench texts", topic_id=topic_id, channel="sms", text="Hello."),
            member_id=None,
        )
        world = World(brand.id, other.id, topic_id, topic2, other_topic, campaign.id, at, texted.id)
        session.commit()
    return world


def build_world(engine: Engine, people: int, world: World) -> None:
    pg = engine.dialect.name == "postgresql"
    words = {
        "newid": "gen_random_uuid()" if pg else "lower(hex(randomblob(16)))",
        "json": "'{}'::json" if pg else "'{}'",
        "true": "TRUE" if pg else "1",
        "false": "FALSE" if pg else "0",
    }
    at = world.at
    params: dict[str, Any] = {
        "people": people,
        "brand": world.brand,
        "other": world.other,
        "topic": world.topic,
        "topic2": world.topic2,
        "other_topic": world.other_topic,
        "created": at - timedelta(days=400),
        "yesterday": at - timedelta(days=1),
        "tomorrow": at + timedelta(days=1),
        "recent": at - timedelta(days=2),
        "hours_ago": at - timedelta(hours=2),
        "old": at - CAP_WINDOW - timedelta(days=3),
    }
    with engine.begin() as conn:
        if pg:
            conn.execute(text("SET LOCAL synchronous_commit = off"))
            conn.execute(text("CREATE UNLOGGED TABLE bench_ids (n bigint PRIMARY KEY, id uuid)"))
            conn.execute(text("CREATE UNLOGGED TABLE bench_k (k bigint PRIMARY KEY)"))
        else:
            conn.execute(text("PRAGMA cache_size = -1000000"))
            conn.execute(text("CREATE TABLE bench_ids (n INTEGER PRIMARY KEY, id CHAR(32))"))
            conn.execute(text("CREATE TABLE bench_k (k INTEGER PRIMARY KEY)"))
        conn.execute(bound(PG_IDS if pg else SQLITE_IDS, params))
        for statement in WORLD:
            conn.execute(bound(statement.format(**words), params))
        conn.execute(text("DROP TABLE bench_ids"))
        conn.execute(text("DROP TABLE bench_k"))


def finish_build(engine: Engine, analyze_sqlite: bool) -> None:
    if engine.dialect.name == "postgresql":
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(text("VACUUM ANALYZE"))
        return
    with engine.connect() as conn:
        conn.execute(text("PRAGMA wal_checkpoint(TRUNCATE)"))
        if analyze_sqlite:
            conn.execute(text("ANALYZE"))
        conn.commit()


# --- the floor and the gate ------------------------------------------------------------------

# Two hand-written floors; the faster one (per backend, in this run) is the floor.
FLOOR_EXISTS = """
SELECT r.person_id
FROM relationships r
LEFT JOIN global_preferences g ON g.person_id = r.person_id{people}
WHERE r.brand_id = :brand
  AND r.state NOT IN ('invited', 'ended')
  AND NOT (r.state = 'paused' AND (r.paused_until IS NULL OR r.paused_until > :at))
  AND (g.paused_until IS NULL OR g.paused_until <= :at)
  AND (g.do_not_contact IS NULL OR g.do_not_contact = {false})
  AND EXISTS (SELECT 1 FROM purpose_grants pg
              WHERE pg.person_id = r.person_id AND pg.brand_id = :brand
                AND pg.purpose = 'marketing' AND pg.status = 'granted')
  AND EXISTS (SELECT 1 FROM channel_choices cc
              WHERE cc.person_id = r.person_id AND cc.brand_id = :brand
                AND cc.purpose = 'marketing' AND cc.channel = '{channel}')
  AND EXISTS (SELECT 1 FROM topic_choices tc
              WHERE tc.person_id = r.person_id AND tc.topic_id = :topic)
  AND EXISTS (SELECT 1 FROM contact_points cp
              WHERE cp.person_id = r.person_id AND cp.channel = '{channel}'
                AND cp.verified_at IS NOT NULL AND cp.suppressed_reason IS NULL)
  AND (SELECT count(*) FROM outbox o
       WHERE o.person_id = r.person_id AND o.purpose = 'marketing' AND o.sent_at > :since
         AND o.state = 'sent' AND o.brand_id = :brand) < r.brand_cap
  AND (SELECT count(*) FROM outbox o
       WHERE o.person_id = r.person_id AND o.purpose = 'marketing' AND o.sent_at > :since
         AND o.state = 'sent') < COALESCE(g.global_cap, 10){legal}{terms}
"""
FLOOR_JOIN = """
SELECT r.person_id
FROM relationships r
JOIN purpose_grants pg ON pg.person_id = r.person_id AND pg.brand_id = :brand
     AND pg.purpose = 'marketing' AND pg.status = 'granted'
JOIN channel_choices cc ON cc.person_id = r.person_id AND cc.brand_id = :brand
     AND cc.purpose = 'marketing' AND cc.channel = '{channel}'
JOIN topic_choices tc ON tc.person_id = r.person_id AND tc.topic_id = :topic
LEFT JOIN global_preferences g ON g.person_id = r.person_id
LEFT JOIN (SELECT person_id, sum(CASE WHEN brand_id = :brand THEN 1 ELSE 0 END) AS brand_n,
                  count(*) AS global_n
           FROM outbox
           WHERE purpose = 'marketing' AND state = 'sent' AND sent_at > :since
           GROUP BY person_id) s ON s.person_id = r.person_id{people}
WHERE r.brand_id = :brand
  AND r.state NOT IN ('invited', 'ended')
  AND NOT (r.state = 'paused' AND (r.paused_until IS NULL OR r.paused_until > :at))
  AND (g.paused_until IS NULL OR g.paused_until <= :at)
  AND (g.do_not_contact IS NULL OR g.do_not_contact = {false})
  AND EXISTS (SELECT 1 FROM contact_points cp
              WHERE cp.person_id = r.person_id AND cp.channel = '{channel}'
                AND cp.verified_at IS NOT NULL AND cp.suppressed_reason IS NULL)
  AND COALESCE(s.brand_n, 0) < r.brand_cap
  AND COALESCE(s.global_n, 0) < COALESCE(g.global_cap, 10){legal}{terms}
"""
FLOORS = {"floor_exists": FLOOR_EXISTS, "floor_join": FLOOR_JOIN}


# The law's frequency limits where the person is, read from the loaded rules: one per (hours,
# per) the rules name for the channel. The strictest `max` of every rule whose jurisdiction
# covers the person's place (everywhere, their country, their state) against the texts the
# brand sent them on the channel in those hours (on the topic, for `per = topic`).
LEGAL_LIMIT = """
  AND (SELECT count(*) FROM outbox o
       WHERE o.person_id = r.person_id AND o.brand_id = :brand AND o.channel = '{channel}'
         AND o.purpose = 'marketing' AND o.sent_at > :legal_since_{i}{topic}
      ) < COALESCE(
        (SELECT min(lr.max_messages)
         FROM compliance_rules lr
         JOIN compliance_places lp ON lp.jurisdiction = lr.jurisdiction
         WHERE lr.kind = 'frequency' AND lr.hours = {hours} AND lr.per = '{per}'
           AND lr.channel IN ('{channel}', '*') AND lr.purpose IN ('marketing', '*')
           AND (lp.country = '*'
                OR (lp.country = p.place_country
                    AND (lp.subdivision = '' OR lp.subdivision = p.place_subdivision)))),
        1000000000)"""


def legal_limits(engine: Engine, channel: str) -> list[tuple[int, str]]:
    with engine.connect() as conn:
        rows = conn.execute(
            text(
                "SELECT DISTINCT hours, per FROM compliance_rules WHERE kind = 'frequency' "
                "AND channel IN (:channel, '*') AND purpose IN ('marketing', '*') "
                "ORDER BY hours, per"
            ),
            {"channel": channel},
        ).all()
    return [(int(hours), str(per)) for hours, per in rows]


def floor_query(engine: Engine, world: World, sql: str, channel: str = "email") -> TextualSelect:
    false = "FALSE" if engine.dialect.name == "postgresql" else "0"
    params: dict[str, Any] = {
        "brand": world.brand,
        "topic": world.topic,
        "at": world.at,
        "since": world.at - CAP_WINDOW,
    }
    limits = legal_limits(engine, channel)
    legal = ""
    for i, (hours, per) in enumerate(limits):
        params[f"legal_since_{i}"] = world.at - timedelta(hours=hours)
        topic = " AND o.topic_id = :topic" if per == "topic" else ""
        legal += LEGAL_LIMIT.format(channel=channel, i=i, topic=topic, hours=hours, per=per)
    people = "\nJOIN people p ON p.id = r.person_id" if limits else ""
    filled = sql.format(false=false, channel=channel, legal=legal, people=people, terms=TERMS)
    return bound(filled, params).columns(person_id=Uuid())


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
