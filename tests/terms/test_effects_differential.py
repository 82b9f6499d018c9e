"""The effects in force, read per pair (`effects_for`) and as SQL (`holds`, `forbids`), agree
on random worlds built through the real proffer, answer, publish and withdraw functions."""

from __future__ import annotations

from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select, true
from sqlalchemy.orm import Session

from accord.brands.models import Brand
from accord.core.errors import AccordError
from accord.people.models import Person
from accord.relationships import decisions
from accord.terms import service as terms
from accord.terms.models import Agreement, Proffer
from accord.terms.service import Answer, Effect
from tests.builders import make_brand, make_person

PEOPLE, BRANDS = 3, 3
ROSTER = [
    ("service-only", 1),
    ("service-only-portable", 1),
    ("no-stalking", 1),
    ("no-sharing", 1),
    ("no-ai-training", 1),
    ("intent-only", 1),
]
person = st.integers(0, PEOPLE - 1)
brand = st.integers(0, BRANDS - 1)
entry = st.sampled_from(ROSTER)
operation = st.one_of(
    st.tuples(st.just("follow"), person, brand),
    st.tuples(st.just("end"), person, brand),
    st.tuples(st.just("publish"), brand, st.lists(entry, max_size=3, unique=True)),
    st.tuples(st.just("proffer"), person, entry, st.one_of(st.none(), brand)),
    st.tuples(
        st.just("answer"),
        brand,
        st.integers(0, 5),
        st.sampled_from(list(Answer)),
        entry,
    ),
    st.tuples(st.just("withdraw"), person, st.integers(0, 5)),
    st.tuples(st.just("only"), person, st.booleans()),
    st.tuples(st.just("take"), person, st.integers(0, 5)),
    st.tuples(st.just("settle"), person),
)


# One branch per kind of operation the strategy draws, in its order: read side by side.
def apply(  # noqa: C901
    session: Session, op: tuple[Any, ...], people: list[Person], brands: list[Brand]
) -> None:
    kind = op[0]
    if kind == "follow":
        decisions.start(session, people[op[1]].id, brands[op[2]].id, decisions.PORTAL)
    elif kind == "end":
        rel = decisions.find(session, people[op[1]].id, brands[op[2]].id)
        if rel is not None:
            decisions.end(session, rel, decisions.PORTAL)
    elif kind == "publish":
        terms.publish(session, brands[op[1]].id, op[2])
    elif kind == "proffer":
        target = None if op[3] is None else brands[op[3]].id
        terms.proffer(session, people[op[1]].id, op[2][0], op[2][1], target)
    elif kind == "answer":
        rows = session.scalars(
            select(Agreement.id)
            .where(Agreement.brand_id == brands[op[1]].id)
            .order_by(Agreement.created_at, Agreement.id)
        ).all()
        if rows:
            alt = (op[4][0], op[4][1]) if op[3] is Answer.alternative else None
            terms.answer(session, brands[op[1]].id, rows[op[2] % len(rows)], op[3], alt)
    elif kind == "withdraw":
        mine = session.scalars(
            select(Proffer.id)
            .where(Proffer.person_id == people[op[1]].id)
            .order_by(Proffer.created_at, Proffer.id)
        ).all()
        if mine:
            terms.withdraw(session, people[op[1]].id, mine[op[2] % len(mine)])
    elif kind == "only":
        terms.set_only_my_terms(session, people[op[1]].id, op[2])
    elif kind == "take":
        rows = session.scalars(
            select(Agreement.id)
            .where(Agreement.subject_id == people[op[1]].id)
            .order_by(Agreement.created_at, Agreement.id)
        ).all()
        if rows:
            terms.accept_alternative(session, people[op[1]].id, rows[op[2] % len(rows)])
    else:
        terms.settle(session, person_id=people[op[1]].id)


def sql_effects(
    session: Session, people: list[Person], brands: list[Brand]
) -> dict[tuple[Any, Any], set[str]]:
    columns = [terms.holds(e, Person.id, Brand.id).label(e.value) for e in Effect]
    forbidden = [
        terms.forbids(purpose, Person.id, Brand.id).label(f"forbids_{purpose}")
        for purpose in terms.FORBIDDEN_BY
    ]
    query = (
        select(Person.id, Brand.id.label("brand_id"), *columns, *forbidden)
        .join(Brand, true())  # every pair
        .where(Person.id.in_([p.id for p in people]), Brand.id.in_([b.id for b in brands]))
    )
    found: dict[tuple[Any, Any], set[str]] = {}
    for row in session.execute(query).mappings():
        found[(row["id"], row["brand_id"])] = {
            name for name, value in row.items() if name not in ("id", "brand_id") and value
        }
    return found


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(operations=st.lists(operation, max_size=25))
def test_effects_per_pair_and_in_sql_agree(
    session: Session, operations: list[tuple[Any, ...]]
) -> None:
    savepoint = session.begin_nested()
    try:
        people = [make_person(session) for _ in range(PEOPLE)]
        brands = [make_brand(session) for _ in range(BRANDS)]
        for op in operations:
            step = session.begin_nested()
            try:
                apply(session, op, people, brands)
                step.commit()
            except AccordError:
                step.rollback()
        from_sql = sql_effects(session, people, brands)
        for p in people:
            for b in brands:
                found = terms.effects_for(session, p.id, b.id)
                expected = {e.value for e in found.effects} | {
                    f"forbids_{purpose}" for purpose in terms.FORBIDDEN_BY if found.forbids(purpose)
                }
                assert from_sql[(p.id, b.id)] == expected, (operations, p.id, b.id)
    finally:
        savepoint.rollback()
