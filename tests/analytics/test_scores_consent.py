"""Consent gates profiling: scores exist only for people who grant `profiling` to the brand."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from accord.analytics import service
from accord.analytics.models import Customer, CustomerScore, ModelFit, SegmentAggregate
from accord.analytics.writer import write_records
from accord.brands.models import Brand
from accord.core.errors import InvalidInput
from accord.people.models import Person
from accord.relationships import decisions
from accord.relationships.models import Relationship
from accord.relationships.vocabulary import Purpose
from tests.analytics.synthetic import CUTOFF, START, transactions
from tests.builders import make_brand, make_person, make_relationship


@dataclass
class Scenario:
    brand: Brand
    granted: list[Relationship]
    others: list[Relationship]
    stranger: Person


def _scores(session: Session, brand: Brand) -> int:
    return int(session.scalar(select(func.count()).where(CustomerScore.brand_id == brand.id)) or 0)


@pytest.fixture
def scenario(session: Session) -> Scenario:
    """250 customers: 10 linked to related people (6 grant profiling), the rest anonymous."""
    brand = make_brand(session)
    people = [make_person(session) for _ in range(10)]
    rels = [make_relationship(session, person=p, brand=brand) for p in people]
    for rel in rels[:6]:
        decisions.set_purpose(session, rel, Purpose.profiling, True, decisions.PORTAL)
    stranger = make_person(session)  # an Accord user with purchases, unrelated to the brand
    # External ids are the people's e-mail addresses (in capitals: matching ignores case).
    names = [p.email.upper() for p in people] + [stranger.email] + [f"c{i}" for i in range(239)]
    write_records(session, brand.id, transactions(names, seed=11))
    return Scenario(brand, rels[:6], rels[6:], stranger)


def test_only_people_granting_profiling_get_scores(session: Session, scenario: Scenario) -> None:
    result = service.fit(session, scenario.brand.id, cutoff=CUTOFF, calibration_start=START)
    assert result.customers > 200 and result.scored == 6
    rows = session.scalars(select(CustomerScore).where(CustomerScore.brand_id == scenario.brand.id))
    assert sorted(r.person_id for r in rows) == sorted(r.person_id for r in scenario.granted)
    for rel in scenario.granted:
        score = service.scores_for(session, scenario.brand.id, rel.person_id)
        assert score is not None and score.fit_id == result.fit_id and score.clv >= 0
        assert 0 <= score.p_alive <= 1 and score.segment in {
            "clv_top_10", "clv_next_40", "clv_bottom_50",
        }  # fmt: skip
    for rel in scenario.others:
        assert service.scores_for(session, scenario.brand.id, rel.person_id) is None
    linked = session.scalars(
        select(Customer.person_id).where(
            Customer.brand_id == scenario.brand.id, Customer.person_id.is_not(None)
        )
    ).all()
    # The unrelated person's purchases stay anonymous: no link, no score.
    assert len(linked) == 10 and scenario.stranger.id not in linked

    total = result.total
    assert total is not None and total.customers == result.customers
    assert total.consented_customers == 6
    held = session.scalars(select(CustomerScore.clv).where(CustomerScore.fit_id == result.fit_id))
    assert total.consented_equity == pytest.approx(sum(held))
    # The 4 people who grant neither marketing nor profiling are "lost": too few to show.
    assert total.lost_equity is None
    assert "all" not in result.withheld and total.equity > total.consented_equity


def test_withdrawing_profiling_deletes_the_score_in_the_same_transaction(
    session: Session, scenario: Scenario
) -> None:
    service.fit(session, scenario.brand.id, cutoff=CUTOFF, calibration_start=START)
    rel = scenario.granted[0]
    assert decisions.set_purpose(session, rel, Purpose.profiling, False, decisions.PORTAL)
    session.flush()
    gone = select(func.count()).where(
        CustomerScore.brand_id == scenario.brand.id, CustomerScore.person_id == rel.person_id
    )
    assert session.scalar(gone) == 0
    assert _scores(session, scenario.brand) == 5
    assert service.scores_for(session, scenario.brand.id, rel.person_id) is None
    # Ending a relationship takes its grants, and so the score, with it.
    decisions.end(session, scenario.granted[1], decisions.PORTAL)
    session.flush()
    assert _scores(session, scenario.brand) == 4


def test_ended_relationships_count_as_lost_equity(session: Session, scenario: Scenario) -> None:
    for rel in scenario.others:
        decisions.set_purpose(session, rel, Purpose.marketing, True, decisions.PORTAL)
    for rel in scenario.granted[:5]:
        decisions.end(session, rel, decisions.PORTAL)
    result = service.fit(session, scenario.brand.id, cutoff=CUTOFF, calibration_start=START)
    total = result.total
    assert total is not None and result.scored == 1
    assert total.lost_equity is not None and total.lost_equity > 0
    stored = session.scalars(
        select(SegmentAggregate).where(
            SegmentAggregate.fit_id == result.fit_id, SegmentAggregate.segment == "all"
        )
    ).one()
    assert stored.lost_equity == pytest.approx(total.lost_equity)


def test_a_new_fit_replaces_the_scores(session: Session, scenario: Scenario) -> None:
    first = service.fit(session, scenario.brand.id, cutoff=CUTOFF, calibration_start=START)
    second = service.fit(session, scenario.brand.id, cutoff=CUTOFF, model="paretonbd", spend=False)
    assert _scores(session, scenario.brand) == 6
    fits = session.scalars(
        select(CustomerScore.fit_id).where(CustomerScore.brand_id == scenario.brand.id)
    )
    assert set(fits) == {second.fit_id} != {first.fit_id}
    assert service.equity(session, scenario.brand.id) == service.get_fit(
        session, scenario.brand.id, second.fit_id
    )
    assert second.spend_params is None and first.spend_params is not None


def test_a_fit_on_three_customers_says_so_and_stores_nothing(session: Session) -> None:
    brand = make_brand(session)
    write_records(session, brand.id, transactions(["a", "b", "c"], seed=3))
    with pytest.raises(InvalidInput, match=r"Too little data for a BG/NBD fit.*at least 10"):
        service.fit(session, brand.id, cutoff=CUTOFF)
    assert session.scalar(select(func.count()).where(ModelFit.brand_id == brand.id)) == 0
    assert _scores(session, brand) == 0


def test_small_segments_are_withheld(session: Session) -> None:
    """40 customers: the top 10 % band has 4 and cannot be shown."""
    brand = make_brand(session)
    write_records(session, brand.id, transactions([f"s{i}" for i in range(40)], seed=5))
    result = service.fit(session, brand.id, cutoff=CUTOFF, spend=False)
    shown = {s.segment for s in result.segments}
    assert all(s.customers >= 5 for s in result.segments)
    assert shown | set(result.withheld) == {"all", "clv_top_10", "clv_next_40", "clv_bottom_50"}
    assert result.customers == 40 and "clv_top_10" in result.withheld


def test_a_fit_that_does_not_converge_says_so_and_stores_nothing(
    session: Session, scenario: Scenario, monkeypatch: pytest.MonkeyPatch
) -> None:
    from accord.analytics import predict
    from accord.analytics.clv import NotConverged

    def stuck(model: str, summary: object) -> None:
        raise NotConverged("BG/NBD: optimiser stopped at a saddle point")

    monkeypatch.setattr(predict, "fit_purchase_model", stuck)
    with pytest.raises(InvalidInput, match="did not converge: BG/NBD: optimiser stopped"):
        service.fit(session, scenario.brand.id, cutoff=CUTOFF)
    assert session.scalar(select(func.count()).where(ModelFit.brand_id == scenario.brand.id)) == 0
    assert _scores(session, scenario.brand) == 0
