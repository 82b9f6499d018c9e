"""The event types a brand can subscribe an endpoint to: a registry other domains add to.

A domain that raises events defines its types once, at import of the module that raises them
(`define("idea.created", "…")`), and calls `accord.webhooks.service.emit`; nothing here names
them. The types below are the ones every Accord has (consent, relationships, messages)."""

from __future__ import annotations

import re
from dataclasses import dataclass

NAME = re.compile(r"^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)+$")


@dataclass(frozen=True)
class EventType:
    name: str
    description: str


_TYPES: dict[str, EventType] = {}


def define(name: str, description: str) -> EventType:
    """Add an event type (idempotent for the same description)."""
    if not NAME.match(name):
        raise ValueError(f"event type {name!r} is not dotted lower-case words")
    known = _TYPES.get(name)
    if known is not None and known.description != description:
        raise ValueError(f"event type {name!r} is defined twice, differently")
    _TYPES[name] = EventType(name, description)
    return _TYPES[name]


def known() -> dict[str, EventType]:
    return dict(sorted(_TYPES.items()))


def is_known(name: str) -> bool:
    return name in _TYPES


CONSENT_CHANGED = define(
    "consent.changed", "A person granted or withdrew a purpose, a channel or a topic."
)
RELATIONSHIP_CHANGED = define(
    "relationship.changed", "A relationship started, was paused, resumed or ended."
)
MESSAGE_SENT = define("message.sent", "A message was handed to its channel.")
MESSAGE_DELIVERED = define("message.delivered", "A channel reported a message delivered.")
MESSAGE_BOUNCED = define("message.bounced", "A message bounced; the address may be suppressed.")
MESSAGE_COMPLAINED = define("message.complained", "A person marked a message as spam.")
MESSAGE_READ = define("message.read", "A person read an in-app message.")
REPLY_RECEIVED = define("reply.received", "A person replied to a message.")
# Deliveries of messages on the `webhook` channel, to endpoints that are a message channel.
MESSAGE_DELIVER = define(
    "message.deliver", "A message on the webhook channel, for the brand's own systems to deliver."
)
TEST = define("webhook.test", "A test event sent from the console or the API.")
