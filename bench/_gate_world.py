"""The world of gate_audience.py: brands, topics and campaigns through Accord's services, and
people with every mix of relationships, preferences, contact points and sent messages, inserted
set-based. Not a benchmark itself; see gate_audience.py for what is measured.
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from _common import BENCH_SECRET
from sqlalchemy import BindParameter, TextClause, Uuid, bindparam, text
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from accord.brands import service as brands
from accord.brands.schemas import BrandCreate
from accord.campaigns import service as campaigns
from accord.campaigns.gate_rules import CAP_WINDOW
from accord.campaigns.schemas import CampaignCreate
from accord.core.db import UTCDateTime
from accord.relationships import topics
from accord.relationships.schemas import TopicCreate
from accord.relationships.vocabulary import Purpose

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
