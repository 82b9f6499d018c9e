"""Individual scores, held only for people who grant `profiling` to the brand and whose
personal terms with it do not forbid profiling (`no_profiling`, from `accord.terms.service`).

A score row references the person's profiling grant (composite FK, ON DELETE CASCADE): when
the grant goes (withdrawal, ended relationship, erasure) the database deletes the score in
the same transaction. Reads join the grant as well, so a score is never returned without a
grant in status "granted".
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from typing import Any

from sqlalchemy import Table, Uuid, and_, bindparam, delete, insert, or_, select
from sqlalchemy.orm import Session

from accord.analytics import predict as pr
from accord.analytics.models import Customer, CustomerScore, ModelFit
from accord.analytics.summary import Summary
from accord.core.db import utcnow
from accord.core.direct import Direct
from accord.relationships.models import PurposeGrant, Relationship
from accord.relationships.vocabulary import Purpose, State
from accord.terms import service as terms
from accord.terms.service import Effect

SCORES: Table = CustomerScore.__table__  # type: ignore[assignment]
GRANTED = "granted"

# What each stored figure means, in plain words (for pages that show a person their scores).
SCORE_MEANINGS = {
    "frequency": "Repeat purchase days in the calibration period (days after the first).",
    "recency_weeks": "Weeks from the first to the last purchase day in that period.",
    "age_weeks": "Weeks from the first purchase day to the end of that period.",
    "average_spend": "Average value of the repeat purchase days.",
    "p_alive": "The model's probability that the person still buys from the brand.",
    "expected_purchases": "Purchase days the model expects over the horizon.",
    "expected_spend": "Expected value of one future purchase.",
    "clv": "Discounted margin the brand expects from the person over the horizon.",
    "segment": "CLV band: top 10 %, next 40 % or bottom 50 % of the brand's customers.",
}


@dataclass(frozen=True)
class PersonScore:
    """One person's score at one brand, with the fit it came from."""

    person_id: uuid.UUID
    brand_id: uuid.UUID
    customer_id: uuid.UUID
    fit_id: uuid.UUID
    model: str
    cutoff: datetime
    horizon_months: int
    frequency: int
    recency_weeks: float
    age_weeks: float
    average_spend: float
    p_alive: float
    expected_purchases: float
    expected_spend: float
    clv: float
    segment: str | None
    rfm: str | None
    computed_at: datetime
    currency: str  # the fit's, for its money figures ("" when it names none)


_SCORE_COLUMNS = (
    "person_id",
    "brand_id",
    "customer_id",
    "fit_id",
    "frequency",
    "recency_weeks",
    "age_weeks",
    "average_spend",
    "p_alive",
    "expected_purchases",
    "expected_spend",
    "clv",
    "segment",
    "rfm",
    "computed_at",
)


@cache
def _score_statement() -> Direct:
    """The score read, built once (the terms condition is a large tree to build and key on
    every relationship page) and run on the cursor (`core.direct`): the person and the brand
    are bound at execution."""
    s, g = CustomerScore, PurposeGrant
    return Direct(
        # The score's and its fit's columns, not entities: making an ORM object of a wide row
        # cost more than the read.
        select(
            *(getattr(s, name) for name in _SCORE_COLUMNS),
            ModelFit.model,
            ModelFit.cutoff,
            ModelFit.options,
        )
        .join(
            g,
            and_(g.person_id == s.person_id, g.brand_id == s.brand_id, g.purpose == s.purpose),
        )
        .join(ModelFit, ModelFit.id == s.fit_id)
        .where(
            s.brand_id == bindparam("brand", type_=Uuid()),
            s.person_id == bindparam("person", type_=Uuid()),
            g.status == GRANTED,
            # Personal terms that forbid profiling win over an earlier grant.
            ~terms.holds(Effect.no_profiling, s.person_id, s.brand_id),
        )
    )


def scores_for(session: Session, brand_id: uuid.UUID, person_id: uuid.UUID) -> PersonScore | None:
    """The person's score at the brand, or None unless they grant profiling and were scored."""
    score = _score_statement().first(session, brand=brand_id, person=person_id)
    if score is None:
        return None
    options = score.options
    return PersonScore(
        person_id=score.person_id,
        brand_id=score.brand_id,
        customer_id=score.customer_id,
        fit_id=score.fit_id,
        model=score.model,
        cutoff=score.cutoff,
        horizon_months=int(options.get("horizon_months", 12)),
        frequency=score.frequency,
        recency_weeks=score.recency_weeks,
        age_weeks=score.age_weeks,
        average_spend=score.average_spend,
        p_alive=score.p_alive,
        expected_purchases=score.expected_purchases,
        expected_spend=score.expected_spend,
        clv=score.clv,
        segment=score.segment,
        rfm=score.rfm,
        computed_at=score.computed_at,
        currency=str((options or {}).get("currency") or ""),
    )


def consented_customers(
    session: Session, brand_id: uuid.UUID, index: dict[Any, int]
) -> list[tuple[int, uuid.UUID]]:
    """(summary index, person) of customers whose person grants profiling to the brand, and
    whose personal terms with it do not forbid profiling (the stricter rule wins).

    FOR SHARE (PostgreSQL) holds those grants until the fit commits: a withdrawal waits, then
    deletes the new scores by cascade, instead of racing the insert.
    """
    g = PurposeGrant
    query = (
        select(Customer.id, Customer.person_id)
        .join(g, and_(g.person_id == Customer.person_id, g.brand_id == Customer.brand_id))
        .where(
            Customer.brand_id == brand_id,
            g.purpose == Purpose.profiling.value,
            g.status == GRANTED,
            ~terms.holds(Effect.no_profiling, Customer.person_id, brand_id),
        )
        .with_for_update(read=True, of=g)
    )
    rows = session.execute(query).all()
    return [(index[cid], pid) for cid, pid in rows if cid in index and pid is not None]


def lost_customers(session: Session, brand_id: uuid.UUID, index: dict[Any, int]) -> list[int]:
    """Summary indexes of linked customers whose relationship is gone or ended, or who grant
    neither marketing nor profiling: the equity the brand can no longer reach."""
    r, g = Relationship, PurposeGrant
    reachable = (
        select(g.person_id)
        .where(
            g.brand_id == brand_id,
            g.person_id == Customer.person_id,
            g.status == GRANTED,
            g.purpose.in_([Purpose.marketing.value, Purpose.profiling.value]),
        )
        .exists()
    )
    query = (
        select(Customer.id)
        .outerjoin(r, and_(r.person_id == Customer.person_id, r.brand_id == brand_id))
        .where(
            Customer.brand_id == brand_id,
            Customer.person_id.is_not(None),
            or_(r.id.is_(None), r.state == State.ended.value, ~reachable),
        )
    )
    return [index[cid] for cid in session.scalars(query) if cid in index]


def replace_scores(
    session: Session,
    brand_id: uuid.UUID,
    fit_id: uuid.UUID,
    summary: Summary,
    p: pr.Predictions,
    people: list[tuple[int, uuid.UUID]],
) -> int:
    """Delete the brand's scores and store one per consenting person; returns how many."""
    session.execute(delete(CustomerScore).where(CustomerScore.brand_id == brand_id))
    # One score per person: someone with two customer ids keeps the more valuable one.
    best: dict[uuid.UUID, int] = {}
    for i, person in people:
        if person not in best or p.clv[i] > p.clv[best[person]]:
            best[person] = i
    now = utcnow()
    rows = [
        {
            "person_id": person,
            "brand_id": brand_id,
            "purpose": Purpose.profiling.value,
            "customer_id": summary.customer_ids[i],
            "fit_id": fit_id,
            "frequency": int(summary.x[i]),
            "recency_weeks": float(summary.t_x[i]),
            "age_weeks": float(summary.T[i]),
            "average_spend": float(summary.zbar[i]),
            "p_alive": float(p.p_alive[i]),
            "expected_purchases": float(p.expected_purchases[i]),
            "expected_spend": float(p.expected_spend[i]),
            "clv": float(p.clv[i]),
            "rfm": None,
            "segment": str(p.segment[i]),
            "computed_at": now,
        }
        for person, i in best.items()
    ]
    if rows:
        session.execute(insert(SCORES), rows)
    return len(rows)
