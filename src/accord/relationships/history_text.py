"""Ledger events as sentences a person reads: "You withdrew marketing from Velo Cycles"."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from accord.relationships.page_forms import CHANNEL_TEXT

HOW = {
    "portal": "in Accord",
    "api": "recorded by the brand",
    "email_link": "by a link in an e-mail",
    "one_click": "by one-click unsubscribe",
    "sms_keyword": "by an SMS keyword",
    "import": "imported by the brand",
    "intent_accept": "by accepting an offer",
    "system": "by Accord",
}
UNKNOWN_BRAND = "a brand no longer on Accord"


def _channel(name: str | None) -> str:
    return CHANNEL_TEXT.get(str(name), str(name))


def _choice(on: bool, brand: str, scope: Mapping[str, Any], topics: Mapping[str, str]) -> str:
    if scope.get("topic"):
        name = topics.get(str(scope["topic"]), "a topic that no longer exists")
        return f"You {'chose' if on else 'turned off'} the topic '{name}' from {brand}"
    purpose = scope.get("purpose") or "a purpose"
    if scope.get("channel"):
        verb = "chose" if on else "turned off"
        return f"You {verb} {_channel(scope['channel'])} for {purpose} messages from {brand}"
    return f"You granted {purpose} to {brand}" if on else f"You withdrew {purpose} from {brand}"


def _brand_sentence(
    action: str,
    brand: str,
    scope: Mapping[str, Any],
    value: Mapping[str, Any],
    topics: Mapping[str, str],
    until: str,
) -> str | None:
    purpose = scope.get("purpose") or "a purpose"
    sentences = {
        "follow": f"You started following {brand}",
        "invite": f"{brand} invited you",
        "accept": f"You accepted {brand}'s invitation",
        "intent_accept": f"You accepted an offer from {brand} and started a relationship",
        "pause": f"You paused {brand} " + (f"until {until}" if until else "until you resume it"),
        "resume": f"You resumed your relationship with {brand}",
        "end": f"You ended your relationship with {brand}"
        + (" and asked it to erase what it holds about you" if value.get("erase") else ""),
        "request": f"{brand} recorded that you agreed to {purpose}; it waits for your confirmation",
        "confirm": f"You confirmed {purpose} for {brand}",
        "import_grant": f"{brand} imported your confirmed agreement to {purpose} from its records",
        "import_request": f"{brand} imported your agreement to {purpose} from its records; it "
        "waits for your confirmation",
        "set_cap": f"You allowed at most {value.get('cap')} marketing messages a week from {brand}",
        "share": f"You updated the facts you share with {brand} ({value.get('count', 0)} shared)",
        "erase": f"{brand} erased what it held about you",
    }
    if action in ("grant", "withdraw"):
        return _choice(action == "grant", brand, scope, topics)
    return sentences.get(action) or _terms_sentence(action, brand, value)


def _terms_sentence(action: str, brand: str, value: Mapping[str, Any]) -> str | None:
    """Personal terms (the values are the terms domain's ledger values: ids, never text)."""
    terms = f"'{value.get('terms')}' (version {value.get('version')})"
    agreed = value.get("agreed") or value.get("terms")
    sentences = {
        "terms_proffer": f"You proffered {terms} to {brand}",
        "terms_agreed": f"{brand} accepted {terms}"
        + (f" as '{agreed}'" if agreed != value.get("terms") else "")
        + "; both signed the agreement"
        if value.get("by") != "person"
        else f"You took {brand}'s alternative '{agreed}'; both signed the agreement",
        "terms_alternative": f"{brand} offered '{value.get('alternative')}' instead of {terms}",
        "terms_declined": f"{brand} declined {terms}",
        "terms_withdraw": f"You withdrew {terms} from {brand}",
    }
    return sentences.get(action)


def _global_sentence(action: str, value: Mapping[str, Any], until: str) -> str | None:
    if action == "set_quiet_hours":
        if value.get("start") is None:
            return "You turned off your quiet hours"
        return f"You set quiet hours from {value.get('start')} to {value.get('end')}"
    if action == "set_do_not_contact":
        if value.get("on"):
            return "You asked every brand not to contact you for marketing"
        return "You allowed brands to contact you for marketing again, as you chose per brand"
    sentences = {
        "set_global_cap": f"You allowed at most {value.get('cap')} marketing messages a week "
        "across all brands",
        "pause_all": f"You paused every brand until {until}",
        "resume_all": "You resumed every brand",
        "erase": "You deleted your Accord account",
        "terms_withdraw": f"You withdrew '{value.get('terms')}' from every brand",
        "terms_proffer": f"You proffered '{value.get('terms')}' (version {value.get('version')}) "
        "to every brand you deal with",
        "terms_only_mine": "You chose relationships only on your terms"
        if value.get("on")
        else "You allowed relationships without your terms",
    }
    return sentences.get(action)


def sentence(
    body: Mapping[str, Any], brands: Mapping[str, str], topics: Mapping[str, str], until: str
) -> str:
    """One event as a sentence; `until` is the pause end already written in local time."""
    action, scope, value = body["action"], body.get("scope") or {}, body.get("value") or {}
    if action == "suppress":
        return (
            f"Accord stopped using your {_channel(scope.get('channel'))} address "
            f"(reason: {value.get('reason')})"
        )
    if body.get("brand"):
        brand = brands.get(body["brand"], UNKNOWN_BRAND)
        text = _brand_sentence(action, brand, scope, value, topics, until)
        return text or f"Decision '{action}' about {brand}"
    return _global_sentence(action, value, until) or f"Decision '{action}'"
