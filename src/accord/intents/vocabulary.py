"""The words of intents and offers."""

from __future__ import annotations

from enum import StrEnum


class IntentStatus(StrEnum):
    open = "open"
    closed = "closed"  # the person accepted an offer
    withdrawn = "withdrawn"


class OfferStatus(StrEnum):
    open = "open"
    accepted = "accepted"
    closed = "closed"  # the intent closed (another offer was accepted, or it was withdrawn)


class HearBy(StrEnum):
    """The channel on which the person hears about offers, and on which the brand they choose
    may then reach them."""

    email = "email"
    sms = "sms"
    push = "push"
    inapp = "inapp"
