"""The channel interface: what the worker asks of every way a message can leave Accord.

The worker owns everything a channel must not have to get right on its own: claims and
leases, the gate's re-check, the brand's rate, retries with backoff, the attempt cap, the
durable record of each hand-over and the outbox's states. A channel adapter does two things:

- `compose(draft)`: the message for one outbox row, made once (the bytes of an e-mail, the
  body of an HTTP request). It renders the templates it needs through `draft.render`, which
  enforces the sandbox's limits. Any exception fails that message alone (`failed`, with the
  reason), never the others.
- `hand_over(session, batch)`: hands the composed messages of a chunk over, in order, and
  yields `(composed, verdict)` for each, in the same order. `batch` is lazy: the worker
  composes the next message when the adapter asks for it, so an adapter may ask for the next
  one before answering for the one before (SMTP pipelining), or gather several for one request
  (a provider's batch API). Until the adapter has yielded a message's verdict the worker
  considers it in flight; the worker records every `sent` verdict durably before the adapter
  resumes, so a crash re-sends at most what was in flight.

A verdict says what became of one message: `sent` (the channel took it), `delivered` (it is
already where the person reads it: in-app, the dev mailbox), `retry` (a transient failure:
retried with backoff, counting an attempt, until the cap), `throttled` (the provider asked us
to slow down, e.g. HTTP 429: retried after `retry_after` without counting an attempt; the
worker stops feeding the channel for the rest of the chunk) or `failed` (permanent). A verdict
may carry the channel's own code (an SMTP reply, an HTTP status, a provider's error code), a
provider reference (its message id, which later delivery receipts name: see
`accord.delivery.receipts`) and `suppress` (the address will never work: a 410 from a push
service, a carrier's "unknown number"; the worker suppresses the contact point with a ledger
event).

Adapters are registered by name in `accord.delivery.channels.ADAPTERS` and built from the
settings; the worker builds one of each it needs and closes it when it goes idle.
"""

from __future__ import annotations

import uuid
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar, Literal

from sqlalchemy import select
from sqlalchemy.orm import Session

from accord.core.db import among, unindexed
from accord.people.models import ContactPoint

Status = Literal["sent", "delivered", "retry", "throttled", "failed"]


@dataclass(frozen=True, slots=True)
class Verdict:
    """What became of one message handed to a channel."""

    status: Status
    detail: str = ""
    code: str | None = None  # the channel's or provider's own code: "550", "429", "21610"
    retry_after: float | None = None  # seconds; the provider's Retry-After, else our backoff
    provider_ref: str | None = None  # the provider's id for the message, for delivery receipts
    suppress: bool = False  # the address is dead for good: suppress the contact point

    @classmethod
    def sent(cls, provider_ref: str | None = None, detail: str = "") -> Verdict:
        return cls("sent", detail, provider_ref=provider_ref)

    @classmethod
    def delivered(cls, provider_ref: str | None = None) -> Verdict:
        return cls("delivered", provider_ref=provider_ref)

    @classmethod
    def retry(
        cls, detail: str, *, code: str | None = None, retry_after: float | None = None
    ) -> Verdict:
        return cls("retry", detail, code, retry_after)

    @classmethod
    def throttled(cls, detail: str, *, retry_after: float, code: str | None = None) -> Verdict:
        return cls("throttled", detail, code, retry_after)

    @classmethod
    def failed(cls, detail: str, *, code: str | None = None, suppress: bool = False) -> Verdict:
        return cls("failed", detail, code, suppress=suppress)


class ComposeError(Exception):
    """A message that cannot be made (a template that fails to render, a header that cannot
    be encoded): that message alone fails, with `reason` (an outbox reason code)."""

    def __init__(self, detail: str, *, reason: str = "render_error") -> None:
        super().__init__(detail)
        self.reason = reason


@dataclass(frozen=True, slots=True)
class Draft:
    """One outbox row, ready to be composed for its channel: who it is for, from which brand,
    on which topic, with which content. `render` renders one of the message's templates
    (`templates`: a campaign's subject, text and html; a transactional message's payload)
    in the sandbox, with only the fields templates may use."""

    outbox_id: int
    key: str  # the idempotency key: (campaign or message, person, channel)
    message_id: str  # derived from `key`: the same on every attempt (e-mail's Message-ID)
    channel: str
    purpose: str  # marketing or transactional
    person_id: uuid.UUID
    address: str  # the contact point the gate found usable (e-mail address, E.164 number…)
    brand: Any  # id, name, sender_name, sender_email, support_email, postal_address
    topic_name: str
    templates: Mapping[str, str | None]
    campaign_id: uuid.UUID | None
    attempt: int  # 1 on the first try
    render: Callable[[str, bool], str | None] = field(repr=False)
    unsubscribe_token: Callable[[], str] = field(repr=False)

    @property
    def marketing(self) -> bool:
        return self.purpose == "marketing"


@dataclass(slots=True)
class Composed:
    """A message as the adapter will hand it over: its draft and its body (the adapter's
    own type: wire bytes for e-mail, a JSON document for an HTTP gateway)."""

    draft: Draft
    body: Any


Handed = tuple[Composed, Verdict]


class Channel(ABC):
    """An adapter. Subclass it, name it, register it in `channels.ADAPTERS`."""

    name: ClassVar[str]
    # True (per adapter, or per instance) when the hand-over writes in the worker's own
    # transaction (the dev mailbox, the in-app inbox): it is then atomic with the outbox row's
    # new state, and needs no durable record of its own. False for whatever leaves the database.
    in_transaction: bool = False

    def addresses(self, session: Session, people: list[uuid.UUID]) -> dict[uuid.UUID, str]:
        """The address to use per person: their verified, unsuppressed contact point on this
        channel, the primary one first, else the oldest. One query for the whole chunk."""
        rows = session.execute(
            select(ContactPoint.person_id, ContactPoint.address)
            .where(
                among(session, ContactPoint.person_id, "people", people),
                unindexed(ContactPoint.channel) == self.name,
                ContactPoint.verified_at.is_not(None),
                ContactPoint.suppressed_reason.is_(None),
            )
            .order_by(ContactPoint.is_primary.desc(), ContactPoint.created_at)
        ).all()
        found: dict[uuid.UUID, str] = {}
        for person_id, address in rows:
            found.setdefault(person_id, address)
        return found

    @abstractmethod
    def compose(self, draft: Draft) -> Composed:
        """The message for `draft`; raise ComposeError (or anything) to fail it alone."""

    @abstractmethod
    def hand_over(self, session: Session, batch: Iterator[Composed]) -> Iterator[Handed]:
        """Hand `batch` over in order; yield each message's verdict, in the same order."""

    def close(self) -> None:
        """Release connections (the worker is idle, stopping, or a hand-over broke)."""
        return None
