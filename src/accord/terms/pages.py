"""The portal's "My terms" and the console's "Terms" pages."""

from __future__ import annotations

import json
import uuid
from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.orm import Session

from accord.brands import service as brands
from accord.brands.deps import BrandDep
from accord.core.permissions import Permission, role_allows
from accord.core.principals import BrandCaller
from accord.core.web.csrf import csrf_protect
from accord.core.web.deps import SessionDep
from accord.core.web.forms import handle_form, read_form
from accord.core.web.templates import flash, render
from accord.people.deps import PersonDep
from accord.terms import service as terms
from accord.terms.api import signer
from accord.terms.schemas import AnswerIn, ProfferIn
from accord.terms.service import EFFECT_TEXT, Effect, Status

router = APIRouter(include_in_schema=False, dependencies=[Depends(csrf_protect)])

MINE = "terms/my_terms.html"
CONSOLE = "terms/console_terms.html"
STATUS_TEXT = {
    Status.pending: "waiting for an answer",
    Status.accepted: "accepted and signed",
    Status.alternative: "the brand offers an alternative",
    Status.declined: "declined",
    Status.withdrawn: "withdrawn",
}
EVERY_BRAND = ""


def _split(value: str) -> tuple[str, int | None]:
    """A select's "id:version" (or a bare id, for the latest version)."""
    slug, _, version = value.partition(":")
    return slug, int(version) if version.isdigit() else None


def _roster_context(session: Session, entries: list[Any] | None = None) -> dict[str, Any]:
    entries = terms.roster_entries(session) if entries is None else entries
    return {
        "roster": entries,
        "roster_options": [(f"{e.slug}:{e.version}", f"{e.title} (v{e.version})") for e in entries],
        "effect_text": {e.value: EFFECT_TEXT[e] for e in Effect},
        "status_text": {s.value: text for s, text in STATUS_TEXT.items()},
    }


def _record_response(document: dict[str, Any], agreement_id: uuid.UUID) -> Response:
    return Response(
        json.dumps(document, indent=2, ensure_ascii=False),
        media_type="application/json",
        headers={
            "Content-Disposition": f'attachment; filename="accord-agreement-{agreement_id}.json"'
        },
    )


# The person's page.


def _mine(session: Session, person_id: uuid.UUID) -> dict[str, Any]:
    entries = terms.roster_entries(session)  # read once: listed, and named by agreements
    mine = terms.my_terms(session, person_id, roster_read=entries)
    related = terms.related_brands(session, person_id)
    names = {b.id: b.name for b in related}
    return {
        **_roster_context(session, entries),
        "mine": mine,
        "brand_names": names,
        "targets": [(EVERY_BRAND, "Every brand I have a relationship with, now or later")]
        + [(b.slug, b.name) for b in related],
    }


@router.get("/terms", response_class=HTMLResponse)
def my_terms(request: Request, person: PersonDep, session: SessionDep) -> HTMLResponse:
    context = _mine(session, person.person_id)
    first = context["roster_options"][0][0] if context["roster_options"] else ""
    return render(request, MINE, {**context, "values": {"terms": first, "brand": EVERY_BRAND}})


@router.post("/terms/proffers", response_class=HTMLResponse)
async def proffer(request: Request, person: PersonDep, session: SessionDep) -> Response:
    values = await read_form(request, ["terms", "brand"])

    def parse(typed: dict[str, str]) -> ProfferIn | dict[str, str]:
        slug, version = _split(typed["terms"])
        if not slug:
            return {"terms": "Choose an agreement."}
        return ProfferIn(terms=slug, version=version, brand=typed["brand"] or None)

    def act(data: ProfferIn) -> Response:
        brand_id = brands.get_brand_by_slug(session, data.brand).id if data.brand else None
        terms.proffer(
            session, person.person_id, data.terms, data.version, brand_id,
            signer=signer(request),
        )  # fmt: skip
        entry = terms.roster_entry(session, data.terms, data.version)
        to = "every brand you have a relationship with" if brand_id is None else "the brand"
        flash(request, f"You proffer '{entry.title}' to {to}. Answers appear below.", "success")
        return RedirectResponse("/terms", status_code=303)

    return await handle_form(
        request,
        session,
        parse,
        act,
        template=MINE,
        values=values,
        field_of={"version": "terms"},
        context=lambda: _mine(session, person.person_id),
        model=ProfferIn,
    )


@router.post("/terms/proffers/{proffer_id}/withdraw")
def withdraw(
    proffer_id: uuid.UUID, request: Request, person: PersonDep, session: SessionDep
) -> Response:
    terms.withdraw(session, person.person_id, proffer_id)
    flash(request, "Withdrawn: every agreement made from that proffer has ended.", "success")
    return RedirectResponse("/terms", status_code=303)


@router.post("/terms/only-my-terms")
async def only_my_terms(request: Request, person: PersonDep, session: SessionDep) -> Response:
    on = (await read_form(request, ["only_my_terms"]))["only_my_terms"] == "on"
    terms.set_only_my_terms(session, person.person_id, on)
    flash(
        request,
        "Only relationships on your terms: a brand that has not accepted every agreement you "
        "proffer to it cannot send you marketing."
        if on
        else "Brands may market to you without accepting your terms (your consent still rules).",
        "success",
    )
    return RedirectResponse("/terms", status_code=303)


@router.post("/terms/agreements/{agreement_id}/accept-alternative")
def accept_alternative(
    agreement_id: uuid.UUID, request: Request, person: PersonDep, session: SessionDep
) -> Response:
    row = terms.accept_alternative(session, person.person_id, agreement_id, signer=signer(request))
    flash(request, f"Agreed: '{row.agreed_slug}', signed by you and the brand.", "success")
    return RedirectResponse("/terms", status_code=303)


@router.get("/terms/agreements/{agreement_id}/record")
def my_record(
    agreement_id: uuid.UUID, request: Request, person: PersonDep, session: SessionDep
) -> Response:
    row = terms.own_agreement(session, person.person_id, agreement_id)
    return _record_response(terms.record_of(session, row, signer(request)), agreement_id)


# The brand's console page.


def _console(session: Session, caller: BrandCaller) -> dict[str, Any]:
    name = getattr(caller.brand, "name", None)  # the brand's row, read with the sign-in
    items, _ = terms.brand_agreements(session, caller.brand_id, limit=200, brand_name=name)
    published = {e.key for e in terms.published(session, caller.brand_id)}
    return {
        **_roster_context(session),
        "brand": brands.caller_brand(session, caller),  # name, slug
        "can_manage": role_allows(caller.role, Permission.manage_terms),
        "published": {f"{slug}:{version}" for slug, version in published},
        "pending": [a for a in items if a.status == Status.pending],
        "answered": [a for a in items if a.status != Status.pending],
        "keys": brands.public_keys(session, caller.brand_id),
    }


@router.get("/console/terms", response_class=HTMLResponse)
def console(request: Request, caller: BrandDep, session: SessionDep) -> HTMLResponse:
    caller.require(Permission.read_people)
    return render(request, CONSOLE, _console(session, caller))


@router.post("/console/terms/accepted")
async def publish(request: Request, caller: BrandDep, session: SessionDep) -> Response:
    caller.require(Permission.manage_terms)
    form = await request.form()
    chosen = [_split(str(v)) for v in form.getlist("accepts")]
    entries = [(slug, version or 1) for slug, version in chosen]
    found = terms.publish(session, caller.brand_id, entries, signer=signer(request))
    names = ", ".join(e.title for e in found) or "none"
    flash(request, f"Your brand accepts: {names}. Proffers of these are accepted at once.")
    return RedirectResponse("/console/terms", status_code=303)


@router.post("/console/terms/agreements/{agreement_id}/answer", response_class=HTMLResponse)
async def answer(
    agreement_id: uuid.UUID, request: Request, caller: BrandDep, session: SessionDep
) -> Response:
    caller.require(Permission.manage_terms)
    terms.brand_agreement(session, caller.brand_id, agreement_id)  # another brand's: a 404
    values = await read_form(request, ["answer", "alternative"])

    def parse(typed: dict[str, str]) -> AnswerIn | dict[str, str]:
        alternative = None
        if typed["answer"] == "alternative":
            if not typed["alternative"]:
                return {"alternative": "Choose the agreement you offer instead."}
            slug, version = _split(typed["alternative"])
            alternative = {"id": slug, "version": version}
        try:
            return AnswerIn.model_validate({"answer": typed["answer"], "alternative": alternative})
        except ValueError:
            return {"answer": "Accept, offer an alternative, or decline."}

    def act(data: AnswerIn) -> Response:
        alternative = (data.alternative.id, data.alternative.version) if data.alternative else None
        terms.answer(
            session, caller.brand_id, agreement_id, data.answer, alternative,
            source="console", signer=signer(request),
        )  # fmt: skip
        flash(request, "Answered: the person sees your answer now.", "success")
        return RedirectResponse("/console/terms", status_code=303)

    return await handle_form(
        request,
        session,
        parse,
        act,
        template=CONSOLE,
        values=values,
        field_of={"alternative.id": "alternative", "alternative.version": "alternative"},
        fallback_field="answer",
        context=lambda: {**_console(session, caller), "answering": agreement_id},
        model=AnswerIn,
    )


@router.get("/console/terms/agreements/{agreement_id}/record")
def brand_record(
    agreement_id: uuid.UUID, request: Request, caller: BrandDep, session: SessionDep
) -> Response:
    caller.require(Permission.read_people)
    row = terms.brand_agreement(session, caller.brand_id, agreement_id)
    return _record_response(terms.record_of(session, row, signer(request)), agreement_id)
