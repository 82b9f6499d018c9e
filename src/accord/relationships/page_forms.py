"""What the portal's relationship and settings forms send, read into service inputs.

Pure helpers (no routes, no SQL): local date-times, shared facts as `key: value` lines, and the
checkboxes of the relationship form turned into one `PreferenceChange`.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

from pydantic import BaseModel, field_validator

from accord.core.dates import format_moment
from accord.relationships.schemas import PreferenceChange
from accord.relationships.vocabulary import GRANTABLE, Channel, Purpose

# Purposes whose channels a person chooses, and the channels a person can choose.
CHANNEL_PURPOSES = (Purpose.marketing, Purpose.transactional)
PERSON_CHANNELS = tuple(c for c in Channel if c != Channel.webhook)
CHANNEL_TEXT: dict[str, str] = {
    Channel.email.value: "E-mail",
    Channel.sms.value: "SMS",
    Channel.push.value: "Push notifications",
    Channel.inapp.value: "In-app inbox",
    Channel.postal.value: "Post",
    Channel.webhook.value: "Webhook",
}
# The contact point channel that carries each person channel ("inapp" needs none).
CONTACT_CHANNEL = {"email": "email", "sms": "sms", "push": "push", "postal": "postal"}
MAX_FACTS = 20
MAX_KEY = 60
MAX_VALUE = 500
HHMM = re.compile(r"^([01]\d|2[0-3]):[0-5]\d$")
SHOWN_ON = "shown_on"


def zone_of(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (KeyError, ValueError):
        return ZoneInfo("UTC")


def parse_local(text: str, zone: str) -> datetime | None:
    """A `datetime-local` value in the person's time zone, as UTC; empty means none."""
    text = text.strip()
    if not text:
        return None
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise ValueError("Give a date and a time, for example 2030-01-31T18:00.") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=zone_of(zone))
    return moment.astimezone(UTC)


def local_input(moment: datetime | None, zone: str) -> str:
    """The value a `datetime-local` input shows for a stored UTC time."""
    return moment.astimezone(zone_of(zone)).strftime("%Y-%m-%dT%H:%M") if moment else ""


def local_text(moment: datetime | None, zone: str, locale: str = "") -> str:
    """A time as a person reads it: in their time zone and their language's format (the
    `when` filter's formatting, for text made outside a template)."""
    return format_moment(moment, zone, locale)


def parse_facts(text: str) -> dict[str, str]:
    """`key: value` lines (blank lines ignored) as a dict, or a ValueError naming the line."""
    facts: dict[str, str] = {}
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line:
            continue
        key, sep, value = line.partition(":")
        key, value = key.strip(), value.strip()
        if not sep or not key:
            raise ValueError(f"Line {number}: write each fact as 'key: value'.")
        if len(key) > MAX_KEY or len(value) > MAX_VALUE:
            raise ValueError(
                f"Line {number}: keys take at most {MAX_KEY} characters, values {MAX_VALUE}."
            )
        if key in facts:
            raise ValueError(f"Line {number}: '{key}' is given twice.")
        facts[key] = value
    if len(facts) > MAX_FACTS:
        raise ValueError(f"Share at most {MAX_FACTS} facts.")
    return facts


def format_facts(facts: Mapping[str, Any]) -> str:
    return "\n".join(f"{key}: {value}" for key, value in facts.items())


def whole_number(text: str, low: int, high: int) -> int:
    text = str(text).strip()
    if not text.isdigit() or not low <= int(text) <= high:
        raise ValueError(f"Give a whole number from {low} to {high}.")
    return int(text)


class PreferencesForm(BaseModel):
    """The typed fields of the relationship form (the checkboxes are read separately)."""

    brand_cap: int
    shared: dict[str, str]

    @field_validator("brand_cap", mode="before")
    @classmethod
    def _cap(cls, value: Any) -> int:
        return whole_number(value, 0, 100)

    @field_validator("shared", mode="before")
    @classmethod
    def _facts(cls, value: Any) -> dict[str, str]:
        return parse_facts(str(value or ""))


def purpose_key(purpose: str) -> str:
    return f"purpose:{purpose}"


def channel_key(purpose: str, channel: str) -> str:
    return f"channel:{purpose}:{channel}"


def topic_key(topic_id: uuid.UUID) -> str:
    return f"topic:{topic_id}"


def box_keys(topic_ids: Iterable[uuid.UUID]) -> list[str]:
    """Every checkbox the relationship form shows, in the order it shows them."""
    keys = [purpose_key(p) for p in GRANTABLE]
    keys += [channel_key(p, c) for p in CHANNEL_PURPOSES for c in PERSON_CHANNELS]
    return keys + [topic_key(t) for t in topic_ids]


def boxes_on(
    purposes: Mapping[str, str], channels: Mapping[str, list[str]], topics: Iterable[uuid.UUID]
) -> set[str]:
    """The checkboxes that are ticked for the stored choices (a pending purpose is not)."""
    on = {purpose_key(p) for p, status in purposes.items() if status == "granted"}
    on |= {channel_key(p, c) for p, chosen in channels.items() for c in chosen}
    return on | {topic_key(t) for t in topics}


def change_from(
    keys: Iterable[str],
    was: set[str],
    now: set[str],
    form: PreferencesForm,
) -> PreferenceChange:
    """One change holding every box the person ticked or unticked since the page was shown.

    Boxes left as they were are not sent, so a stale page never re-grants what was withdrawn
    elsewhere meanwhile (a one-click unsubscribe, an SMS STOP).
    """
    purposes: dict[Purpose, bool] = {}
    channels: dict[Purpose, dict[Channel, bool]] = {}
    topics: dict[uuid.UUID, bool] = {}
    for key in keys:
        on = key in now
        if on == (key in was):
            continue
        kind, _, rest = key.partition(":")
        if kind == "purpose":
            purposes[Purpose(rest)] = on
        elif kind == "channel":
            purpose, _, channel = rest.partition(":")
            channels.setdefault(Purpose(purpose), {})[Channel(channel)] = on
        else:
            topics[uuid.UUID(rest)] = on
    return PreferenceChange(
        purposes=purposes,
        channels=channels,
        topics=topics,
        brand_cap=form.brand_cap,
        shared=form.shared,
    )
