"""The hand-written floors of gate_audience.py: single SQL statements returning the same
eligible set as the gate, the law's frequency limits read from the rules tables by hand.
Not a benchmark itself; see gate_audience.py for what is measured.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from _floor_terms import TERMS
from _gate_world import World, bound
from sqlalchemy import Uuid, text
from sqlalchemy.engine import Engine
from sqlalchemy.sql.selectable import TextualSelect

from accord.campaigns.gate_rules import CAP_WINDOW

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


def fill_floor(
    engine: Engine, world: World, sql: str, channel: str = "email"
) -> tuple[str, dict[str, Any]]:
    """A floor's SQL with its placeholders filled for `channel`, and the parameters it binds."""
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
    return filled, params


def floor_query(engine: Engine, world: World, sql: str, channel: str = "email") -> TextualSelect:
    filled, params = fill_floor(engine, world, sql, channel)
    return bound(filled, params).columns(person_id=Uuid())
