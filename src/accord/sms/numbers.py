"""The numbers brands send from, each belonging to one brand, and what a brand answers to
HELP. Replies to a number go to the brand that owns it."""

from __future__ import annotations

import uuid
from typing import Any

import phonenumbers
from sqlalchemy import Uuid, bindparam, select
from sqlalchemy.orm import Session

from accord.brands import service as brands
from accord.core.direct import Direct
from accord.core.errors import Conflict, InvalidInput, NotFound
from accord.sms.models import BrandSmsSettings, SendingNumber


def e164(number: str, *, field: str = "number") -> str:
    """The number in E.164 (+ and up to 15 digits, valid for its country), or a 422."""
    text = number.strip()
    if not text.startswith("+"):
        raise InvalidInput(
            f"'{number}' is not in E.164 form: a + and the country code, e.g. +12025550123.",
            field=field,
        )
    try:
        parsed = phonenumbers.parse(text, None)
    except phonenumbers.NumberParseException:
        raise InvalidInput(f"'{number}' is not a phone number.", field=field) from None
    if not phonenumbers.is_valid_number(parsed):
        raise InvalidInput(f"'{number}' is not a valid phone number.", field=field)
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)


def register(session: Session, brand_id: uuid.UUID, number: str, label: str = "") -> SendingNumber:
    normal = e164(number)
    owner = session.scalar(select(SendingNumber.brand_id).where(SendingNumber.number == normal))
    if owner == brand_id:
        raise Conflict(f"{normal} is already one of your numbers.", field="number")
    if owner is not None:
        raise Conflict(f"{normal} belongs to another brand.", field="number")
    row = SendingNumber(brand_id=brand_id, number=normal, label=label.strip())
    session.add(row)
    session.flush()
    return row


# Built once: the relationship page's texts panel reads it on every view.
_OF_BRAND = (
    select(SendingNumber)
    .where(SendingNumber.brand_id == bindparam("brand", type_=Uuid()))
    .order_by(SendingNumber.created_at, SendingNumber.number)
)


def of_brand(session: Session, brand_id: uuid.UUID) -> list[SendingNumber]:
    return list(session.scalars(_OF_BRAND, {"brand": brand_id}))


# The console's Texts page: its numbers as the columns it shows, in `_OF_BRAND`'s order, read on
# the session's cursor (`core.direct`), as is the brand's own HELP answer.
_N = SendingNumber.__table__.c
_SHOWN = Direct(
    select(_N.id, _N.number, _N.label, _N.created_at)
    .where(_N.brand_id == bindparam("brand", type_=Uuid()))
    .order_by(_N.created_at, _N.number)
)
_HELP_TEXT = Direct(
    select(BrandSmsSettings.__table__.c.help_text).where(
        BrandSmsSettings.__table__.c.brand_id == bindparam("brand", type_=Uuid())
    )
)


def shown(session: Session, brand_id: uuid.UUID) -> list[Any]:
    """The brand's numbers (id, number, label, created_at), oldest first: the first is the one
    its texts go from (`sending_number`)."""
    return _SHOWN.all(session, brand=brand_id)


# Only the numbers, in the same order, on the cursor (`core.direct`): the texts panel shows them.
_NUMBERS = Direct(
    select(SendingNumber.number)
    .where(SendingNumber.brand_id == bindparam("brand", type_=Uuid()))
    .order_by(SendingNumber.created_at, SendingNumber.number)
)


def numbers_of(session: Session, brand_id: uuid.UUID) -> list[str]:
    """The brand's numbers (E.164), as `of_brand` orders them."""
    return [row.number for row in _NUMBERS.all(session, brand=brand_id)]


def get(session: Session, brand_id: uuid.UUID, number_id: uuid.UUID) -> SendingNumber:
    row = session.scalars(
        select(SendingNumber).where(
            SendingNumber.id == number_id, SendingNumber.brand_id == brand_id
        )
    ).one_or_none()
    if row is None:
        raise NotFound("No such number.")
    return row


def remove(session: Session, brand_id: uuid.UUID, number_id: uuid.UUID) -> None:
    session.delete(get(session, brand_id, number_id))
    session.flush()


def owner_of(session: Session, number: str) -> uuid.UUID | None:
    return session.scalar(select(SendingNumber.brand_id).where(SendingNumber.number == number))


def sending_number(session: Session, brand_id: uuid.UUID, fallback: str) -> str:
    """The number a brand's texts go from: its first number, else Accord's own."""
    first = session.scalar(
        select(SendingNumber.number)
        .where(SendingNumber.brand_id == brand_id)
        .order_by(SendingNumber.created_at, SendingNumber.number)
        .limit(1)
    )
    return first or fallback


def help_text(session: Session, brand_id: uuid.UUID) -> str:
    """What the brand answers to HELP: its own text, else who it is and how to reach it."""
    own = session.scalar(
        select(BrandSmsSettings.help_text).where(BrandSmsSettings.brand_id == brand_id)
    )
    if own:
        return str(own)
    brand = brands.get_brand(session, brand_id)
    return default_help(brand.name, brand.support_email)


def help_text_of(session: Session, brand_id: uuid.UUID, name: str, support_email: str) -> str:
    """`help_text`, for a caller that holds the brand's name and support address."""
    row = _HELP_TEXT.first(session, brand=brand_id)
    if row is not None and row.help_text:
        return str(row.help_text)
    return default_help(name, support_email)


def default_help(name: str, support_email: str) -> str:
    return (
        f"{name}: for help write to {support_email}. Msg & data rates may apply. "
        "Reply STOP to opt out."
    )


def set_help_text(session: Session, brand_id: uuid.UUID, text: str) -> None:
    text = text.strip()
    if not text:
        raise InvalidInput("The help text cannot be empty.", field="help_text")
    row = session.get(BrandSmsSettings, brand_id)
    if row is None:
        session.add(BrandSmsSettings(brand_id=brand_id, help_text=text))
    else:
        row.help_text = text
    session.flush()
