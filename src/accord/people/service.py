"""People's accounts: sign-up, magic-link sign-in, profile. No HTTP here; callers commit."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import Uuid, bindparam, or_, select
from sqlalchemy.orm import Session

from accord.core.auth import consume_magic_link, issue_magic_link
from accord.core.db import utcnow
from accord.core.direct import Direct
from accord.core.errors import NotFound
from accord.core.read_memo import remembered
from accord.core.security import keyed_hash, normalise_email
from accord.core.settings import Settings
from accord.mail.service import Mailer, compose
from accord.people import contacts, emails
from accord.people.contacts import add_push as add_push
from accord.people.models import ContactPoint, ErasedAddress, Person
from accord.people.schemas import ProfileUpdate, SignUp

# Other domains import only this module (tests/test_architecture.py): the `name as name`
# imports above are what it offers them from the domain's other modules, and these
# under a name that says what they do.
remove_contact_point = contacts.remove
suppress_contact_point = contacts.suppress

SUBJECT = "person"


def find_by_email(session: Session, email: str) -> Person | None:
    return session.scalars(select(Person).where(Person.email == email)).one_or_none()


def find_person(session: Session, person_id: uuid.UUID) -> Person | None:
    return remembered(session, ("person", person_id), lambda: session.get(Person, person_id))


def get_person(session: Session, person_id: uuid.UUID) -> Person:
    person = find_person(session, person_id)
    if person is None:
        raise NotFound("No such person.")
    return person


# What other pages show of a person beside their own rows: read as these columns on the
# session's cursor (`core.direct`), no Person object made.
_SHOWN = Direct(
    select(Person.display_name, Person.time_zone, Person.locale).where(
        Person.id == bindparam("person", type_=Uuid())
    )
)


def shown(session: Session, person_id: uuid.UUID) -> Any:
    """The person's `display_name`, `time_zone` and `locale`; None when there is no one."""
    return _SHOWN.first(session, person=person_id)


def create_person(session: Session, data: SignUp) -> Person:
    person = Person(
        email=data.email,
        display_name=data.display_name,
        time_zone=data.time_zone,
        locale=data.locale,
    )
    session.add(person)
    session.flush()
    session.add(
        ContactPoint(
            person_id=person.id,
            channel="email",
            address=data.email,
            address_normalised=data.email,
            is_primary=True,
        )
    )
    session.flush()
    return person


def sign_up(
    session: Session, settings: Settings, mailer: Mailer, data: SignUp, *, ip: str | None = None
) -> None:
    """Create the account (or not, if it exists) and mail a link; both look the same outside."""
    person = find_by_email(session, data.email)
    first_time = person is None or not _primary_verified(session, person)
    if person is None:
        person = create_person(session, data)
    _send_link(session, settings, mailer, person, first_time=first_time, ip=ip)


def request_sign_in(
    session: Session, settings: Settings, mailer: Mailer, email: str, *, ip: str | None = None
) -> None:
    person = find_by_email(session, email)
    if person is None:
        # Counted for the rate limit but nothing is sent: the caller cannot tell the difference.
        issue_magic_link(
            session, settings, subject_kind=SUBJECT, subject_id=None, address=email, ip=ip
        )
        return
    _send_link(session, settings, mailer, person, first_time=False, ip=ip)


def _send_link(
    session: Session,
    settings: Settings,
    mailer: Mailer,
    person: Person,
    *,
    first_time: bool,
    ip: str | None,
) -> None:
    token = issue_magic_link(
        session, settings, subject_kind=SUBJECT, subject_id=person.id, address=person.email, ip=ip
    )
    url = f"{settings.base_url}/auth/link?token={token}"
    email = emails.sign_in_link(
        to=person.email, url=url, minutes=settings.magic_link_minutes, first_time=first_time
    )
    mailer.send(session, compose(settings, email))


def _primary_verified(session: Session, person: Person) -> bool:
    verified = session.scalar(
        select(ContactPoint.verified_at).where(
            ContactPoint.person_id == person.id,
            ContactPoint.channel == "email",
            ContactPoint.is_primary.is_(True),
        )
    )
    return verified is not None


def complete_sign_in(session: Session, token: str) -> Person:
    """Use the link; following it proves the primary address, so it becomes verified."""
    person = get_person(session, consume_magic_link(session, token, subject_kind=SUBJECT))
    now = utcnow()
    person.last_sign_in_at = now
    primary = session.scalars(
        select(ContactPoint).where(
            ContactPoint.person_id == person.id,
            ContactPoint.channel == "email",
            ContactPoint.address_normalised == person.email,
        )
    ).one_or_none()
    if primary is not None and primary.verified_at is None:
        primary.verified_at = now
    session.flush()
    return person


def update_profile(session: Session, person_id: uuid.UUID, data: ProfileUpdate) -> Person:
    person = get_person(session, person_id)
    for name, value in data.model_dump(exclude_unset=True).items():
        if value is not None or name == "country":  # an empty country clears it
            setattr(person, name, value)
    session.flush()
    if "country" in data.model_fields_set:
        contacts.refresh_place(session, [person_id])
    return person


# Built once: portal pages read a person's contact points on most requests.
_CONTACT_POINTS = (
    select(ContactPoint)
    .where(ContactPoint.person_id == bindparam("person", type_=Uuid()))
    .order_by(ContactPoint.is_primary.desc(), ContactPoint.created_at)
)


def contact_points(session: Session, person_id: uuid.UUID) -> list[ContactPoint]:
    def read() -> list[ContactPoint]:
        return list(session.scalars(_CONTACT_POINTS, {"person": person_id}))

    # A copy: a caller may sort or filter its list in place.
    return list(remembered(session, ("contact_points", person_id), read))


def address_hash(settings: Settings, email: str) -> str:
    return keyed_hash(settings.resolved_secret_key(), normalise_email(email), purpose="erased")


def is_erased(session: Session, settings: Settings, email: str, brand_id: uuid.UUID) -> bool:
    """Was this address erased from Accord, or from this brand, at the person's request?"""
    found = session.scalar(
        select(ErasedAddress.id).where(
            ErasedAddress.address_hash == address_hash(settings, email),
            or_(ErasedAddress.brand_id.is_(None), ErasedAddress.brand_id == brand_id),
        )
    )
    return found is not None


def find_or_create(session: Session, email: str) -> Person:
    """For brand-initiated contact: an account the person can take over by following a link."""
    return find_by_email(session, email) or create_person(session, SignUp(email=email))
