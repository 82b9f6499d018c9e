"""bench/dispatch.py's world: a brand, a topic and N people who may be e-mailed, inserted
set-based; campaigns through the real service.

Not a benchmark itself; imported by bench/dispatch.py (bench/ is on sys.path when it runs).
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from _common import BENCH_SECRET
from sqlalchemy import Uuid, bindparam, func, select, text
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from accord.brands import service as brands
from accord.brands.schemas import BrandCreate
from accord.campaigns import service as campaigns
from accord.campaigns.models import Campaign
from accord.campaigns.schemas import Audience, CampaignCreate
from accord.core import migrate
from accord.core.db import UTCDateTime, utcnow
from accord.outbox.models import OutboxMessage
from accord.relationships import topics
from accord.relationships.schemas import TopicCreate
from accord.relationships.vocabulary import Purpose

TEXT = (
    "Hello {{ person.name }},\n\n"
    "Here is what is new in {{ topic.name }} at {{ brand.name }} this month. "
    + "We kept it short, as promised, and there is nothing you need to do. " * 8
    + "\n\nQuestions? Write to {{ brand.support_email }}.\n"
)
HTML = (
    "<h1>News for {{ person.first_name }}</h1>"
    + "<p>Here is what is new in {{ topic.name }} at {{ brand.name }} this month.</p>" * 6
)


# --- the world -------------------------------------------------------------------------------

PEOPLE_SQL = [
    "INSERT INTO people (id, email, display_name, time_zone, locale, created_at) "
    "SELECT id, 'd' || n || '@people.example', 'Person ' || n, 'UTC', 'en', :created "
    "FROM bench_ids ORDER BY id",
    "INSERT INTO ledger_heads (subject_id, seq, hash) "
    "SELECT id, 1, :hash FROM bench_ids ORDER BY id",
    "INSERT INTO relationships (id, person_id, brand_id, state, origin, brand_cap, shared, "
    "updated_at, created_at) "
    "SELECT {newid}, id, :brand, 'active', 'portal', 1000, "
    "CASE WHEN n <= :small THEN {small} ELSE {big} END, :created, :created "
    "FROM bench_ids ORDER BY id",
    "INSERT INTO purpose_grants (person_id, brand_id, purpose, status, updated_at) "
    "SELECT id, :brand, 'marketing', 'granted', :created FROM bench_ids ORDER BY id",
    "INSERT INTO channel_choices (person_id, brand_id, purpose, channel) "
    "SELECT id, :brand, 'marketing', 'email' FROM bench_ids ORDER BY id",
    "INSERT INTO topic_choices (person_id, topic_id, brand_id) "
    "SELECT id, :topic, :brand FROM bench_ids ORDER BY id",
    "INSERT INTO global_preferences (person_id, global_cap, do_not_contact) "
    "SELECT id, 1000, {false} FROM bench_ids ORDER BY id",
    "INSERT INTO contact_points (id, person_id, channel, address, address_normalised, "
    "is_primary, verified_at, created_at, details, code_attempts) "
    "SELECT {newid}, id, 'email', 'd' || n || '@people.example', 'd' || n || '@people.example', "
    "{true}, :created, :created, {json}, 0 FROM bench_ids ORDER BY id",
]


@dataclass(frozen=True)
class World:
    brand: uuid.UUID
    topic: uuid.UUID


def build_world(engine: Engine, people: int, small: int = 0) -> World:
    """Brand and topic through the services; the people set-based. The first `small` people
    share {"cohort": "small"} with the brand (an audience filter), the others "big"."""
    migrate.upgrade(engine)
    with Session(engine) as session:
        brand = brands.create_brand(
            session,
            BrandCreate(
                name="Bench Records",
                slug="bench",
                sender_name="Bench Records",
                sender_email="news@bench.example",
                support_email="help@bench.example",
                postal_address="1 Bench Street, 1000 Benchville",
            ),
            secret=BENCH_SECRET,
        )
        brand.send_rate_per_second = 100_000
        topic = topics.create(
            session,
            brand.id,
            TopicCreate(
                slug="jazz",
                name="Jazz news",
                description="New releases and concerts, about once a month.",
                purpose=Purpose.marketing,
            ),
        )
        world = World(brand.id, topic.id)
        session.commit()
    pg = engine.dialect.name == "postgresql"
    words = {
        "newid": "gen_random_uuid()" if pg else "lower(hex(randomblob(16)))",
        "json": "'{}'::json" if pg else "'{}'",
        "small": """'{"cohort": "small"}'""" + ("::json" if pg else ""),
        "big": """'{"cohort": "big"}'""" + ("::json" if pg else ""),
        "true": "TRUE" if pg else "1",
        "false": "FALSE" if pg else "0",
    }
    params: dict[str, Any] = {
        "brand": world.brand,
        "topic": world.topic,
        "small": small,
        "hash": "0" * 64,
        "created": utcnow() - timedelta(days=30),
    }
    with engine.begin() as conn:
        if pg:
            conn.execute(text("SET LOCAL synchronous_commit = off"))
            conn.execute(text("CREATE UNLOGGED TABLE bench_ids (n bigint PRIMARY KEY, id uuid)"))
            conn.execute(
                text(
                    "INSERT INTO bench_ids SELECT n, gen_random_uuid() "
                    "FROM generate_series(1, :people) n"
                ),
                {"people": people},
            )
        else:
            conn.execute(text("PRAGMA cache_size = -500000"))
            conn.execute(text("CREATE TABLE bench_ids (n INTEGER PRIMARY KEY, id CHAR(32))"))
            conn.execute(
                text(
                    "WITH RECURSIVE s(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM s "
                    "WHERE n < :people) "
                    "INSERT INTO bench_ids SELECT n, lower(hex(randomblob(16))) FROM s"
                ),
                {"people": people},
            )
        for sql in PEOPLE_SQL:
            statement = text(sql.format(**words))
            used = {k: v for k, v in params.items() if re.search(rf":{k}\b", sql)}
            binds = [
                bindparam(k, type_=Uuid() if isinstance(v, uuid.UUID) else UTCDateTime())
                for k, v in used.items()
                if isinstance(v, uuid.UUID | datetime)
            ]
            conn.execute(statement.bindparams(*binds), used)
        conn.execute(text("DROP TABLE bench_ids"))
    if pg:
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(text("VACUUM ANALYZE"))
    return world


def new_campaign(engine: Engine, world: World, name: str, cohort: str | None = None) -> int:
    """create -> send -> resolve through the campaign service; the number of rows queued."""
    audience = Audience(kind="filter", filter={"cohort": cohort}) if cohort else Audience()
    with Session(engine) as session:
        campaign = campaigns.create(
            session,
            world.brand,
            CampaignCreate(
                name=name,
                topic_id=world.topic,
                subject="{{ topic.name }}: what is new, {{ person.first_name }}",
                text=TEXT,
                html=HTML,
                audience=audience,
            ),
            member_id=None,
        )
        campaigns.send(session, campaign)
        written = campaigns.resolve(session, campaign, utcnow())
        session.commit()
        queued = session.scalar(
            select(func.count()).where(
                OutboxMessage.campaign_id == campaign.id, OutboxMessage.state == "queued"
            )
        )
    if written != queued:  # seen on PostgreSQL: the rowcount of the ORM INSERT ... SELECT is -1
        print(f"  note: resolve() returned {written}, but {queued} rows were queued")
    return int(queued or 0)


def cancel_campaigns(engine: Engine) -> None:
    with Session(engine) as session:
        for campaign in session.scalars(select(Campaign).where(Campaign.state == "sending")):
            campaigns.cancel(session, campaign)
        session.commit()


def outbox_states(engine: Engine) -> dict[str, int]:
    with Session(engine) as session:
        rows = session.execute(
            select(OutboxMessage.state, func.count()).group_by(OutboxMessage.state)
        ).all()
    return {state: count for state, count in rows}
