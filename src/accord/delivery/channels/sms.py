"""Texts as a channel adapter: the body made once (the brand's name in front, on marketing
"Reply STOP to opt out" at the end; more than 10 segments fails that message alone), handed to
the gateway the settings choose (`accord.sms`: the dev phone, a Twilio-compatible API or a
generic JSON gateway), from the brand's own number or else Accord's.

The gateway's answer is the verdict: accepted (`sent`, with the provider's id for its delivery
receipts; `delivered` on the dev phone), a 429 (`throttled`: the worker stops feeding texts for
the rest of the chunk and tries again after Retry-After), a 5xx, a timeout or a broken
connection (`retry`, with backoff), any other refusal (`failed`, with the provider's code; a
code that says the number itself cannot take texts suppresses it)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass

from sqlalchemy.orm import Session

from accord.core.settings import Settings
from accord.delivery.channels.base import Channel, Composed, ComposeError, Draft, Handed, Verdict
from accord.sms import service as sms

# When a provider throttles without saying for how long.
THROTTLE_SECONDS = 30.0


@dataclass(frozen=True, slots=True)
class Body:
    text: str
    segments: int


class SmsChannel(Channel):
    name = "sms"

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.gateway = sms.build_gateway(settings)
        self.in_transaction = self.gateway.in_transaction

    def compose(self, draft: Draft) -> Composed:
        text = draft.render("text", False)
        if not text or not text.strip():
            raise ComposeError("The message has no text.")
        body, counted = sms.measure(draft.brand.name, text, marketing=draft.marketing)
        if counted.too_long:
            raise ComposeError(
                f"The text takes {counted.segments} segments; at most {sms.MAX_SEGMENTS}.",
                reason="too_long",
            )
        return Composed(draft, Body(body, counted.segments))

    def hand_over(self, session: Session, batch: Iterator[Composed]) -> Iterator[Handed]:
        senders: dict[uuid.UUID, str] = {}
        for composed in batch:
            draft = composed.draft
            brand_id = draft.brand.id
            if brand_id not in senders:
                senders[brand_id] = sms.numbers.sending_number(
                    session, brand_id, self.settings.sms_from
                )
            sender = senders[brand_id]
            if not sender:
                yield (
                    composed,
                    Verdict.failed(
                        "The brand has no number to send from, and ACCORD_SMS_FROM is not set.",
                        code="no_sender",
                    ),
                )
                continue
            body: Body = composed.body
            text = sms.Text(to=draft.address, sender=sender, body=body.text, reference=draft.key)
            verdict = verdict_of(self.gateway.send(session, text))
            yield composed, verdict
            if verdict.status == "throttled":
                return  # asked to slow down: the rest wait as long as it said, not an attempt

    def close(self) -> None:
        self.gateway.close()


def verdict_of(result: sms.Result) -> Verdict:
    if result.accepted:
        if result.status == "delivered":
            return Verdict.delivered(result.provider_id)
        return Verdict.sent(result.provider_id)
    after = result.retry_after.total_seconds() if result.retry_after is not None else None
    if result.throttled:
        return Verdict.throttled(
            result.detail, retry_after=after or THROTTLE_SECONDS, code=result.code
        )
    if result.verdict == "retry":
        return Verdict.retry(result.detail, code=result.code, retry_after=after)
    return Verdict.failed(result.detail, code=result.code, suppress=sms.number_is_dead(result.code))
