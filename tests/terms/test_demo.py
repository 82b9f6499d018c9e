"""The demo shows the whole flow of terms and intents, and seeding again changes nothing."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from accord.consent import verification
from accord.core.settings import Settings
from accord.demo.seed import seed
from accord.intents.models import Intent, Offer
from accord.relationships.models import Relationship
from accord.terms import records
from accord.terms.models import Agreement


def test_the_demo_has_terms_and_intents(session: Session, settings: Settings) -> None:
    first = seed(session, settings, analytics=False)
    assert first.agreements_seeded >= 1
    statuses = list(session.scalars(select(Agreement.status)))
    assert {"accepted", "declined", "alternative"} <= set(statuses)
    signed = [a for a in session.scalars(select(Agreement)) if a.status == "accepted"]
    assert signed and all(a.record is not None and records.verify(a.record).ok for a in signed)
    by_status = {i.status: i for i in session.scalars(select(Intent))}
    assert set(by_status) == {"open", "closed"}
    offers = session.scalars(select(Offer).where(Offer.intent_id == by_status["open"].id)).all()
    assert len(offers) == 3 and len({o.brand_id for o in offers}) == 3
    closed = by_status["closed"]
    chosen = session.get(Offer, closed.accepted_offer_id)
    assert chosen is not None and chosen.rule_id is not None
    rel = session.scalars(
        select(Relationship).where(
            Relationship.person_id == closed.person_id, Relationship.brand_id == chosen.brand_id
        )
    ).one()
    assert rel.state == "active"
    checked, breaks = verification.verify(session)
    assert checked > 0 and breaks == []
    counts = (
        session.scalar(select(func.count()).select_from(Agreement)),
        session.scalar(select(func.count()).select_from(Intent)),
        session.scalar(select(func.count()).select_from(Offer)),
    )
    again = seed(session, settings, analytics=False)
    assert again.agreements_seeded == 0
    assert counts == (
        session.scalar(select(func.count()).select_from(Agreement)),
        session.scalar(select(func.count()).select_from(Intent)),
        session.scalar(select(func.count()).select_from(Offer)),
    )
