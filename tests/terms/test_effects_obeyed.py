"""Every effect is obeyed where it bites: by both forms of the gate (reason `terms`) and by the
scores analytics stores and returns (none under `no_profiling`, whatever was granted before),
over random worlds of terms, grants and brands built through the real services."""

from __future__ import annotations

from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select
from sqlalchemy.orm import Session

from accord.analytics import service as analytics
from accord.analytics.models import CustomerScore
from accord.analytics.writer import write_records
from accord.campaigns.gate_facts import check
from accord.campaigns.gate_rules import Reason, Sending
from accord.campaigns.gate_sql import gate_select
from accord.core.db import utcnow
from accord.core.errors import AccordError
from accord.people.models import Person
from accord.relationships import decisions
from accord.relationships.vocabulary import Channel, Purpose
from accord.terms import service as terms
from accord.terms.models import Agreement
from accord.terms.service import Answer, Effect
from tests.analytics.synthetic import CUTOFF, START, transactions
from tests.builders import make_brand, make_person, make_topic

ENTRIES = ["service-only", "no-stalking", "no-sharing", "no-ai-training", "intent-only"]
GATED = [Purpose.marketing, Purpose.sharing, Purpose.profiling]
person_terms = st.fixed_dictionaries(
    {
        "profiling": st.booleans(),
        "proffers": st.lists(
            st.tuples(st.sampled_from(ENTRIES), st.booleans(), st.sampled_from(list(Answer))),
            max_size=3,
            unique_by=lambda t: t[0],
        ),
        "only_mine": st.booleans(),
    }
)


def grant_everything(session: Session, person: Person, brand: Any, topics: dict[str, Any]) -> Any:
    """A relationship where only personal terms can keep a message back."""
    rel = decisions.start(session, person.id, brand.id, decisions.PORTAL)
    for purpose in GATED:
        if purpose is not Purpose.profiling:
            decisions.set_purpose(session, rel, purpose, True, decisions.PORTAL)
        decisions.set_channel(session, rel, purpose, Channel.email, True, decisions.PORTAL)
    decisions.set_topic(session, rel, topics["marketing"].id, True, decisions.PORTAL)
    return rel


def apply_terms(session: Session, person: Person, brands: list[Any], spec: dict[str, Any]) -> None:
    for slug, every_brand, answer in spec["proffers"]:
        try:
            with session.begin_nested():
                terms.proffer(session, person.id, slug, None, None if every_brand else brands[0].id)
        except AccordError:
            continue
        for brand in brands:
            row = session.scalars(
                select(Agreement).where(
                    Agreement.subject_id == person.id,
                    Agreement.brand_id == brand.id,
                    Agreement.slug == slug,
                    Agreement.withdrawn_at.is_(None),
                )
            ).one_or_none()
            if row is not None and row.status == "pending":
                alternative = ("no-ai-training", None) if answer is Answer.alternative else None
                if slug == "no-ai-training" and alternative:
                    alternative = ("no-sharing", None)
                terms.answer(session, brand.id, row.id, answer, alternative)
    terms.set_only_my_terms(session, person.id, spec["only_mine"])


@settings(
    max_examples=12,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    world=st.lists(person_terms, min_size=4, max_size=8),
    published=st.lists(st.sampled_from(ENTRIES), max_size=2, unique=True),
)
def test_the_gate_and_the_scores_obey_every_effect(
    session: Session, world: list[dict[str, Any]], published: list[str]
) -> None:
    savepoint = session.begin_nested()
    try:
        brands = [make_brand(session), make_brand(session)]
        terms.publish(session, brands[1].id, [(slug, 1) for slug in published])
        topics = {
            brand.id: {p.value: make_topic(session, brand=brand, purpose=p.value) for p in GATED}
            for brand in brands
        }
        people = [make_person(session) for _ in world]
        for person, spec in zip(people, world, strict=True):
            for brand in brands:
                rel = grant_everything(session, person, brand, topics[brand.id])
                if spec["profiling"] and brand is brands[0]:
                    decisions.set_purpose(session, rel, Purpose.profiling, True, decisions.PORTAL)
        # Scores first, from a fit made before any terms: the stricter rule must still win.
        # 250 customers drawn with seed 11: data the BG/NBD fit is known to converge on.
        names = [p.email for p in people] + [f"anonymous-{i}" for i in range(250 - len(people))]
        write_records(session, brands[0].id, transactions(names, seed=11))
        analytics.fit(session, brands[0].id, cutoff=CUTOFF, calibration_start=START)
        for person, spec in zip(people, world, strict=True):
            apply_terms(session, person, brands, spec)
        ids = [p.id for p in people]

        for brand in brands:
            effects = {pid: terms.effects_for(session, pid, brand.id) for pid in ids}
            for purpose in GATED:
                topic = topics[brand.id][purpose.value]
                sending = Sending(brand.id, purpose, topic.id, Channel.email, utcnow())
                expected = {
                    pid: Reason.terms if effects[pid].forbids(purpose) else None for pid in ids
                }
                per_message = {pid: d.reason for pid, d in check(session, sending, ids).items()}
                audience = select(Person.id).where(Person.id.in_(ids))
                in_sql = {
                    row.person_id: row.reason
                    for row in session.execute(gate_select(session, sending, audience))
                }
                assert per_message == expected, (brand.id, purpose)
                assert in_sql == expected, (brand.id, purpose)

        def profiled(pid: Any, spec: dict[str, Any]) -> bool:
            no_profiling = terms.effects_for(session, pid, brands[0].id).holds(Effect.no_profiling)
            return bool(spec["profiling"]) and not no_profiling

        wanted = {p.id for p, spec in zip(people, world, strict=True) if profiled(p.id, spec)}
        held = set(
            session.scalars(
                select(CustomerScore.person_id).where(CustomerScore.brand_id == brands[0].id)
            )
        )
        assert held == wanted  # the scores of people who since forbade profiling are gone
        for pid in ids:
            found = analytics.scores_for(session, brands[0].id, pid)
            assert (found is not None) == (pid in wanted)
        analytics.fit(session, brands[0].id, cutoff=CUTOFF, calibration_start=START)
        refit = set(
            session.scalars(
                select(CustomerScore.person_id).where(CustomerScore.brand_id == brands[0].id)
            )
        )
        assert refit == wanted
    finally:
        savepoint.rollback()
