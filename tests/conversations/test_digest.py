"""The members' digest: one e-mail per member who may reply, listing the threads waiting on the
brand (unassigned or theirs) with new messages since the last one; never twice within the
interval; never to a member who turned it off."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy.orm import Session

from accord.conversations import digest, service
from accord.core.db import utcnow
from accord.core.permissions import Role
from accord.core.settings import Settings
from accord.mail.backends import DevMailer
from tests.builders import make_member
from tests.conversations import pair
from tests.helpers import last_mail_to


def test_digest_lists_what_waits_and_respects_the_setting(
    session: Session, settings: Settings
) -> None:
    p = pair(session)
    support = make_member(session, brand=p.brand, role=Role.support)
    quiet = make_member(session, brand=p.brand, role=Role.support)
    make_member(session, brand=p.brand, role=Role.marketer)  # may not reply: no digest
    digest.set_enabled(session, quiet.id, p.brand.id, False)
    mine, _ = service.start_person_thread(
        session, settings, p.person.id, p.brand.id, subject="Refund", body="Where is my refund?"
    )
    theirs, _ = service.start_person_thread(
        session, settings, p.person.id, p.brand.id, subject="Gift wrap", body="Wrap it please"
    )
    service.assign(session, theirs, p.member.id)
    sent = digest.send_due(session, settings, DevMailer())
    assert sent.members == 2  # the owner and one support member
    mail = last_mail_to(session, support.email)
    assert "Refund (1 new): Where is my refund?" in mail.text_body
    assert "Gift wrap" not in mail.text_body  # assigned to someone else
    assert f"/console/conversations/{mine.id}" in mail.text_body
    assert "Gift wrap" in last_mail_to(session, p.member.email).text_body

    soon = utcnow() + timedelta(minutes=5)
    assert digest.send_due(session, settings, DevMailer(), soon).members == 0  # not due yet
    service.person_reply(session, settings, p.person.id, mine.id, body="Any news?")
    later = utcnow() + timedelta(minutes=settings.digest_minutes + 1)
    again = digest.send_due(session, settings, DevMailer(), later)
    assert (again.members, again.threads) == (2, 2)  # only what is new: the Refund thread
    assert "Any news?" in last_mail_to(session, support.email).text_body
    assert digest.send_due(session, settings, DevMailer(), later).members == 0
