"""The person's contact points: list, add (e-mail, phone, postal), verify, remove."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import BaseModel, StringConstraints, field_validator
from pydantic_core import PydanticCustomError
from sqlalchemy.orm import Session

from accord.core import pickers
from accord.core.errors import AccordError
from accord.core.validation import Email
from accord.core.web.csrf import csrf_protect
from accord.core.web.deps import SessionDep, SettingsDep
from accord.core.web.forms import act_or_fail, handle_form, read_form, show_form
from accord.core.web.templates import flash, render
from accord.people import contacts, service
from accord.people.deps import PersonDep

router = APIRouter(
    tags=["people pages"], include_in_schema=False, dependencies=[Depends(csrf_protect)]
)

PAGE = "people/contacts.html"
CHANNEL_TEXT = {"email": "E-mail", "sms": "Phone (SMS)", "push": "Push", "postal": "Post"}


class EmailForm(BaseModel):
    email: Email


class PhoneForm(BaseModel):
    number: Annotated[str, StringConstraints(strip_whitespace=True, min_length=3, max_length=32)]
    region: str

    @field_validator("region")
    @classmethod
    def _region(cls, value: str) -> str:
        value = value.strip().upper()
        if value and value not in pickers.country_codes():
            raise PydanticCustomError("region", "not a country in the list")
        return value


class PostalForm(BaseModel):
    postal: Annotated[str, StringConstraints(strip_whitespace=True, min_length=5, max_length=500)]


class CodeForm(BaseModel):
    code: str

    @field_validator("code")
    @classmethod
    def _six_digits(cls, value: str) -> str:
        value = value.strip()
        if len(value) != 6 or not value.isdigit():
            raise ValueError("Enter the six digits from the text message.")
        return value


def _context(session: Session, person_id: uuid.UUID, **extra: Any) -> Callable[[], dict[str, Any]]:
    """What the contact page shows besides the form (for `handle_form`, after a rollback)."""

    def context() -> dict[str, Any]:
        return {
            "points": service.contact_points(session, person_id),
            "channel_text": CHANNEL_TEXT,
            "phone_countries": pickers.country_options(calling_codes=True),
            "code_for": None,
            **extra,
        }

    return context


def _done(request: Request, text: str) -> Response:
    flash(request, text, "success")
    return RedirectResponse("/contacts", status_code=303)


@router.get("/contacts", response_class=HTMLResponse)
def contact_list(request: Request, person: PersonDep, session: SessionDep) -> HTMLResponse:
    context = _context(session, person.person_id)()
    me = service.get_person(session, person.person_id)
    return show_form(request, PAGE, {"region": me.country or ""}, **context)


@router.post("/contacts/email", response_class=HTMLResponse)
async def add_email(
    request: Request, person: PersonDep, session: SessionDep, settings: SettingsDep
) -> Response:
    def act(data: EmailForm) -> Response:
        mailer = request.app.state.mailer
        contacts.add_email(session, settings, mailer, person.person_id, data.email)
        return _done(request, f"We sent a link to {data.email}. Follow it to confirm the address.")

    return await handle_form(
        request,
        session,
        EmailForm,
        act,
        template=PAGE,
        context=_context(session, person.person_id),
        field_of={"address": "email"},
    )


@router.post("/contacts/phone", response_class=HTMLResponse)
async def add_phone(
    request: Request, person: PersonDep, session: SessionDep, settings: SettingsDep
) -> Response:
    def act(data: PhoneForm) -> Response:
        texter = request.app.state.texter
        point = contacts.add_phone(
            session, settings, texter, person.person_id, data.number, data.region
        )
        return _done(request, f"We sent a six-digit code to {point.address}. Enter it below.")

    return await handle_form(
        request,
        session,
        PhoneForm,
        act,
        template=PAGE,
        context=_context(session, person.person_id),
        field_of={"address": "number"},
    )


@router.post("/contacts/postal", response_class=HTMLResponse)
async def add_postal(request: Request, person: PersonDep, session: SessionDep) -> Response:
    def act(data: PostalForm) -> Response:
        contacts.add_postal(session, person.person_id, data.postal)
        return _done(request, "Your postal address is added.")

    return await handle_form(
        request,
        session,
        PostalForm,
        act,
        template=PAGE,
        context=_context(session, person.person_id),
        field_of={"address": "postal"},
    )


@router.post("/contacts/{contact_id}/verify", response_class=HTMLResponse)
async def verify_phone(
    contact_id: uuid.UUID,
    request: Request,
    person: PersonDep,
    session: SessionDep,
    settings: SettingsDep,
) -> Response:
    def act(data: CodeForm) -> Response:
        contacts.verify_phone(session, settings, person.person_id, contact_id, data.code)
        return _done(request, "Your phone number is verified.")

    return await handle_form(
        request,
        session,
        CodeForm,
        act,
        template=PAGE,
        context=_context(session, person.person_id, code_for=contact_id),
        field_of={"token": "code", "address": "code"},
        # The failed attempt must count, or guessing would be free.
        commit_on=(contacts.WrongCode,),
    )


@router.post("/contacts/{contact_id}/resend")
def resend(
    contact_id: uuid.UUID,
    request: Request,
    person: PersonDep,
    session: SessionDep,
    settings: SettingsDep,
) -> Response:
    """A new code by SMS, or a new link by e-mail, for an address not yet verified."""
    point = contacts.get(session, person.person_id, contact_id)
    if point.verified_at is not None:
        return _done(request, f"{point.address} is verified already.")
    if point.channel == "sms":
        contacts.send_phone_code(session, settings, request.app.state.texter, point)
        return _done(request, f"We sent a new code to {point.address}.")
    contacts.send_email_link(session, settings, request.app.state.mailer, point)
    return _done(request, f"We sent a new link to {point.address}.")


@router.post("/contacts/{contact_id}/remove", response_class=HTMLResponse)
async def remove(
    contact_id: uuid.UUID, request: Request, person: PersonDep, session: SessionDep
) -> Response:
    point = contacts.get(session, person.person_id, contact_id)
    address = point.address

    def act(point_id: uuid.UUID) -> Response:
        contacts.remove(session, person.person_id, point_id)
        return _done(request, f"{address} is removed.")

    return await handle_form(
        request,
        session,
        lambda _: contact_id,
        act,
        values={},
        template=PAGE,
        context=_context(session, person.person_id),
    )


@router.get("/contacts/verify", response_class=HTMLResponse)
def verify_link(request: Request, token: str = "") -> HTMLResponse:
    # A GET never uses the link up: mail scanners prefetch links, people press the button.
    return render(request, "people/contact_verify.html", {"token": token})


@router.post("/contacts/verify", response_class=HTMLResponse)
async def use_verify_link(request: Request, session: SessionDep) -> Response:
    values = await read_form(request, ["token"])

    def act() -> Response:
        point = contacts.verify_email(session, values["token"])
        return render(request, "people/contact_verify.html", {"verified": point.address})

    def failed(exc: AccordError) -> Response:
        context = {"detail": exc.detail}
        return render(request, "people/contact_verify.html", context, status_code=400)

    return act_or_fail(session, act, failed)
