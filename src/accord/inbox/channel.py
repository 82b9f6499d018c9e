"""The in-app inbox as a channel adapter: the message is written into the person's inbox in the
worker's own transaction (atomic with the outbox row's new state: exactly once)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

from sqlalchemy.orm import Session

from accord.core.settings import Settings
from accord.delivery.channels.base import Channel, Composed, Draft, Handed, Verdict
from accord.inbox import service


class InAppChannel(Channel):
    name = "inapp"
    in_transaction = True

    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    def addresses(self, session: Session, people: list[uuid.UUID]) -> dict[uuid.UUID, str]:
        # The inbox is the person's Accord account: no contact point to look up.
        return {person_id: f"inbox:{person_id}" for person_id in people}

    def compose(self, draft: Draft) -> Composed:
        title = draft.render("subject", False) or draft.brand.name
        body = draft.render("text", False) or ""
        delivery = service.Delivery(
            message_id=draft.outbox_id,
            brand_id=draft.brand.id,
            person_id=draft.person_id,
            campaign_id=draft.campaign_id,
            topic_id=None,
            title=title,
            body=body,
        )
        return Composed(draft, delivery)

    def hand_over(self, session: Session, batch: Iterator[Composed]) -> Iterator[Handed]:
        # One INSERT for the whole chunk: ask for every message first, then answer each.
        composed = list(batch)
        service.deliver(session, [c.body for c in composed])
        for item in composed:
            yield item, Verdict.delivered()
