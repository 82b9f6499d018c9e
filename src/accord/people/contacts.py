"""Contact points: add, verify (e-mail by link, phone by SMS code), suppress, remove."""

from __future__ import annotations

import base64
import binascii
import secrets
import uuid
from datetime import timedelta
from typing import Any
from urllib.parse import urlsplit

import phonenumbers
from cryptography.hazmat.primitives.asymmetric import ec
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from accord.consent import service as consent
from accord.consent.service import Scope
from accord.core.auth import consume_magic_link, issue_magic_link
from accord.core.db import utcnow
from accord.core.errors import Conflict, InvalidInput, NotFound, RateLimited
from accord.core.security import constant_time_equal, keyed_hash, normalise_email
from accord.core.settings import Settings
from accord.core.texting import Texter
from accord.mail.service import Email, Mailer, compose
from accord.people.models import ContactPoint, Person
from accord.people.phone_places import subdivision_of

CODE_MINUTES = 10


class WrongCode(InvalidInput):
    """A wrong code: the caller must keep the attempt count (commit) before reporting it."""


MAX_CODE_ATTEMPTS = 5
CONTACT = "contact"


def get(session: Session, person_id: uuid.UUID, contact_id: uuid.UUID) -> ContactPoint:
    point = session.scalars(
        select(ContactPoint).where(
            ContactPoint.id == contact_id, ContactPoint.person_id == person_id
        )
    ).one_or_none()
    if point is None:
        raise NotFound("No such contact point.")
    return point


def _add(
    session: Session,
    person_id: uuid.UUID,
    channel: str,
    address: str,
    normalised: str,
    **extra: object,
) -> ContactPoint:
    taken = session.scalar(
        select(ContactPoint.person_id).where(
            ContactPoint.channel == channel, ContactPoint.address_normalised == normalised
        )
    )
    if taken is not None:
        raise Conflict("This address is already in use.", field="address")
    point = ContactPoint(
        person_id=person_id,
        channel=channel,
        address=address,
        address_normalised=normalised,
        **extra,
    )
    session.add(point)
    session.flush()
    return point


def add_email(
    session: Session, settings: Settings, mailer: Mailer, person_id: uuid.UUID, address: str
) -> ContactPoint:
    point = _add(session, person_id, "email", address, normalise_email(address))
    send_email_link(session, settings, mailer, point)
    return point


def send_email_link(
    session: Session, settings: Settings, mailer: Mailer, point: ContactPoint
) -> None:
    token = issue_magic_link(
        session, settings, subject_kind=CONTACT, subject_id=point.id, address=point.address
    )
    url = f"{settings.base_url}/contacts/verify?token={token}"
    text = (
        f"Confirm that {point.address} is yours and may receive messages you allow:\n\n{url}\n\n"
        f"The link works once and expires in {settings.magic_link_minutes} minutes.\n"
    )
    mailer.send(
        session,
        compose(settings, Email(to=point.address, subject="Confirm your address", text=text)),
    )


def verify_email(session: Session, token: str) -> ContactPoint:
    point = session.get(ContactPoint, consume_magic_link(session, token, subject_kind=CONTACT))
    if point is None:
        raise NotFound("This address was removed.", field="token")
    point.verified_at = point.verified_at or utcnow()
    session.flush()
    return point


def parse_phone(number: str, region: str) -> str:
    """E.164, or a 422 naming the field.

    The country only reads a number written without its +code; any valid number is accepted
    (`is_valid_number`, not for one region: phonenumbers files +44 7911 123456 under Guernsey,
    and a person in Britain typing it with GB must not be refused)."""
    try:
        parsed = phonenumbers.parse(number, region.upper() or None)
    except phonenumbers.NumberParseException:
        raise InvalidInput(
            f"'{number}' is not a phone number: enter it like +44 7911 123456.", field="number"
        ) from None
    if not phonenumbers.is_valid_number(parsed):
        raise InvalidInput(
            f"'{number}' is not a valid phone number: check the digits and the country.",
            field="number",
        )
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)


def _code_hash(settings: Settings, point_id: uuid.UUID, code: str) -> str:
    return keyed_hash(settings.resolved_secret_key(), f"{point_id}:{code}", purpose="phone-code")


def add_phone(
    session: Session,
    settings: Settings,
    texter: Texter,
    person_id: uuid.UUID,
    number: str,
    region: str,
) -> ContactPoint:
    e164 = parse_phone(number, region)
    country = phonenumbers.region_code_for_number(phonenumbers.parse(e164))
    point = _add(
        session, person_id, "sms", e164, e164, region=country, subdivision=subdivision_of(e164)
    )
    send_phone_code(session, settings, texter, point)
    return point


def send_phone_code(
    session: Session, settings: Settings, texter: Texter, point: ContactPoint
) -> None:
    code = f"{secrets.randbelow(1_000_000):06d}"
    point.code_hash = _code_hash(settings, point.id, code)
    point.code_expires_at = utcnow() + timedelta(minutes=CODE_MINUTES)
    point.code_attempts = 0
    texter.send(
        session,
        to=point.address,
        text=f"Your Accord code is {code}. It expires in {CODE_MINUTES} minutes.",
        kind="code",
        person_id=point.person_id,
    )
    session.flush()


def verify_phone(
    session: Session, settings: Settings, person_id: uuid.UUID, contact_id: uuid.UUID, code: str
) -> ContactPoint:
    """Check a code. Only the attempt counter is written on failure: it is what limits guessing."""
    point = get(session, person_id, contact_id)
    if point.verified_at is not None:
        return point
    if point.code_hash is None or point.code_expires_at is None or point.code_expires_at < utcnow():
        raise InvalidInput("This code has expired. Ask for a new one.", field="code")
    if point.code_attempts >= MAX_CODE_ATTEMPTS:
        raise RateLimited("Too many wrong codes. Ask for a new one.", field="code")
    if not constant_time_equal(point.code_hash, _code_hash(settings, point.id, code.strip())):
        point.code_attempts += 1
        session.flush()
        left = MAX_CODE_ATTEMPTS - point.code_attempts
        raise WrongCode(f"That code is not right. {left} attempt(s) left.", field="code")
    point.verified_at, point.code_hash, point.code_expires_at = utcnow(), None, None
    session.flush()
    refresh_place(session, [point.person_id])
    return point


def refresh_place(session: Session, people: list[uuid.UUID]) -> None:
    """Set where the law sees each person (one UPDATE for all of them): the country and state
    of their verified phone number (the primary one, else the latest verified), else the
    country in their profile. The legal rules (sending windows, frequency limits) follow it."""
    if not people:
        return

    def phone(column: Any) -> Any:
        return (
            select(column)
            .where(
                ContactPoint.person_id == Person.id,
                ContactPoint.channel == "sms",
                ContactPoint.verified_at.is_not(None),
            )
            .order_by(ContactPoint.is_primary.desc(), ContactPoint.verified_at.desc())
            .limit(1)
            .scalar_subquery()
        )

    session.execute(
        update(Person)
        .where(Person.id.in_(people))
        .values(
            place_country=func.coalesce(phone(ContactPoint.region), Person.country),
            place_subdivision=phone(ContactPoint.subdivision),
        )
        .execution_options(synchronize_session=False)
    )
    for person in [session.identity_map.get(key) for key in list(session.identity_map.keys())]:
        if isinstance(person, Person) and person.id in people:
            session.expire(person, ["place_country", "place_subdivision"])


def _b64url(text: str, field: str) -> bytes:
    try:
        return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (ValueError, binascii.Error):
        raise InvalidInput("This is not base64url text.", field=field) from None


def check_push_subscription(endpoint: str, p256dh: str, auth: str, *, allow_http: bool) -> None:
    """A browser's subscription (Push API `PushSubscription`), or a 422 naming the field: the
    endpoint is https (http only in dev, for a local push service), `p256dh` the browser's P-256
    public key (65 bytes, uncompressed, on the curve) and `auth` its 16-byte secret (RFC 8291)."""
    url = urlsplit(endpoint)
    schemes = ("https", "http") if allow_http else ("https",)
    if url.scheme not in schemes or not url.hostname:
        raise InvalidInput("A push endpoint is an https:// URL.", field="endpoint")
    key = _b64url(p256dh, "p256dh")
    try:
        if len(key) != 65:
            raise ValueError
        ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), key)
    except ValueError:
        raise InvalidInput(
            "p256dh is not an uncompressed P-256 public key (65 bytes).", field="p256dh"
        ) from None
    if len(_b64url(auth, "auth")) != 16:
        raise InvalidInput("auth is not a 16-byte secret.", field="auth")


def add_push(
    session: Session,
    person_id: uuid.UUID,
    endpoint: str,
    p256dh: str,
    auth: str,
    *,
    allow_http: bool = False,
) -> ContactPoint:
    """Add (or renew: same browser, new keys) a push subscription. The browser that subscribed is
    the person's own: a push endpoint is verified by subscribing."""
    check_push_subscription(endpoint, p256dh, auth, allow_http=allow_http)
    keys = {"p256dh": p256dh, "auth": auth}
    mine = session.scalars(
        select(ContactPoint).where(
            ContactPoint.channel == "push",
            ContactPoint.address_normalised == endpoint,
            ContactPoint.person_id == person_id,
        )
    ).one_or_none()
    if mine is not None:
        mine.details, mine.verified_at = keys, mine.verified_at or utcnow()
        mine.suppressed_reason = mine.suppressed_at = None
        session.flush()
        return mine
    return _add(session, person_id, "push", endpoint, endpoint, details=keys, verified_at=utcnow())


def add_postal(session: Session, person_id: uuid.UUID, address: str) -> ContactPoint:
    # A postal address the person typed themselves is taken as theirs.
    normalised = " ".join(address.lower().split())
    return _add(session, person_id, "postal", address.strip(), normalised, verified_at=utcnow())


def remove(session: Session, person_id: uuid.UUID, contact_id: uuid.UUID) -> None:
    point = get(session, person_id, contact_id)
    if point.is_primary:
        raise Conflict(
            "The primary e-mail address cannot be removed; change it instead.", field="contact"
        )
    session.delete(point)
    session.flush()
    if point.channel == "sms":
        refresh_place(session, [person_id])


def suppress(
    session: Session,
    settings: Settings,
    point: ContactPoint,
    reason: str,
    *,
    source: str = "system",
) -> bool:
    """Stop all use of an address (hard bounce, complaint, carrier STOP, erased), provably."""
    if point.suppressed_reason == reason:
        return False
    point.suppressed_reason, point.suppressed_at = reason, utcnow()
    evidence = {
        "address": keyed_hash(
            settings.resolved_secret_key(), point.address_normalised, purpose="evidence"
        )
    }
    consent.append(
        session,
        subject=point.person_id,
        action="suppress",
        source=source,
        scope=Scope(channel=point.channel),
        evidence=evidence,
        value={"reason": reason},
    )
    session.flush()
    return True
