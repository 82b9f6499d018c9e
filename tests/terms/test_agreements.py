"""Proffer, answer, withdraw: each a ledger event; acceptance by a published list; effects."""

from __future__ import annotations

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from accord.consent import ledger
from accord.consent.models import LedgerEvent
from accord.core.errors import Conflict, NotFound
from accord.core.settings import Settings
from accord.terms import service as terms
from accord.terms.models import Agreement
from accord.terms.service import Answer, Effect, Signer, Status
from tests.builders import make_brand, make_person, make_relationship


def actions(session: Session, person_id: object) -> list[str]:
    return [e.action for e in ledger.events_for(session, person_id)]  # type: ignore[arg-type]


def test_a_per_brand_proffer_waits_then_the_brand_accepts_and_both_sign(
    session: Session, settings: Settings
) -> None:
    brand, person = make_brand(session), make_person(session)
    make_relationship(session, person=person, brand=brand)
    made = terms.proffer(session, person.id, "no-stalking", None, brand.id)
    row = session.scalars(select(Agreement).where(Agreement.proffer_id == made.id)).one()
    assert row.status == Status.pending
    assert terms.effects_for(session, person.id, brand.id).effects == frozenset()
    signer = Signer.from_settings(settings)
    terms.answer(session, brand.id, row.id, Answer.accept, signer=signer)
    assert row.status == Status.accepted and row.record is not None
    found = terms.effects_for(session, person.id, brand.id)
    assert found.effects == {Effect.no_tracking, Effect.no_profiling}
    assert terms.verify_record(row.record).ok
    assert actions(session, person.id)[-2:] == ["terms_proffer", "terms_agreed"]


def test_a_listed_entry_is_accepted_at_once_and_a_second_answer_is_refused(
    session: Session,
) -> None:
    brand, person = make_brand(session), make_person(session)
    make_relationship(session, person=person, brand=brand)
    terms.publish(session, brand.id, [("no-sharing", 1)])
    made = terms.proffer(session, person.id, "no-sharing", 1, brand.id)
    row = session.scalars(select(Agreement).where(Agreement.proffer_id == made.id)).one()
    assert (row.status, row.answered_by) == (Status.accepted, "published")
    events = len(actions(session, person.id))
    with pytest.raises(Conflict) as refused:
        terms.answer(session, brand.id, row.id, Answer.decline)
    assert refused.value.field == "answer"
    assert row.status == Status.accepted and len(actions(session, person.id)) == events


def test_a_proffer_to_every_brand_reaches_brands_followed_later(session: Session) -> None:
    early, late, person = make_brand(session), make_brand(session), make_person(session)
    make_relationship(session, person=person, brand=early)
    terms.publish(session, late.id, [("no-ai-training", 1)])
    terms.proffer(session, person.id, "no-ai-training", None, None)
    make_relationship(session, person=person, brand=late)
    # In force before anything is written: the late brand publishes the entry.
    assert terms.effects_for(session, person.id, late.id).holds(Effect.no_ai_training)
    assert not terms.effects_for(session, person.id, early.id).holds(Effect.no_ai_training)
    assert terms.settle(session, person_id=person.id) == 1
    mine = terms.my_terms(session, person.id)
    statuses = {a.brand_id: a.status for a in mine.proffers[0].agreements}
    assert statuses == {early.id: "pending", late.id: "accepted"}


def test_only_my_terms_forbids_marketing_until_the_brand_accepts(session: Session) -> None:
    brand, person = make_brand(session), make_person(session)
    make_relationship(session, person=person, brand=brand)
    terms.proffer(session, person.id, "no-sharing", None, None)
    assert not terms.effects_for(session, person.id, brand.id).forbids("marketing")
    assert terms.set_only_my_terms(session, person.id, True)
    assert not terms.set_only_my_terms(session, person.id, True)
    assert terms.effects_for(session, person.id, brand.id).forbids("marketing")
    row = session.scalars(select(Agreement).where(Agreement.brand_id == brand.id)).one()
    terms.answer(session, brand.id, row.id, Answer.accept)
    assert not terms.effects_for(session, person.id, brand.id).forbids("marketing")
    assert terms.effects_for(session, person.id, brand.id).forbids("sharing")


def test_an_alternative_taken_by_the_person_is_what_is_agreed(
    session: Session, settings: Settings
) -> None:
    brand, person = make_brand(session), make_person(session)
    make_relationship(session, person=person, brand=brand)
    made = terms.proffer(session, person.id, "service-only", None, brand.id)
    row = session.scalars(select(Agreement).where(Agreement.proffer_id == made.id)).one()
    terms.answer(session, brand.id, row.id, Answer.alternative, ("no-stalking", None))
    assert row.status == Status.alternative
    signer = Signer.from_settings(settings)
    terms.accept_alternative(session, person.id, row.id, signer=signer)
    assert (row.status, row.agreed_slug) == (Status.accepted, "no-stalking")
    assert row.record is not None and row.record["terms"]["id"] == "no-stalking"
    assert row.record["proffered"]["id"] == "service-only"
    assert terms.effects_for(session, person.id, brand.id).effects == {
        Effect.no_tracking,
        Effect.no_profiling,
    }


def test_withdrawing_ends_every_agreement_of_the_proffer_with_an_event_per_brand(
    session: Session,
) -> None:
    a, b, person = make_brand(session), make_brand(session), make_person(session)
    for brand in (a, b):
        make_relationship(session, person=person, brand=brand)
        terms.publish(session, brand.id, [("no-stalking", 1)])
    made = terms.proffer(session, person.id, "no-stalking", None, None)
    assert terms.effects_for(session, person.id, a.id).holds(Effect.no_tracking)
    terms.withdraw(session, person.id, made.id)
    for brand in (a, b):
        assert not terms.effects_for(session, person.id, brand.id).effects
    withdrawals = session.scalars(
        select(LedgerEvent.brand_id).where(
            LedgerEvent.subject_id == person.id, LedgerEvent.action == "terms_withdraw"
        )
    ).all()
    assert sorted(map(str, withdrawals), key=str) == sorted([str(None), str(a.id), str(b.id)])
    with pytest.raises(Conflict):
        terms.withdraw(session, person.id, made.id)


def test_bad_roster_ids_versions_and_brands_write_nothing(session: Session) -> None:
    brand, stranger, person = make_brand(session), make_brand(session), make_person(session)
    make_relationship(session, person=person, brand=brand)
    before = len(actions(session, person.id))
    with pytest.raises(NotFound) as unknown:
        terms.proffer(session, person.id, "no-such-terms", None, None)
    assert unknown.value.field == "terms"
    with pytest.raises(NotFound) as version:
        terms.proffer(session, person.id, "no-stalking", 99, None)
    assert version.value.field == "version"
    with pytest.raises(Conflict) as unrelated:
        terms.proffer(session, person.id, "no-stalking", None, stranger.id)
    assert unrelated.value.field == "brand"
    terms.proffer(session, person.id, "no-stalking", None, None)
    with pytest.raises(Conflict) as twice:
        terms.proffer(session, person.id, "no-stalking", None, brand.id)
    assert twice.value.field == "terms"
    row = session.scalars(select(Agreement).where(Agreement.brand_id == brand.id)).first()
    assert row is None or row.status == Status.pending
    with pytest.raises(NotFound) as listed:
        terms.publish(session, brand.id, [("no-stalking", 1), ("nope", 1)])
    assert listed.value.field == "accepts[1].id"
    assert terms.published(session, brand.id) == []
    assert len(actions(session, person.id)) == before + 1
