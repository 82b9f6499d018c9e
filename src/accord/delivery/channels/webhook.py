"""A webhook as a message channel, for brands that deliver through their own systems: each
message becomes a `message.deliver` event for the brand's endpoints marked as a message
channel, written in the worker's own transaction (exactly once, idempotent by the outbox row)
and delivered, signed and retried, like every webhook."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

from sqlalchemy.orm import Session

from accord.core.settings import Settings
from accord.delivery.channels.base import Channel, Composed, Draft, Handed, Verdict
from accord.webhooks import service
from accord.webhooks.service import MESSAGE_DELIVER


class WebhookChannel(Channel):
    name = "webhook"
    in_transaction = True

    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    def addresses(self, session: Session, people: list[uuid.UUID]) -> dict[uuid.UUID, str]:
        # The brand's own systems reach the person: Accord hands over who, not where.
        return {person_id: f"person:{person_id}" for person_id in people}

    def compose(self, draft: Draft) -> Composed:
        data: dict[str, Any] = {
            "outbox_id": draft.outbox_id,
            "idempotency_key": draft.key,
            "person_id": str(draft.person_id),
            "purpose": draft.purpose,
            "topic": draft.topic_name,
            "campaign_id": str(draft.campaign_id) if draft.campaign_id else None,
            "subject": draft.render("subject", False),
            "text": draft.render("text", False),
            "html": draft.render("html", True),
        }
        return Composed(draft, data)

    def hand_over(self, session: Session, batch: Iterator[Composed]) -> Iterator[Handed]:
        composed = list(batch)
        by_brand: dict[uuid.UUID, list[Composed]] = {}
        for item in composed:
            by_brand.setdefault(item.draft.brand.id, []).append(item)
        taken: set[int] = set()
        for brand_id, items in by_brand.items():
            events = [(f"msg_out_{item.draft.outbox_id}", item.body) for item in items]
            if service.has_channel_endpoint(session, brand_id):
                service.emit_many(session, brand_id, MESSAGE_DELIVER.name, events)
                taken.update(item.draft.outbox_id for item in items)
        for item in composed:
            if item.draft.outbox_id in taken:
                yield item, Verdict.sent()
            else:
                yield (
                    item,
                    Verdict.failed(
                        "The brand has no enabled webhook endpoint that is a message channel.",
                        code="no_endpoint",
                    ),
                )
