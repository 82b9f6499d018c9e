"""The terms API: the roster (public), a person's proffers, a brand's answers and list, and the
well-known documents that publish what each brand accepts and its keys."""

from __future__ import annotations

import uuid
from typing import Any

from fastapi import APIRouter, Query, Request, Response, status

from accord.brands import service as brands
from accord.brands.deps import BRAND_SCOPED, BrandDep
from accord.core.pagination import Page
from accord.core.permissions import Permission
from accord.core.signing import public_key_jwk
from accord.core.web.deps import SessionDep, SettingsDep
from accord.core.web.params import CursorParam, SmallId
from accord.core.web.signing import instance_key
from accord.people.deps import PersonDep
from accord.terms import service as terms
from accord.terms.schemas import (
    AgreementOut,
    AnswerIn,
    EffectsOut,
    MyTermsOut,
    OnlyMyTermsIn,
    OnlyMyTermsOut,
    ProfferIn,
    ProfferOut,
    PublishIn,
    RosterEntryOut,
    RosterId,
)
from accord.terms.service import Signer, Status

public_router = APIRouter(tags=["terms"])
person_router = APIRouter(prefix="/me/terms", tags=["my terms"])
brand_router = APIRouter(prefix="/terms", tags=["terms", BRAND_SCOPED])
well_known = APIRouter(tags=["terms"])

INSTANCE_DOCUMENT = "/.well-known/accord-terms.json"
BRAND_DOCUMENT = "/.well-known/accord-terms/{slug}.json"


def signer(request: Request) -> Signer:
    return terms.request_signer(request.app.state.settings, instance_key(request))


# The roster, for anyone.


@public_router.get("/terms/roster", response_model=list[RosterEntryOut])
def roster(session: SessionDep, latest: bool = False) -> list[RosterEntryOut]:
    """Every personal agreement on the roster (each version; `latest=true`: newest only)."""
    return [terms.entry_out(e) for e in terms.roster_entries(session, latest_only=latest)]


@public_router.get("/terms/roster/{roster_id}/{version}", response_model=RosterEntryOut)
def roster_entry(roster_id: RosterId, version: SmallId, session: SessionDep) -> RosterEntryOut:
    return terms.entry_out(terms.roster_entry(session, roster_id, version))


# A person's terms.


@person_router.get("", response_model=MyTermsOut)
def my_terms(person: PersonDep, session: SessionDep) -> MyTermsOut:
    """Your stance, every proffer and, for each, where each brand stands."""
    return terms.my_terms(session, person.person_id)


@person_router.post("/proffers", response_model=ProfferOut, status_code=status.HTTP_201_CREATED)
def proffer(
    data: ProfferIn, request: Request, person: PersonDep, session: SessionDep
) -> ProfferOut:
    """Proffer a roster entry to one brand (`brand`: its slug) or to every brand you have a
    relationship with, now or later (no `brand`). Brands that publish the entry as accepted
    accept it at once; the others answer."""
    brand_id = brands.get_brand_by_slug(session, data.brand).id if data.brand else None
    made = terms.proffer(
        session,
        person.person_id,
        data.terms,
        data.version,
        brand_id,
        source="api",
        signer=signer(request),
    )
    return terms.own_proffer(session, person.person_id, made.id)


@person_router.post("/proffers/{proffer_id}/withdraw", response_model=ProfferOut)
def withdraw(proffer_id: uuid.UUID, person: PersonDep, session: SessionDep) -> ProfferOut:
    """Withdraw a proffer: every agreement made from it ends."""
    terms.withdraw(session, person.person_id, proffer_id, source="api")
    return terms.own_proffer(session, person.person_id, proffer_id)


@person_router.put("/only-my-terms", response_model=OnlyMyTermsOut)
def only_my_terms(data: OnlyMyTermsIn, person: PersonDep, session: SessionDep) -> OnlyMyTermsOut:
    """ "Only relationships on my terms": a brand that has not accepted every agreement you
    proffer to it cannot send you marketing."""
    terms.set_only_my_terms(session, person.person_id, data.only_my_terms, source="api")
    return OnlyMyTermsOut(only_my_terms=terms.only_my_terms(session, person.person_id))


@person_router.post("/agreements/{agreement_id}/accept-alternative", response_model=AgreementOut)
def accept_alternative(
    agreement_id: uuid.UUID, request: Request, person: PersonDep, session: SessionDep
) -> AgreementOut:
    """Take the alternative a brand offered: it is agreed and signed by both sides."""
    row = terms.accept_alternative(
        session, person.person_id, agreement_id, source="api", signer=signer(request)
    )
    return terms.agreement_out(session, row, {})


@person_router.get("/agreements/{agreement_id}/record")
def my_record(
    agreement_id: uuid.UUID, request: Request, person: PersonDep, session: SessionDep
) -> dict[str, Any]:
    """The signed record of an agreement (check it offline with `accord terms verify FILE`)."""
    row = terms.own_agreement(session, person.person_id, agreement_id)
    return terms.record_of(session, row, signer(request))


@person_router.get("/brands/{brand_id}/effects", response_model=EffectsOut)
def my_effects(brand_id: uuid.UUID, person: PersonDep, session: SessionDep) -> EffectsOut:
    """The effects your terms have with one brand now."""
    brands.get_brand(session, brand_id)
    return terms.effects_out(session, person.person_id, brand_id)


# A brand's side.


@brand_router.get("/accepted", response_model=list[RosterEntryOut])
def accepted(caller: BrandDep, session: SessionDep) -> list[RosterEntryOut]:
    """The roster entries your brand publishes as accepted."""
    caller.require(Permission.read_brand)
    return [terms.entry_out(e) for e in terms.published(session, caller.brand_id)]


@brand_router.put("/accepted", response_model=list[RosterEntryOut])
def publish(
    data: PublishIn, request: Request, caller: BrandDep, session: SessionDep
) -> list[RosterEntryOut]:
    """Set the entries your brand accepts: proffers of them (waiting ones too) are accepted at
    once and signed with your brand's key. Agreements already signed stay in force."""
    caller.require(Permission.manage_terms)
    entries = [(ref.id, ref.version) for ref in data.accepts]
    found = terms.publish(session, caller.brand_id, entries, signer=signer(request))
    return [terms.entry_out(e) for e in found]


@brand_router.get("/agreements", response_model=Page[AgreementOut])
def agreements(
    caller: BrandDep,
    session: SessionDep,
    agreement_status: Status | None = Query(default=None, alias="status"),
    cursor: CursorParam = None,
    limit: int = Query(default=50, ge=1, le=200),
) -> Page[AgreementOut]:
    """Agreements people proffered to your brand, newest first (`status=pending` for those
    waiting for your answer)."""
    caller.require(Permission.read_people)
    items, next_cursor = terms.brand_agreements(
        session, caller.brand_id, status=agreement_status, cursor=cursor, limit=limit
    )
    return Page(items=items, next_cursor=next_cursor)


@brand_router.get("/agreements/{agreement_id}", response_model=AgreementOut)
def agreement(agreement_id: uuid.UUID, caller: BrandDep, session: SessionDep) -> AgreementOut:
    caller.require(Permission.read_people)
    row = terms.brand_agreement(session, caller.brand_id, agreement_id)
    return terms.agreement_out(session, row, {})


@brand_router.post("/agreements/{agreement_id}/answer", response_model=AgreementOut)
def answer(
    agreement_id: uuid.UUID,
    data: AnswerIn,
    request: Request,
    caller: BrandDep,
    session: SessionDep,
) -> AgreementOut:
    """Answer a proffered agreement, once: accept it (signed with your brand's key), offer one
    alternative from the roster, or decline. The person sees the answer."""
    caller.require(Permission.manage_terms)
    alternative = (data.alternative.id, data.alternative.version) if data.alternative else None
    row = terms.answer(
        session,
        caller.brand_id,
        agreement_id,
        data.answer,
        alternative,
        source="api",
        signer=signer(request),
    )
    return terms.agreement_out(session, row, {})


@brand_router.get("/agreements/{agreement_id}/record")
def brand_record(
    agreement_id: uuid.UUID, request: Request, caller: BrandDep, session: SessionDep
) -> dict[str, Any]:
    """Your copy of the signed record: the same document the person keeps."""
    caller.require(Permission.read_people)
    row = terms.brand_agreement(session, caller.brand_id, agreement_id)
    return terms.record_of(session, row, signer(request))


@brand_router.get("/people/{person_id}/effects", response_model=EffectsOut)
def person_effects(person_id: uuid.UUID, caller: BrandDep, session: SessionDep) -> EffectsOut:
    """What a related person's terms allow your brand now (anyone else is a 404)."""
    caller.require(Permission.read_people)
    return terms.effects_for_brand(session, caller.brand_id, person_id)


# Published documents.


@well_known.get(INSTANCE_DOCUMENT, summary="The roster, this instance's key and each brand")
def instance_document(
    request: Request, response: Response, session: SessionDep, settings: SettingsDep
) -> dict[str, Any]:
    response.headers["Cache-Control"] = "public, max-age=300"
    key = signer(request).instance_key
    return terms.well_known_instance(session, settings.base_url, public_key_jwk(key))


@well_known.get(BRAND_DOCUMENT, summary="What one brand accepts, and its public keys")
def brand_document(
    slug: RosterId, response: Response, session: SessionDep, settings: SettingsDep
) -> dict[str, Any]:
    response.headers["Cache-Control"] = "public, max-age=300"
    return terms.well_known_brand(session, slug, settings.base_url)
