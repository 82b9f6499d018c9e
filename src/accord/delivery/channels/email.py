"""E-mail as a channel adapter: the message's bytes made once (`email_channel.build`), handed
to an SMTP server over one connection kept open while there is work, or (the embedded
default) to the dev mailbox in the worker's own transaction.

With a server that offers PIPELINING the next message's envelope goes out before the verdict
on the one before is read (`SmtpSender.announce`): the adapter asks the worker for the next
message first, then answers for the one before. Its data goes only after that answer, so the
worker has recorded the one before by then.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator

from sqlalchemy.orm import Session

from accord.core.settings import EmailBackend, Settings
from accord.delivery import email_channel, tracking
from accord.delivery.channels.base import Channel, Composed, ComposeError, Draft, Handed, Verdict
from accord.delivery.email_channel import HeaderError, Outgoing, Rendered
from accord.delivery.senders import (
    DevSender,
    PermanentError,
    SendError,
    SmtpSender,
    TransientError,
    Unreachable,
)
from accord.delivery.tracking import Tracker


class EmailChannel(Channel):
    name = "email"

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.secret = settings.resolved_secret_key()
        self.tracked: set[tuple[uuid.UUID, uuid.UUID]] = set()
        self.sender: SmtpSender | DevSender
        if settings.email_backend is EmailBackend.smtp:
            self.sender = SmtpSender(settings)
        else:
            self.sender = DevSender()
            self.in_transaction = True

    def addresses(self, session: Session, people: list[uuid.UUID]) -> dict[uuid.UUID, str]:
        # Who allowed tracking (profiling granted, no term against it): one query per chunk.
        self.tracked = tracking.allowed(session, people)
        return super().addresses(session, people)

    def compose(self, draft: Draft) -> Composed:
        subject = draft.render("subject", False)
        text = draft.render("text", False)
        if subject is None or text is None:
            raise ComposeError("The message has no subject or no text.")
        html = draft.render("html", True)
        if (draft.person_id, draft.brand.id) in self.tracked:
            tracker = Tracker(self.secret, self.settings.base_url, draft.outbox_id)
            text, html = tracker.text(text), tracker.html(html) if html is not None else None
        content = Rendered(subject, text, html)
        try:
            outgoing = email_channel.build(
                self.settings,
                brand=draft.brand,
                to=draft.address,
                key=draft.key,
                content=content,
                topic_name=draft.topic_name,
                marketing=draft.marketing,
                unsubscribe_token=draft.unsubscribe_token() if draft.marketing else None,
                digest=draft.message_id,
                # A conversation's signed reply address (transactional payloads only).
                reply_to=draft.templates.get("reply_to") if draft.campaign_id is None else None,
            )
        except HeaderError as exc:
            raise ComposeError(str(exc), reason="bad_header") from None
        return Composed(draft, outgoing)

    def hand_over(self, session: Session, batch: Iterator[Composed]) -> Iterator[Handed]:
        sender = self.sender
        pending: Composed | None = None  # started; its verdict not read yet
        for composed in batch:
            message: Outgoing = composed.body
            if pending is not None:
                sender.announce(message)  # pipelining: its envelope before that verdict
                yield pending, self._verdict(sender.finish)
                pending = None
            try:
                sender.start(session, message)
            except Unreachable as exc:
                # Nothing else can go either: stop asking for messages. The worker puts the
                # ones not asked for back in the queue, without counting an attempt.
                yield composed, _verdict_of(exc)
                return
            except SendError as exc:
                yield composed, _verdict_of(exc)
                continue
            pending = composed
        if pending is not None:
            yield pending, self._verdict(sender.finish)

    @staticmethod
    def _verdict(finish: Callable[[], None]) -> Verdict:
        try:
            finish()
        except SendError as exc:
            return _verdict_of(exc)
        return Verdict.sent()

    def close(self) -> None:
        self.sender.close()


def _verdict_of(exc: SendError) -> Verdict:
    code = str(exc.code) if exc.code is not None else None
    if isinstance(exc, PermanentError):
        return Verdict.failed(str(exc), code=code)
    assert isinstance(exc, TransientError)
    return Verdict.retry(str(exc), code=code)
