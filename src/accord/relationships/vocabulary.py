"""The words of consent: purposes, channels, states, sources. One place for all of them."""

from __future__ import annotations

from enum import StrEnum


class Purpose(StrEnum):
    marketing = "marketing"
    transactional = "transactional"
    profiling = "profiling"
    sharing = "sharing"


# Purposes a person grants; transactional needs only the relationship.
GRANTABLE = (Purpose.marketing, Purpose.profiling, Purpose.sharing)


class Channel(StrEnum):
    email = "email"
    sms = "sms"
    push = "push"
    inapp = "inapp"
    postal = "postal"
    webhook = "webhook"


class State(StrEnum):
    invited = "invited"
    active = "active"
    paused = "paused"
    ended = "ended"


class GrantStatus(StrEnum):
    """A purpose grant: granted, or pending until the person confirms it (double opt-in)."""

    granted = "granted"
    pending = "pending"


class Source(StrEnum):
    portal = "portal"
    api = "api"
    email_link = "email_link"
    one_click = "one_click"
    sms_keyword = "sms_keyword"
    import_ = "import"
    intent_accept = "intent_accept"
    system = "system"


PURPOSE_TEXT = {
    Purpose.marketing: "news, offers and other promotional messages",
    Purpose.transactional: "messages about what you asked for, such as orders and receipts",
    Purpose.profiling: "analysing your purchases to compute scores about you (e.g. lifetime value)",
    Purpose.sharing: "sharing your data with the brand's partners",
}
