"""A person's contact points through the API."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Request, Response, status
from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from accord.core.validation import Email, Line, TrimmedText
from accord.core.web.deps import SessionDep, SettingsDep
from accord.people import contacts
from accord.people.deps import PersonDep

router = APIRouter(prefix="/me/contacts", tags=["my contact points"])


class ContactOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    channel: str
    address: str
    is_primary: bool
    verified_at: datetime | None
    suppressed_reason: str | None
    suppressed_at: datetime | None


class EmailIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    address: Email


class PhoneIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    number: Annotated[Line, Field(min_length=3, max_length=32)]
    region: Annotated[Line, StringConstraints(pattern=r"^[A-Za-z]{2}$")] = Field(
        description="ISO 3166 region the number belongs to, e.g. DE"
    )


class PushIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    endpoint: Annotated[Line, Field(max_length=320)]
    p256dh: Annotated[Line, Field(max_length=200)]
    auth: Annotated[Line, Field(max_length=100)]


class PostalIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    address: Annotated[TrimmedText, Field(min_length=5, max_length=500)]


class CodeIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    code: Annotated[Line, StringConstraints(pattern=r"^\d{6}$")]


@router.get("", response_model=list[ContactOut])
def my_contacts(person: PersonDep, session: SessionDep) -> list[ContactOut]:
    from accord.people.service import contact_points

    return [ContactOut.model_validate(p) for p in contact_points(session, person.person_id)]


@router.post("/email", response_model=ContactOut, status_code=status.HTTP_201_CREATED)
def add_email(
    data: EmailIn, request: Request, person: PersonDep, session: SessionDep, settings: SettingsDep
) -> ContactOut:
    """Add an address; it is used only after you follow the link mailed to it."""
    point = contacts.add_email(
        session, settings, request.app.state.mailer, person.person_id, data.address
    )
    return ContactOut.model_validate(point)


@router.post("/phone", response_model=ContactOut, status_code=status.HTTP_201_CREATED)
def add_phone(
    data: PhoneIn, request: Request, person: PersonDep, session: SessionDep, settings: SettingsDep
) -> ContactOut:
    """Add a phone number; a code goes to it by SMS. Confirm with POST …/{id}/verify."""
    texter = request.app.state.texter
    return ContactOut.model_validate(
        contacts.add_phone(session, settings, texter, person.person_id, data.number, data.region)
    )


@router.post("/push", response_model=ContactOut, status_code=status.HTTP_201_CREATED)
def add_push(
    data: PushIn, person: PersonDep, session: SessionDep, settings: SettingsDep
) -> ContactOut:
    """A browser's push subscription; the portal's push page makes it for you."""
    point = contacts.add_push(
        session,
        person.person_id,
        str(data.endpoint),
        data.p256dh,
        data.auth,
        allow_http=settings.is_dev,
    )
    return ContactOut.model_validate(point)


@router.post("/postal", response_model=ContactOut, status_code=status.HTTP_201_CREATED)
def add_postal(data: PostalIn, person: PersonDep, session: SessionDep) -> ContactOut:
    return ContactOut.model_validate(contacts.add_postal(session, person.person_id, data.address))


@router.post("/{contact_id}/verify", response_model=ContactOut)
def verify(
    contact_id: uuid.UUID,
    data: CodeIn,
    person: PersonDep,
    session: SessionDep,
    settings: SettingsDep,
) -> ContactOut:
    """Confirm a phone number with the code it received (five tries per code)."""
    try:
        point = contacts.verify_phone(session, settings, person.person_id, contact_id, data.code)
    except contacts.WrongCode:
        session.commit()  # the failed attempt must count, or guessing would be free
        raise
    return ContactOut.model_validate(point)


@router.delete("/{contact_id}", status_code=status.HTTP_204_NO_CONTENT)
def remove(contact_id: uuid.UUID, person: PersonDep, session: SessionDep) -> Response:
    contacts.remove(session, person.person_id, contact_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
