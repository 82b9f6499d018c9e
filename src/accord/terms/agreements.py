"""Proffer, answer, withdraw: every change is one ledger event on the person's chain.

A person proffers a roster entry to one brand or to every brand they have a relationship with
(now or later). Each (person, brand, roster id) has at most one live agreement row: pending
until the brand answers (accept, offer one alternative from the roster, or decline), accepted
at once when the brand publishes the entry as accepted. `settle` writes the rows that the
person's and the brands' situation calls for: pending rows for brands a person started a
relationship with after proffering to every brand, and acceptances by published lists. Until
it runs, `effects` already applies what it will write, so nothing waits for it.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime
from functools import cache
from typing import Any

from sqlalchemy import Uuid, and_, bindparam, delete, exists, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from accord.brands import service as brands
from accord.consent import service as consent
from accord.core.db import INDIVIDUAL_PROFILE, Base, utcnow
from accord.core.direct import Direct
from accord.core.errors import Conflict, InvalidInput, NotFound
from accord.core.prepared import Prepared
from accord.core.read_memo import remembered
from accord.core.signing import public_key_jwk
from accord.relationships import service as relationships
from accord.terms import records, roster
from accord.terms.models import Agreement, BrandAcceptance, PersonTerms, Proffer
from accord.terms.signer import Signer
from accord.terms.vocabulary import Action, Answer, Effect, Status

PORTAL, API, SYSTEM, INTENT_ACCEPT = "portal", "api", "system", "intent_accept"
PUBLISHED = "published"


def _record_event(
    session: Session,
    person_id: uuid.UUID,
    action: Action,
    source: str,
    brand_id: uuid.UUID | None,
    value: dict[str, Any],
) -> None:
    consent.append(
        session,
        subject=person_id,
        brand=brand_id,
        action=action.value,
        source=source,
        value=value,
    )


def _terms_value(row: Agreement | Proffer, **more: Any) -> dict[str, Any]:
    return {"terms": row.slug, "version": row.version, **more}


# The person's side.


def proffer(
    session: Session,
    person_id: uuid.UUID,
    slug: str,
    version: int | None,
    brand_id: uuid.UUID | None,
    *,
    source: str = PORTAL,
    signer: Signer | None = None,
) -> Proffer:
    """Proffer a roster entry (its latest version unless `version`) to one brand, or to every
    brand when `brand_id` is None."""
    entry = roster.entry(session, slug, version)
    if brand_id is not None:
        brand = brands.get_brand(session, brand_id)
        if relationships.state_of(session, person_id, brand_id) not in ("active", "paused"):
            raise Conflict(
                f"You have no relationship with {brand.name}: follow it first, or proffer the "
                "agreement to every brand.",
                field="brand",
            )
    consent.hold(session, person_id)
    active = session.scalars(
        select(Proffer).where(
            Proffer.person_id == person_id,
            Proffer.slug == entry.slug,
            Proffer.withdrawn_at.is_(None),
        )
    ).all()
    for existing in active:
        if existing.brand_id is None:
            raise Conflict(f"You proffer '{entry.title}' to every brand already.", field="terms")
        if existing.brand_id == brand_id:
            raise Conflict(f"You proffer '{entry.title}' to this brand already.", field="terms")
    made = Proffer(person_id=person_id, brand_id=brand_id, slug=entry.slug, version=entry.version)
    session.add(made)
    session.flush()
    value = _terms_value(made, proffer=str(made.id), to="brand" if brand_id else "every brand")
    _record_event(session, person_id, Action.proffer, source, brand_id, value)
    if brand_id is not None:
        _insert_rows(session, [_pending_row(made, brand_id, made.created_at)])
    settle(session, person_id=person_id, signer=signer)
    return made


def withdraw(
    session: Session, person_id: uuid.UUID, proffer_id: uuid.UUID, *, source: str = PORTAL
) -> Proffer:
    """Withdraw a proffer: every agreement that came from it ends, each with its own event
    (so each brand's consent feed shows it)."""
    consent.hold(session, person_id)
    found = session.scalars(
        select(Proffer).where(Proffer.id == proffer_id, Proffer.person_id == person_id)
    ).one_or_none()
    if found is None:
        raise NotFound("You have no such proffer.", field="proffer")
    if found.withdrawn_at is not None:
        raise Conflict("This proffer is withdrawn already.", field="proffer")
    now = utcnow()
    found.withdrawn_at = now
    rows = session.scalars(
        select(Agreement).where(Agreement.proffer_id == found.id, Agreement.withdrawn_at.is_(None))
    ).all()
    _record_event(
        session, person_id, Action.withdraw, source, found.brand_id,
        _terms_value(found, proffer=str(found.id)),
    )  # fmt: skip
    for row in rows:
        row.status, row.withdrawn_at = Status.withdrawn.value, now
        if row.brand_id != found.brand_id:
            _record_event(
                session, person_id, Action.withdraw, source, row.brand_id,
                _terms_value(row, agreement=str(row.id)),
            )  # fmt: skip
    session.flush()
    return found


def set_only_my_terms(
    session: Session, person_id: uuid.UUID, on: bool, *, source: str = PORTAL
) -> bool:
    """ "Only relationships on my terms": True when it changed."""
    consent.hold(session, person_id)
    row = session.get(PersonTerms, person_id)
    if row is None:
        if not on:
            return False
        row = PersonTerms(person_id=person_id, only_my_terms=True)
        session.add(row)
    elif row.only_my_terms == on:
        return False
    row.only_my_terms = on
    _record_event(session, person_id, Action.only_mine, source, None, {"on": on})
    session.flush()
    return True


# "My terms" reads the stance on every view: one column, prepared (`accord.core.prepared`), not
# the row's ORM object.
_ONLY_MY_TERMS = Prepared(
    select(PersonTerms.only_my_terms).where(
        PersonTerms.person_id == bindparam("person", type_=Uuid())
    )
)


def only_my_terms(session: Session, person_id: uuid.UUID) -> bool:
    session.flush()  # what the ORM's autoflush would do: a stance just set shows
    row = _ONLY_MY_TERMS.first(session, person=person_id)
    return bool(row and row.only_my_terms)


def accept_alternative(
    session: Session,
    person_id: uuid.UUID,
    agreement_id: uuid.UUID,
    *,
    source: str = PORTAL,
    signer: Signer | None = None,
) -> Agreement:
    """The person takes the alternative the brand offered: it is agreed and signed."""
    consent.hold(session, person_id)
    row = _own_row(session, person_id, agreement_id)
    if row.status != Status.alternative or row.alt_slug is None or row.alt_version is None:
        raise Conflict("The brand offered no alternative to this agreement.", field="agreement")
    _accept(session, row, (row.alt_slug, row.alt_version), by="person", source=source)
    if signer is not None:
        record_of(session, row, signer)
    return row


def _own_row(session: Session, person_id: uuid.UUID, agreement_id: uuid.UUID) -> Agreement:
    row = session.scalars(
        select(Agreement).where(Agreement.id == agreement_id, Agreement.subject_id == person_id)
    ).one_or_none()
    if row is None:
        raise NotFound("You have no such agreement.", field="agreement")
    session.refresh(row)
    return row


# The brand's side.


def publish(
    session: Session,
    brand_id: uuid.UUID,
    entries: Sequence[tuple[str, int]],
    *,
    signer: Signer | None = None,
) -> list[roster.Entry]:
    """Set the list of roster entries the brand accepts. Proffers of a listed entry are
    accepted at once, those waiting now included; agreements already signed stay in force
    when an entry leaves the list."""
    chosen = []
    for i, (slug, version) in enumerate(entries):
        chosen.append(
            roster.entry(
                session,
                slug,
                version,
                field=f"accepts.{i}.id",
                version_field=f"accepts.{i}.version",
            )
        )
    # What the old list accepted is written down before the list changes.
    settle(session, brand_id=brand_id, signer=signer)
    wanted = {e.key for e in chosen}
    current = _listed(session, brand_id)
    for slug, version in current - wanted:
        session.execute(
            delete(BrandAcceptance).where(
                BrandAcceptance.brand_id == brand_id,
                BrandAcceptance.slug == slug,
                BrandAcceptance.version == version,
            )
        )
    for slug, version in sorted(wanted - current):
        session.add(BrandAcceptance(brand_id=brand_id, slug=slug, version=version))
    session.flush()
    settle(session, brand_id=brand_id, signer=signer)
    return published(session, brand_id)


def published(session: Session, brand_id: uuid.UUID) -> list[roster.Entry]:
    keys = _listed(session, brand_id)
    return [e for e in roster.entries(session) if e.key in keys]


def published_keys(session: Session, brand_id: uuid.UUID) -> list[tuple[str, int]]:
    """The (id, version) of each entry the brand publishes, in the roster's order (id, newest
    version first): what `published` gives without reading the roster's texts, once a request
    (an intent's page asks for the list and again for whether the brand may offer)."""
    return list(
        remembered(
            session,
            ("terms_published_keys", brand_id),
            lambda: [
                (row.slug, row.version)
                for row in session.execute(
                    select(BrandAcceptance.slug, BrandAcceptance.version)
                    .where(BrandAcceptance.brand_id == brand_id)
                    .order_by(BrandAcceptance.slug, BrandAcceptance.version.desc())
                )
            ],
        )
    )


# Built once and run on the session's cursor (`core.direct`): the console's terms page reads it
# on every view.
_LISTED = Direct(
    select(BrandAcceptance.slug, BrandAcceptance.version).where(
        BrandAcceptance.brand_id == bindparam("brand", type_=Uuid())
    )
)


def _listed(session: Session, brand_id: uuid.UUID) -> set[tuple[str, int]]:
    return {(row.slug, row.version) for row in _LISTED.all(session, brand=brand_id)}


def brand_row(session: Session, brand_id: uuid.UUID, agreement_id: uuid.UUID) -> Agreement:
    row = session.scalars(
        select(Agreement).where(Agreement.id == agreement_id, Agreement.brand_id == brand_id)
    ).one_or_none()
    if row is None:
        raise NotFound("No such agreement.", field="agreement")
    return row


def answer(
    session: Session,
    brand_id: uuid.UUID,
    agreement_id: uuid.UUID,
    given: Answer,
    alternative: tuple[str, int | None] | None = None,
    *,
    source: str = API,
    signer: Signer | None = None,
) -> Agreement:
    """The brand answers a proffered agreement, once."""
    row = brand_row(session, brand_id, agreement_id)
    alt = None
    if given is Answer.alternative:
        if alternative is None:
            raise InvalidInput("Name the alternative you offer.", field="alternative")
        alt = roster.entry(
            session,
            alternative[0],
            alternative[1],
            field="alternative.id",
            version_field="alternative.version",
        )
        if alt.slug == row.slug:
            raise InvalidInput(
                "An alternative is another agreement of the roster, not the one proffered.",
                field="alternative.id",
            )
    elif alternative is not None:
        raise InvalidInput("Only an alternative answer names an alternative.", field="alternative")
    consent.hold(session, row.subject_id)
    session.refresh(row)
    if row.status != Status.pending:
        raise Conflict(f"This agreement was answered already ({row.status}).", field="answer")
    now = utcnow()
    row.answered_at, row.answered_by = now, source
    if given is Answer.accept:
        _accept(session, row, (row.slug, row.version), by=source, source=source)
        if signer is not None:
            record_of(session, row, signer)
        return row
    if alt is not None:
        row.status, row.alt_slug, row.alt_version = Status.alternative.value, alt.slug, alt.version
        value = _terms_value(
            row, agreement=str(row.id), alternative=alt.slug, alt_version=alt.version
        )
        _record_event(session, row.subject_id, Action.alternative, source, brand_id, value)
    else:
        row.status = Status.declined.value
        value = _terms_value(row, agreement=str(row.id))
        _record_event(session, row.subject_id, Action.declined, source, brand_id, value)
    session.flush()
    return row


def _accept(
    session: Session, row: Agreement, agreed: tuple[str, int], *, by: str, source: str
) -> None:
    now = utcnow()
    row.status = Status.accepted.value
    row.agreed_slug, row.agreed_version = agreed
    row.accepted_at = now
    row.answered_at = row.answered_at or now
    row.answered_by = row.answered_by or by
    value = _terms_value(
        row, agreement=str(row.id), agreed=agreed[0], agreed_version=agreed[1], by=by
    )
    _record_event(session, row.subject_id, Action.agreed, source, row.brand_id, value)
    if Effect.no_profiling in roster.entry(session, *agreed).effects:
        _forget_profiles(session, row.subject_id, row.brand_id)
    session.flush()


def _forget_profiles(session: Session, person_id: uuid.UUID, brand_id: uuid.UUID) -> None:
    """No profiling from now on: scores already held go in the same transaction, whichever
    domain holds them (tables marked INDIVIDUAL_PROFILE; the composition root registers every
    domain's tables before any request or command runs)."""
    for table in Base.metadata.sorted_tables:
        if table.info.get(INDIVIDUAL_PROFILE):
            session.execute(
                delete(table).where(table.c.person_id == person_id, table.c.brand_id == brand_id)
            )


# Both sides.


def _pending_row(made: Proffer, brand_id: uuid.UUID, at: datetime) -> dict[str, Any]:
    return {
        "id": uuid.uuid4(),
        "subject_id": made.person_id,
        "brand_id": brand_id,
        "proffer_id": made.id,
        "slug": made.slug,
        "version": made.version,
        "status": Status.pending.value,
        "proffered_at": at,
        "created_at": utcnow(),
    }


def _insert_rows(session: Session, rows: list[dict[str, Any]]) -> None:
    """Insert pending rows; one a concurrent writer made first is left alone (the live-row
    unique index decides)."""
    if not rows:
        return
    insert = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    session.execute(insert(Agreement).on_conflict_do_nothing(), rows)


def _missing_select(person: Any, brand: Any) -> Any:
    """Proffers to every brand that lack a live row with a brand the person is related to."""
    p = Proffer
    related = relationships.related(person_id=person, brand_id=brand).subquery()
    live = select(Agreement.id).where(
        Agreement.subject_id == p.person_id,
        Agreement.brand_id == related.c.brand_id,
        Agreement.slug == p.slug,
        Agreement.withdrawn_at.is_(None),
    )
    return (
        select(p.id, p.person_id, p.slug, p.version, p.created_at, related.c.brand_id)
        .join(related, related.c.person_id == p.person_id)
        .where(p.brand_id.is_(None), p.withdrawn_at.is_(None), ~exists(live))
    )


def _due_select(person: Any, brand: Any) -> Any:
    """Pending rows whose entry the brand publishes."""
    a, b = Agreement, BrandAcceptance
    due = (
        select(a.id, a.subject_id)
        .join(b, and_(b.brand_id == a.brand_id, b.slug == a.slug, b.version == a.version))
        .where(a.status == Status.pending.value, a.withdrawn_at.is_(None))
    )
    if person is not None:
        due = due.where(a.subject_id == person)
    if brand is not None:
        due = due.where(a.brand_id == brand)
    return due.order_by(a.subject_id, a.id)


@cache
def _person_settle_statements() -> tuple[Direct, Direct]:
    person = bindparam("person", type_=Uuid())
    return Direct(_missing_select(person, None)), Direct(_due_select(person, None))


@cache
def _brand_settle_statements() -> tuple[Direct, Direct]:
    brand = bindparam("brand", type_=Uuid())
    return Direct(_missing_select(None, brand)), Direct(_due_select(None, brand))


def settle(
    session: Session,
    *,
    person_id: uuid.UUID | None = None,
    brand_id: uuid.UUID | None = None,
    signer: Signer | None = None,
) -> int:
    """Write what proffers to every brand and published lists call for, for one person, one
    brand, or both: a pending row for each brand the person has since started a relationship
    with, and the acceptance (with its event) of each pending row whose entry the brand
    publishes. Returns how many agreements it accepted."""
    # A person's pages, and the brand's terms page, settle on every view: their statements are
    # built once, the person or the brand bound, and run on the cursor (`core.direct`).
    bound: dict[str, uuid.UUID] | None = None
    due_q: Direct | None = None
    missing: Sequence[Any]
    due_rows: Sequence[Any]
    if person_id is not None and brand_id is None:
        (missing_q, due_q), bound = _person_settle_statements(), {"person": person_id}
    elif brand_id is not None and person_id is None:
        (missing_q, due_q), bound = _brand_settle_statements(), {"brand": brand_id}
    if bound is not None:
        missing = missing_q.all(session, **bound)
    else:
        missing = session.execute(_missing_select(person_id, brand_id)).all()
        due_q = None
    now = utcnow()
    _insert_rows(
        session,
        [
            {
                "id": uuid.uuid4(),
                "subject_id": m.person_id,
                "brand_id": m.brand_id,
                "proffer_id": m.id,
                "slug": m.slug,
                "version": m.version,
                "status": Status.pending.value,
                "proffered_at": m.created_at,
                "created_at": now,
            }
            for m in missing
        ],
    )
    if due_q is not None and bound is not None:
        due_rows = due_q.all(session, **bound)
    else:
        due_rows = session.execute(_due_select(person_id, brand_id)).all()
    accepted = 0
    for agreement_id, subject in due_rows:
        consent.hold(session, subject)
        row = session.get(Agreement, agreement_id)
        if row is None:
            continue
        session.refresh(row)
        if row.status != Status.pending or row.withdrawn_at is not None:
            continue
        _accept(session, row, (row.slug, row.version), by=PUBLISHED, source=SYSTEM)
        accepted += 1
        if signer is not None:
            record_of(session, row, signer)
    return accepted


def record_of(session: Session, row: Agreement, signer: Signer) -> dict[str, Any]:
    """The signed record of an accepted agreement, signed now if it was not yet."""
    if row.status not in (Status.accepted, Status.withdrawn) or row.agreed_slug is None:
        raise Conflict("Only an accepted agreement has a signed record.", field="agreement")
    if row.record is not None:
        return dict(row.record)
    brand = brands.get_brand(session, row.brand_id)
    agreed = roster.entry(session, row.agreed_slug, row.agreed_version)
    instance_jwk = public_key_jwk(signer.instance_key)
    brand_key = signer.brand_key(session, row.brand_id)
    document = {
        "type": records.KIND,
        "v": records.VERSION,
        "agreement": str(row.id),
        "instance": signer.base_url,
        "first_party": {"role": "individual", "id": str(row.subject_id)},
        "second_party": {
            "role": "organisation",
            "id": str(brand.id),
            "slug": brand.slug,
            "name": brand.name,
            "terms_url": f"{signer.base_url}/.well-known/accord-terms/{brand.slug}.json",
        },
        "terms": {
            "id": agreed.slug,
            "version": agreed.version,
            "title": agreed.title,
            "text_sha256": records.text_digest(agreed.text),
            "machine": agreed.machine,
            "follows": agreed.follows,
            "follows_url": agreed.follows_url,
        },
        "proffered": {"id": row.slug, "version": row.version},
        "proffered_at": consent.timestamp(row.proffered_at),
        "accepted_at": consent.timestamp(row.accepted_at or utcnow()),
        "accepted_by": row.answered_by,
        "effects": [e.value for e in agreed.effects],
        "keys": [instance_jwk, public_key_jwk(brand_key)],
    }
    signed = records.sign(document, instance=signer.instance_key, brand=brand_key)
    row.record = signed
    session.flush()
    return signed


# "My terms" reads both on every view: built once, the person bound.
_ROWS_FOR_PERSON = (
    select(Agreement)
    .where(Agreement.subject_id == bindparam("person", type_=Uuid()))
    .order_by(Agreement.withdrawn_at.is_not(None), Agreement.created_at.desc())
)
# Only the columns "My terms" shows, on the cursor (`core.direct`).
_PROFFERS_OF = Direct(
    select(
        Proffer.id,
        Proffer.slug,
        Proffer.version,
        Proffer.brand_id,
        Proffer.created_at,
        Proffer.withdrawn_at,
    )
    .where(Proffer.person_id == bindparam("person", type_=Uuid()))
    .order_by(Proffer.withdrawn_at.is_not(None), Proffer.created_at.desc())
)


def rows_for_person(session: Session, person_id: uuid.UUID) -> list[Agreement]:
    return list(session.scalars(_ROWS_FOR_PERSON, {"person": person_id}))


def proffers_of(session: Session, person_id: uuid.UUID) -> list[Any]:
    """The person's proffers (id, slug, version, brand_id, created_at, withdrawn_at), live ones
    first, newest first."""
    return _PROFFERS_OF.all(session, person=person_id)
