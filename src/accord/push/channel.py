"""Web Push as a channel adapter: each message encrypted for the person's browser and handed to
its push service (`sender.PushSender`). A 404/410 fails the message and suppresses the
subscription (the worker writes the ledger event); 429 slows the channel down; 5xx and
timeouts are retried."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

from sqlalchemy.orm import Session

from accord.core.settings import Settings
from accord.delivery.channels.base import Channel, Composed, ComposeError, Draft, Handed, Verdict
from accord.push import service
from accord.push.sender import FAILED, GONE, RETRY, PushResult, PushSender, Subscription, payload


class PushChannel(Channel):
    name = "push"

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.sender = PushSender(settings)
        self.subscriptions: dict[str, Subscription] = {}

    def addresses(self, session: Session, people: list[uuid.UUID]) -> dict[uuid.UUID, str]:
        """The newest usable subscription per person (its endpoint is the address); their keys
        are kept for `compose`."""
        found: dict[uuid.UUID, str] = {}
        for person_id, subs in service.usable(session, people).items():
            newest = subs[-1]
            self.subscriptions[newest.endpoint] = newest
            found[person_id] = newest.endpoint
        return found

    def compose(self, draft: Draft) -> Composed:
        subscription = self.subscriptions.get(draft.address)
        if subscription is None:
            raise ComposeError("The push subscription went away.", reason="no_contact_point")
        title = draft.render("subject", False) or draft.brand.name
        body = draft.render("text", False) or ""
        data = payload(
            title,
            body,
            url=f"{self.settings.base_url}/inbox",
            tag=str(draft.campaign_id or draft.outbox_id),
        )
        return Composed(draft, (subscription, data))

    def hand_over(self, session: Session, batch: Iterator[Composed]) -> Iterator[Handed]:
        for composed in batch:
            subscription, data = composed.body
            verdict = verdict_of(self.sender.send(subscription, data))
            yield composed, verdict
            if verdict.status == "throttled":
                return  # the push service asked us to slow down: the rest wait

    def close(self) -> None:
        self.sender.close()


def verdict_of(result: PushResult) -> Verdict:
    code = str(result.status) if result.status is not None else None
    if result.verdict == GONE:
        return Verdict.failed(
            f"the subscription is gone: {result.detail}", code=code, suppress=True
        )
    if result.verdict == RETRY:
        after = result.retry_after.total_seconds() if result.retry_after else None
        if result.status == 429:
            return Verdict.throttled(
                result.detail or "too many requests", retry_after=after or 60, code=code
            )
        return Verdict.retry(
            result.detail or "push service unavailable", code=code, retry_after=after
        )
    if result.verdict == FAILED:
        return Verdict.failed(result.detail or "refused by the push service", code=code)
    return Verdict.sent()
