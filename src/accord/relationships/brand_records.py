"""Relationships a brand starts: invitations, and consent it collected itself (with evidence,
double opt-in for marketing)."""

from __future__ import annotations

import uuid
from datetime import timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from accord.brands.models import Brand
from accord.core.db import utcnow
from accord.core.errors import Conflict, InvalidInput, NotAuthenticated
from accord.core.security import keyed_hash, new_token, token_hash
from accord.core.settings import Settings
from accord.mail.service import Mailer, compose
from accord.people import service as people
from accord.people.models import ContactPoint, Person
from accord.relationships import decisions, emails
from accord.relationships.decisions import Actor
from accord.relationships.models import Invitation, PendingConsent, Relationship
from accord.relationships.schemas import ConsentRecord, Evidence, Invite
from accord.relationships.vocabulary import PURPOSE_TEXT, Channel, Purpose, Source, State

CONFIRM_DAYS = 7
INVITE_DAYS = 30
INVALID_LINK = "This link is invalid, expired or already used."


def _refuse_erased(session: Session, settings: Settings, email: str, brand: Brand) -> None:
    if people.is_erased(session, settings, email, brand.id):
        raise Conflict(
            "This address was erased at the person's request and cannot be added (reason: erased).",
            field="email",
        )


def evidence_of(settings: Settings, evidence: Evidence) -> tuple[Actor, dict[str, str]]:
    """Personal values become keyed hashes; how and when it was collected stays readable."""
    key = settings.resolved_secret_key()
    hashed = {
        "ip": keyed_hash(key, evidence.ip, purpose="evidence"),
        "form_url": keyed_hash(key, str(evidence.form_url), purpose="evidence"),
        "method": evidence.method,
        "collected_at": evidence.collected_at.isoformat(),
    }
    return Actor(source=Source.api, policy=evidence.notice_version, evidence=hashed), hashed


def record_consent(
    session: Session, settings: Settings, mailer: Mailer, brand: Brand, data: ConsentRecord
) -> tuple[Person, str]:
    """Record consent the brand collected. Marketing waits for the person's confirmation."""
    _refuse_erased(session, settings, data.email, brand)
    for topic_id in data.topics:
        topic = decisions.brand_topic(session, brand.id, topic_id)
        if topic.purpose != data.purpose.value:
            raise InvalidInput(
                f"Topic '{topic.slug}' is for {topic.purpose}, not {data.purpose.value}.",
                field="topics",
            )
    if data.evidence.collected_at > utcnow() + timedelta(minutes=5):
        raise InvalidInput(
            "Consent cannot be collected in the future.", field="evidence.collected_at"
        )
    actor, _ = evidence_of(settings, data.evidence)
    person = people.find_or_create(session, data.email)
    rel = decisions.start(session, person.id, brand.id, actor)
    if rel.state == State.invited:
        rel = decisions.accept(session, rel, actor)
    if data.purpose != Purpose.marketing:
        decisions.set_purpose(session, rel, data.purpose, True, actor)
        for channel in data.channels:
            decisions.set_channel(session, rel, data.purpose, channel, True, actor)
        for topic_id in data.topics:
            decisions.set_topic(session, rel, topic_id, True, actor)
        return person, "granted"
    decisions.request_purpose(session, rel, data.purpose, actor)
    token = new_token()
    session.add(
        PendingConsent(
            person_id=person.id,
            brand_id=brand.id,
            token_hash=token_hash(token),
            grant={
                "purpose": data.purpose.value,
                "channels": [c.value for c in data.channels] or [Channel.email.value],
                "topics": [str(t) for t in data.topics],
                "policy": data.evidence.notice_version,
            },
            expires_at=utcnow() + timedelta(days=CONFIRM_DAYS),
        )
    )
    url = f"{settings.base_url}/consent/confirm?token={token}"
    mail = emails.confirm_consent(
        to=person.email, brand=brand, url=url, what=PURPOSE_TEXT[data.purpose]
    )
    mailer.send(session, compose(settings, mail))
    session.flush()
    return person, "pending"


def _verify_primary(session: Session, person: Person) -> None:
    session.execute(
        update(ContactPoint)
        .where(
            ContactPoint.person_id == person.id,
            ContactPoint.address_normalised == person.email,
            ContactPoint.verified_at.is_(None),
        )
        .values(verified_at=utcnow())
    )


def confirm_consent(session: Session, token: str) -> tuple[Person, uuid.UUID]:
    """Double opt-in: following the link makes the recorded grant effective."""
    now = utcnow()
    pending = session.scalars(
        select(PendingConsent).where(
            PendingConsent.token_hash == token_hash(token),
            PendingConsent.confirmed_at.is_(None),
            PendingConsent.expires_at > now,
        )
    ).one_or_none()
    if pending is None:
        raise NotAuthenticated(INVALID_LINK, field="token")
    pending.confirmed_at = now
    person = people.get_person(session, pending.person_id)
    rel = decisions.get(session, pending.person_id, pending.brand_id)
    grant = pending.grant
    actor = Actor(
        source=Source.email_link,
        policy=grant.get("policy"),
        evidence={"confirmation": token_hash(token)},
    )
    decisions.confirm_purpose(
        session,
        rel,
        Purpose(grant["purpose"]),
        [Channel(c) for c in grant["channels"]],
        [uuid.UUID(t) for t in grant["topics"]],
        actor,
    )
    _verify_primary(session, person)
    session.flush()
    return person, pending.brand_id


def invite(
    session: Session, settings: Settings, mailer: Mailer, brand: Brand, data: Invite
) -> tuple[Person, Relationship]:
    """Invite a known customer: one mail, and nothing else until they accept."""
    _refuse_erased(session, settings, data.email, brand)
    person = people.find_by_email(session, data.email)
    if person is None:
        person = people.find_or_create(session, data.email)
        if data.display_name:
            person.display_name = data.display_name
    rel = decisions.find(session, person.id, brand.id)
    if rel is not None and rel.state != State.ended:
        return person, rel
    actor = Actor(source=Source.api)
    rel = decisions.start(session, person.id, brand.id, actor, action="invite", state=State.invited)
    token = new_token()
    session.add(
        Invitation(
            person_id=person.id,
            brand_id=brand.id,
            token_hash=token_hash(token),
            expires_at=utcnow() + timedelta(days=INVITE_DAYS),
        )
    )
    url = f"{settings.base_url}/invitations/{token}"
    mailer.send(
        session, compose(settings, emails.invitation(to=person.email, brand=brand, url=url))
    )
    session.flush()
    return person, rel


def open_invitation(session: Session, token: str) -> Invitation:
    found = session.scalars(
        select(Invitation).where(
            Invitation.token_hash == token_hash(token),
            Invitation.answered_at.is_(None),
            Invitation.expires_at > utcnow(),
        )
    ).one_or_none()
    if found is None:
        raise NotAuthenticated(INVALID_LINK, field="token")
    return found


def answer_invitation(session: Session, token: str, accept: bool) -> Person:
    """Accept (relationship becomes active) or decline (it ends). Either proves the address."""
    invitation = open_invitation(session, token)
    invitation.answered_at = utcnow()
    person = people.get_person(session, invitation.person_id)
    rel = decisions.get(session, invitation.person_id, invitation.brand_id)
    actor = Actor(source=Source.email_link, evidence={"invitation": token_hash(token)})
    if accept:
        decisions.accept(session, rel, actor)
    elif rel.state == State.invited:
        decisions.end(session, rel, actor)
    _verify_primary(session, person)
    session.flush()
    return person
