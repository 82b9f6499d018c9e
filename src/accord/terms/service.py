"""The terms domain's public face: other domains and the routes come in through here.

Other domains read personal terms only as effects: `effects_for` for one (person, brand), and
`holds` / `forbids` for the same rule as SQL over a whole set (the gate's audience, analytics).
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from functools import cache
from typing import Any, cast

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import Select, Uuid, bindparam, select
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement

from accord.brands import service as brands
from accord.brands.models import Brand
from accord.core.direct import Direct
from accord.core.errors import NotFound
from accord.core.pagination import MAX_LIMIT, cut_page, paginate
from accord.core.settings import Settings
from accord.relationships import service as relationships
from accord.terms import agreements, records, roster
from accord.terms import effects as effects_module
from accord.terms.agreements import (
    accept_alternative,
    answer,
    only_my_terms,
    proffer,
    publish,
    published,
    published_keys,
    record_of,
    set_only_my_terms,
    settle,
    withdraw,
)
from accord.terms.effects import (
    FORBIDDEN_BY,
    Effects,
    effects_for,
    effects_for_many,
    forbids,
    holds,
)
from accord.terms.models import Agreement
from accord.terms.records import Verdict
from accord.terms.roster import Entry
from accord.terms.schemas import (
    AgreementOut,
    EffectsOut,
    MyTermsOut,
    PinnedTermsRef,
    ProfferOut,
    RosterEntryOut,
    TermsRef,
)
from accord.terms.signer import Signer
from accord.terms.vocabulary import EFFECT_TEXT, Answer, Effect, Status

__all__ = [
    "EFFECT_TEXT",
    "FORBIDDEN_BY",
    "Answer",
    "Effect",
    "Effects",
    "Entry",
    "PinnedTermsRef",
    "Signer",
    "Status",
    "TermsRef",
    "Verdict",
    "accept_alternative",
    "answer",
    "effects_for",
    "effects_for_many",
    "forbids",
    "holds",
    "only_my_terms",
    "proffer",
    "publish",
    "published",
    "published_keys",
    "record_of",
    "set_only_my_terms",
    "settle",
    "withdraw",
]


def request_signer(settings: Settings, instance_key: Ed25519PrivateKey) -> Signer:
    """What signs agreement records in a request: the instance's key (kept by the app) and,
    through the instance secret, each brand's."""
    return Signer.from_settings(settings, instance_key)


def publishes(brand: Any, slug: Any, version: Any) -> ColumnElement[bool]:
    """TRUE where the brand publishes the roster entry (id, version) as accepted: SQL over
    columns or values, for other domains' set-based statements."""
    return effects_module.published_sql(brand, slug, version)


def roster_entries(session: Session, *, latest_only: bool = False) -> list[Entry]:
    return roster.entries(session, latest_only=latest_only)


def roster_entry(
    session: Session,
    slug: str,
    version: int | None = None,
    *,
    field: str = "terms",
    version_field: str = "version",
) -> Entry:
    """One version of a roster entry (the latest without `version`); a 404 naming `field` (or
    `version_field`) when there is no such entry."""
    return roster.entry(session, slug, version, field=field, version_field=version_field)


def entry_out(entry: Entry) -> RosterEntryOut:
    return RosterEntryOut(
        id=entry.slug,
        version=entry.version,
        title=entry.title,
        text=entry.text,
        machine=entry.machine,
        follows=entry.follows,
        follows_url=entry.follows_url,
        effects=[e.value for e in entry.effects],
    )


def verify_record(document: Any, trusted: list[Any] | None = None) -> Verdict:
    return records.verify(document, trusted)


def _ref(slug: str | None, version: int | None) -> PinnedTermsRef | None:
    if slug is None or version is None:
        return None
    return PinnedTermsRef(id=slug, version=version)


def _entries_by_key(session: Session) -> dict[tuple[str, int], Entry]:
    """The roster read once, for a list of agreements (each names an entry it agreed to)."""
    return {e.key: e for e in roster.entries(session)}


def agreement_out(
    session: Session,
    row: Agreement,
    names: dict[uuid.UUID, str],
    entries: dict[tuple[str, int], Entry] | None = None,
) -> AgreementOut:
    """`entries`: the roster by (id, version) when the caller read it already."""
    if row.brand_id not in names:
        names[row.brand_id] = brands.get_brand(session, row.brand_id).name
    effects: list[str] = []
    if row.status == Status.accepted and row.agreed_slug and row.agreed_version:
        key = (row.agreed_slug, row.agreed_version)
        agreed = (entries or {}).get(key) or roster.entry(session, *key)
        effects = [e.value for e in agreed.effects]
    return AgreementOut(
        id=row.id,
        person_id=row.subject_id,
        brand_id=row.brand_id,
        brand_name=names[row.brand_id],
        terms=PinnedTermsRef(id=row.slug, version=row.version),
        status=row.status,
        alternative=_ref(row.alt_slug, row.alt_version),
        agreed=_ref(row.agreed_slug, row.agreed_version),
        answered_by=row.answered_by,
        proffered_at=row.proffered_at,
        answered_at=row.answered_at,
        accepted_at=row.accepted_at,
        withdrawn_at=row.withdrawn_at,
        effects=effects,
        signed=row.record is not None,
    )


def my_terms(
    session: Session, person_id: uuid.UUID, *, roster_read: list[Entry] | None = None
) -> MyTermsOut:
    """The person's stance, proffers and every agreement that came from them (settled first,
    so a brand they followed since a proffer to every brand is there). `roster_read`: the
    roster, when the caller read it already (a page that lists it too)."""
    settle(session, person_id=person_id)
    rows = agreements.rows_for_person(session, person_id)
    by_proffer: dict[uuid.UUID | None, list[Agreement]] = {}
    for row in rows:
        by_proffer.setdefault(row.proffer_id, []).append(row)
    if roster_read is None:
        roster_read = roster.entries(session)
    entries = {e.key: e for e in roster_read}
    # Every brand named, in one read (not one a brand).
    names = _agreement_brand_names(session, person_id) if rows else {}
    proffers = [
        ProfferOut(
            id=p.id,
            terms=PinnedTermsRef(id=p.slug, version=p.version),
            title=entries[(p.slug, p.version)].title if (p.slug, p.version) in entries else p.slug,
            brand_id=p.brand_id,
            created_at=p.created_at,
            withdrawn_at=p.withdrawn_at,
            agreements=[
                agreement_out(session, r, names, entries) for r in by_proffer.get(p.id, [])
            ],
        )
        for p in agreements.proffers_of(session, person_id)
    ]
    return MyTermsOut(only_my_terms=only_my_terms(session, person_id), proffers=proffers)


# The names of the brands the person has agreement rows with, on the cursor (`core.direct`).
_AGREEMENT_BRANDS = Direct(
    select(Brand.id, Brand.name).where(
        Brand.id.in_(
            select(Agreement.brand_id).where(
                Agreement.subject_id == bindparam("person", type_=Uuid())
            )
        )
    )
)


def _agreement_brand_names(session: Session, person_id: uuid.UUID) -> dict[uuid.UUID, str]:
    return {row.id: row.name for row in _AGREEMENT_BRANDS.all(session, person=person_id)}


def own_proffer(session: Session, person_id: uuid.UUID, proffer_id: uuid.UUID) -> ProfferOut:
    for found in my_terms(session, person_id).proffers:
        if found.id == proffer_id:
            return found
    raise NotFound("You have no such proffer.", field="proffer")


def own_agreement(session: Session, person_id: uuid.UUID, agreement_id: uuid.UUID) -> Agreement:
    row = session.scalars(
        select(Agreement).where(Agreement.id == agreement_id, Agreement.subject_id == person_id)
    ).one_or_none()
    if row is None:
        raise NotFound("You have no such agreement.", field="agreement")
    return row


def brand_agreement(session: Session, brand_id: uuid.UUID, agreement_id: uuid.UUID) -> Agreement:
    return agreements.brand_row(session, brand_id, agreement_id)


def brand_agreements(
    session: Session,
    brand_id: uuid.UUID,
    *,
    status: Status | None = None,
    cursor: str | None = None,
    limit: int = 50,
    brand_name: str | None = None,
) -> tuple[list[AgreementOut], str | None]:
    """The agreements people proffered to the brand, newest first (settled first).
    `brand_name`: the brand's name, when the caller has it (read with the sign-in)."""
    settle(session, brand_id=brand_id)
    rows: Sequence[Agreement]
    if status is None and not cursor and 1 <= limit <= MAX_LIMIT:
        # The console's list, as `paginate` reads it, from a statement built once: building it
        # and its cache key cost more than running it on every view.
        read = session.scalars(_first_page(limit), {"brand": brand_id}).all()
        rows, next_cursor = cut_page(read, limit, lambda last: (last.created_at, last.id))
    else:
        query = select(Agreement).where(Agreement.brand_id == brand_id)
        if status is not None:
            query = query.where(Agreement.status == status.value)
        rows, next_cursor = paginate(
            session,
            query,
            created_at=Agreement.created_at,
            row_id=Agreement.id,
            cursor=cursor,
            limit=limit,
        )
    names: dict[uuid.UUID, str] = {} if brand_name is None else {brand_id: brand_name}
    entries = _entries_by_key(session) if rows else {}
    return [agreement_out(session, r, names, entries) for r in rows], next_cursor


@cache
def _first_page(limit: int) -> Select[Any]:
    return (
        select(Agreement)
        .where(Agreement.brand_id == bindparam("brand", type_=Uuid()))
        .order_by(Agreement.created_at.desc(), Agreement.id.desc())
        .limit(limit + 1)
    )


def effects_out(session: Session, person_id: uuid.UUID, brand_id: uuid.UUID) -> EffectsOut:
    found = effects_for(session, person_id, brand_id)
    return EffectsOut(
        person_id=person_id,
        brand_id=brand_id,
        effects=sorted(e.value for e in found.effects),
        in_force=[PinnedTermsRef(id=s, version=v) for s, v in sorted(found.in_force)],
        unmet=[PinnedTermsRef(id=s, version=v) for s, v in sorted(found.unmet)],
    )


def effects_for_brand(session: Session, brand_id: uuid.UUID, person_id: uuid.UUID) -> EffectsOut:
    """What a related person's terms allow the brand; anyone else is a 404."""
    if relationships.state_of(session, person_id, brand_id) is None:
        raise NotFound("No such person.")
    return effects_out(session, person_id, brand_id)


def panel(session: Session, person_id: uuid.UUID, brand_id: uuid.UUID | None) -> dict[str, Any]:
    """The relationship page's section: agreements with this brand and the effects in force
    (the live rows and the effects come from one read, `effects.with_brand`)."""
    if brand_id is None:
        return {"terms_rows": [], "terms_effects": []}
    found = effects_module.with_brand(session, person_id, brand_id)
    return {
        "terms_rows": found.rows,
        "terms_effects": [(e.value, EFFECT_TEXT[e]) for e in sorted(found.effects.effects)],
    }


def export_for(session: Session, person_id: uuid.UUID) -> dict[str, Any]:
    """For the person's export: their stance, every agreement and the effects in force with
    each brand they have an agreement with."""
    mine = my_terms(session, person_id)
    brand_ids = sorted(
        {a.brand_id for p in mine.proffers for a in p.agreements}, key=lambda b: str(b)
    )
    return {
        "only_my_terms": mine.only_my_terms,
        "proffers": [p.model_dump(mode="json") for p in mine.proffers],
        "effects": [effects_out(session, person_id, b).model_dump(mode="json") for b in brand_ids],
    }


def well_known_brand(session: Session, slug: str, base_url: str) -> dict[str, Any]:
    """`/.well-known/accord-terms/<slug>.json`: what the brand accepts and its public keys."""
    brand = brands.get_brand_by_slug(session, slug)
    return {
        "brand": {"id": str(brand.id), "slug": brand.slug, "name": brand.name},
        "instance": base_url,
        "accepts": [
            {"id": e.slug, "version": e.version, "title": e.title}
            for e in published(session, brand.id)
        ],
        "keys": brands.public_keys(session, brand.id),
    }


def well_known_instance(
    session: Session, base_url: str, instance_jwk: dict[str, str]
) -> dict[str, Any]:
    """`/.well-known/accord-terms.json`: the roster, the instance key, each brand's document."""
    return {
        "instance": base_url,
        "roster": [entry_out(e).model_dump() for e in roster.entries(session)],
        "keys": [instance_jwk],
        "brands": [
            {
                "slug": b.slug,
                "name": b.name,
                "terms_url": f"{base_url}/.well-known/accord-terms/{b.slug}.json",
            }
            for b in relationships.directory(session)
        ],
    }


_RELATED = relationships.related(
    person_id=cast(Any, bindparam("person_id", type_=Uuid()))
).subquery()
# "My terms" lists them on every view: their id, slug and name, built once (not every
# relationship with its brand's row and the person's choices, as the relationships page reads).
_RELATED_BRANDS = Direct(
    select(Brand.id, Brand.slug, Brand.name)
    .join_from(Brand, _RELATED, _RELATED.c.brand_id == Brand.id)
    .order_by(Brand.name)
)


def related_brands(session: Session, person_id: uuid.UUID) -> list[Any]:
    """The brands the person has entered a relationship with and not ended, by name (rows of
    their id, slug and name)."""
    return _RELATED_BRANDS.all(session, person_id=person_id)
