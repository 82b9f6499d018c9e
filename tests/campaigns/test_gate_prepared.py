"""The preview's statement, built once (`gate_prepared`), counts as the gate built afresh does at
every moment it is run for: the moment, its windows and each zone's local minute are bound at
each run, and a new time zone in use builds it again."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy.orm import Session

from accord.brands.models import Brand
from accord.campaigns import gate_prepared
from accord.campaigns.gate_rules import Sending
from accord.campaigns.gate_sql import Related, gate_select, reason_counts
from accord.people.models import ContactPoint
from accord.relationships import decisions, global_prefs
from accord.relationships.decisions import PORTAL
from accord.relationships.models import Topic
from accord.relationships.vocabulary import Channel, Purpose
from tests.builders import make_brand, make_person, make_relationship, make_topic

NIGHT = datetime(2026, 6, 1, 23, 0, tzinfo=UTC)  # inside 22:00-07:00 in UTC, not in Tokyo
AFTERNOON = datetime(2026, 6, 1, 14, 0, tzinfo=UTC)  # outside in UTC, inside in Tokyo (23:00)


def _push_reader(session: Session, brand: Brand, topic: Topic, time_zone: str) -> None:
    person = make_person(session, time_zone=time_zone)
    rel = make_relationship(session, person=person, brand=brand, marketing=True, topics_on=(topic,))
    decisions.set_channel(session, rel, Purpose.marketing, Channel.push, True, PORTAL)
    global_prefs.set_quiet_hours(session, person.id, "22:00", "07:00", PORTAL)
    endpoint = f"https://push.example/{person.id.hex}"
    session.add(
        ContactPoint(
            person_id=person.id,
            channel="push",
            address=endpoint,
            address_normalised=endpoint,
            verified_at=NIGHT,
            details={},
        )
    )
    session.flush()


def test_built_once_counts_as_built_afresh_at_every_moment(session: Session) -> None:
    brand = make_brand(session)
    topic = make_topic(session, brand=brand)
    _push_reader(session, brand, topic, "UTC")
    audience = Related(lambda rel: [rel.brand_id == brand.id])
    key = ("test", brand.id)

    def both(at: datetime) -> tuple[dict[str, int], dict[str, int]]:
        sending = Sending(brand.id, Purpose.marketing, topic.id, Channel.push, at)
        kept = gate_prepared.reason_counts(session, sending, lambda: audience, key)
        afresh = reason_counts(session, gate_select(session, sending, audience))
        return kept, afresh

    assert both(NIGHT) == ({"quiet_hours": 1}, {"quiet_hours": 1})
    built = {k: v for k, v in gate_prepared._BUILT.items() if key in k}
    assert both(AFTERNOON) == ({"eligible": 1}, {"eligible": 1})
    assert {k: v for k, v in gate_prepared._BUILT.items() if key in k} == built  # not rebuilt
    # A zone no one had: its statement is another (the zones are in its key).
    _push_reader(session, brand, topic, "Asia/Tokyo")
    assert both(AFTERNOON) == ({"eligible": 1, "quiet_hours": 1},) * 2
    assert both(NIGHT) == ({"eligible": 1, "quiet_hours": 1},) * 2
