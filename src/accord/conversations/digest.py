"""The members' digest: one e-mail per member, at most every `ACCORD_DIGEST_MINUTES`, listing
the threads in which people wrote since the last one, while waiting on the brand. Members who
may reply in conversations get it unless they turn it off.

`accord conversations digest` sends what is due (run it from cron, or with `--every`); in the
embedded default `accord serve` runs it beside the worker.
"""

from __future__ import annotations

import logging
import threading
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Uuid, bindparam, or_, select
from sqlalchemy.orm import Session

from accord.brands.models import Brand, Member
from accord.conversations.models import MemberDigest, Thread
from accord.core.db import Database, insert_or_ignore, utcnow
from accord.core.direct import Direct
from accord.core.permissions import Permission, role_allows
from accord.core.settings import Settings
from accord.mail.service import Email, Mailer, compose

log = logging.getLogger("accord.conversations.digest")
MAX_LISTED = 20


def setting(session: Session, member_id: uuid.UUID, brand_id: uuid.UUID) -> MemberDigest:
    found = session.get(MemberDigest, member_id)
    if found is None:
        insert_or_ignore(
            session, MemberDigest, {"member_id": member_id, "brand_id": brand_id, "enabled": True}
        )
        found = session.get_one(MemberDigest, member_id)
    return found


# Built once and run on the session's cursor (`core.direct`): the inbox shows it on every view.
_ENABLED = Direct(
    select(MemberDigest.__table__.c.enabled).where(
        MemberDigest.__table__.c.member_id == bindparam("member", type_=Uuid())
    )
)


def enabled(session: Session, member_id: uuid.UUID, brand_id: uuid.UUID) -> bool:
    """`setting(...).enabled`, read as that column once the member has a setting."""
    row = _ENABLED.first(session, member=member_id)
    if row is None:
        return setting(session, member_id, brand_id).enabled
    return bool(row.enabled)


def set_enabled(session: Session, member_id: uuid.UUID, brand_id: uuid.UUID, on: bool) -> None:
    row = setting(session, member_id, brand_id)
    row.enabled = on
    session.flush()


@dataclass(frozen=True)
class Sent:
    members: int
    threads: int


def _due_members(
    session: Session, now: datetime, every: timedelta
) -> list[tuple[Member, Brand, datetime]]:
    """Members who may converse, with the digest on and due: (member, brand, covered since)."""
    rows = session.execute(
        select(Member, Brand, MemberDigest.enabled, MemberDigest.last_sent_at)
        .join(Brand, Brand.id == Member.brand_id)
        .outerjoin(MemberDigest, MemberDigest.member_id == Member.id)
        .where(
            or_(MemberDigest.enabled.is_(None), MemberDigest.enabled.is_(True)),
            or_(MemberDigest.last_sent_at.is_(None), MemberDigest.last_sent_at <= now - every),
        )
        .order_by(Member.brand_id, Member.id)
    ).all()
    return [
        (member, brand, last or member.created_at)
        for member, brand, _, last in rows
        if role_allows(member.role, Permission.converse)
    ]


def send_due(
    session: Session, settings: Settings, mailer: Mailer, now: datetime | None = None
) -> Sent:
    """Send every digest that is due, in the caller's transaction (the mailer sends on commit)."""
    now = now or utcnow()
    every = timedelta(minutes=settings.digest_minutes)
    members = threads_total = 0
    for member, brand, since in _due_members(session, now, every):
        waiting = session.execute(
            select(Thread.id, Thread.subject, Thread.brand_unread, Thread.last_preview)
            .where(
                Thread.brand_id == brand.id,
                Thread.status == "open",
                Thread.waiting_on == "brand",
                Thread.last_message_at > since,
                or_(Thread.assigned_member_id.is_(None), Thread.assigned_member_id == member.id),
            )
            .order_by(Thread.last_message_at.desc())
            .limit(MAX_LISTED + 1)
        ).all()
        row = setting(session, member.id, brand.id)
        row.last_sent_at = now
        if not waiting:
            continue
        mailer.send(session, compose(settings, _email(settings, member, brand, waiting)))
        members += 1
        threads_total += min(len(waiting), MAX_LISTED)
    session.flush()
    return Sent(members=members, threads=threads_total)


def _email(settings: Settings, member: Member, brand: Brand, waiting: Sequence[Any]) -> Email:
    lines = [f"People wrote to {brand.name} and are waiting for an answer:", ""]
    for thread_id, subject, unread, preview in waiting[:MAX_LISTED]:
        lines.append(f"- {subject} ({unread} new): {preview}")
        lines.append(f"  {settings.base_url}/console/conversations/{thread_id}")
    if len(waiting) > MAX_LISTED:
        lines.append(f"… and more: {settings.base_url}/console/conversations?filter=waiting")
    lines += [
        "",
        f"Turn this digest off in the inbox: {settings.base_url}/console/conversations",
    ]
    count = min(len(waiting), MAX_LISTED)
    return Email(
        to=member.email,
        subject=f"{brand.name}: {count}{'+' if len(waiting) > MAX_LISTED else ''} conversation"
        f"{'s' if count != 1 else ''} waiting on you",
        text="\n".join(lines),
    )


def run_once(db: Database, settings: Settings, mailer: Mailer) -> Sent:
    """One round in its own transaction (the CLI command and the embedded loop)."""
    with db.transaction() as session:
        return send_due(session, settings, mailer)


@dataclass
class DigestLoop:
    """`accord serve`'s embedded digest sender: a round every few minutes in a thread."""

    db: Database
    settings: Settings
    mailer: Mailer
    stop: threading.Event = field(default_factory=threading.Event)

    def run(self) -> None:
        interval = min(self.settings.digest_minutes, 5) * 60
        while not self.stop.is_set():
            try:
                run_once(self.db, self.settings, self.mailer)
            except Exception:  # a failed round must not end the loop; the next one retries
                log.exception("digest round failed")
            self.stop.wait(interval)

    def start_thread(self) -> threading.Thread:
        thread = threading.Thread(target=self.run, name="accord-digest", daemon=True)
        thread.start()
        return thread
