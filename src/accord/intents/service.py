"""The intents domain's public face: pages, the API and other domains come in through here."""

from __future__ import annotations

from accord.intents.answering import (
    add_rule,
    deactivate_rule,
    get_rule,
    listing,
    offer,
    rules,
    subscribe,
    subscriptions,
    visible_intent,
)
from accord.intents.broadcast import (
    accept,
    block,
    blocked,
    mine,
    own_intent,
    publish,
    seen_by,
    unblock,
    withdraw,
)
from accord.intents.matching import answerable_ids, answerable_select, visible_select
from accord.intents.taxonomy import CATEGORIES, grouped
from accord.intents.views import for_brand, for_person, offer_out

__all__ = [
    "CATEGORIES",
    "accept",
    "add_rule",
    "answerable_ids",
    "answerable_select",
    "block",
    "blocked",
    "deactivate_rule",
    "for_brand",
    "for_person",
    "get_rule",
    "grouped",
    "listing",
    "mine",
    "offer",
    "offer_out",
    "own_intent",
    "publish",
    "rules",
    "seen_by",
    "subscribe",
    "subscriptions",
    "unblock",
    "visible_intent",
    "visible_select",
    "withdraw",
]
