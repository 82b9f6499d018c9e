"""The gate's rules over one person's facts: the per-message check a worker runs before sending.

`accord.campaigns.gate_sql` states the same rules as one SQL statement for a whole audience;
a differential property test keeps the two in agreement. Order matters: the first rule that
fails gives the reason.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

REASONS = (
    "no_relationship",
    "paused",
    "ended",
    "no_marketing_consent",
    "channel_not_chosen",
    "topic_not_chosen",
    "global_opt_out",
    "no_contact_point",
    "unverified",
    "suppressed",
    "brand_cap",
    "global_cap",
    "quiet_hours",
    "terms",
)
INTERRUPTIVE = frozenset({"sms", "push"})
SMS_START, SMS_END = 8 * 60, 21 * 60
CAP_WINDOW = timedelta(days=7)


@dataclass(frozen=True)
class Sending:
    """A message about to be sent, as the gate sees it: from which brand, for what purpose (the
    topic's, never the caller's say-so), about which topic, on which channel, at what moment."""

    brand_id: uuid.UUID
    purpose: str
    topic_id: uuid.UUID
    channel: str
    at: datetime


@dataclass(frozen=True)
class Facts:
    """Everything the gate looks at for one person, one brand, one channel, at one moment."""

    rel_state: str | None
    rel_paused_until: datetime | None
    brand_cap: int
    global_paused_until: datetime | None
    do_not_contact: bool
    global_cap: int
    quiet_start: str | None
    quiet_end: str | None
    time_zone: str
    marketing_granted: bool
    channel_chosen: bool
    topic_chosen: bool
    contacts_total: int
    contacts_verified: int
    contacts_usable: int
    brand_sent: int
    global_sent: int


@dataclass(frozen=True)
class Decision:
    reason: str | None
    defer_until: datetime | None = None

    @property
    def allowed(self) -> bool:
        return self.reason is None


def minutes(hhmm: str) -> int:
    return int(hhmm[:2]) * 60 + int(hhmm[3:5])


def local_minute(at: datetime, time_zone: str) -> int:
    local = at.astimezone(ZoneInfo(time_zone))
    return local.hour * 60 + local.minute


def in_quiet(minute: int, start: str | None, end: str | None) -> bool:
    if start is None or end is None:
        return False
    s, e = minutes(start), minutes(end)
    return s <= minute < e if s < e else (minute >= s or minute < e)


def is_quiet(facts: Facts, channel: str, at: datetime) -> bool:
    if channel not in INTERRUPTIVE:
        return False
    minute = local_minute(at, facts.time_zone)
    if channel == "sms" and not SMS_START <= minute < SMS_END:
        return True
    return in_quiet(minute, facts.quiet_start, facts.quiet_end)


def quiet_ends(facts: Facts, channel: str, at: datetime) -> datetime:
    """The first minute after `at` when the channel may interrupt the person again."""
    moment = at.replace(second=0, microsecond=0) + timedelta(minutes=1)
    for _ in range(2 * 24 * 60):  # quiet periods are shorter than a day; DST shifts are hours
        if not is_quiet(facts, channel, moment):
            return moment
        moment += timedelta(minutes=1)
    return moment


def decide(facts: Facts, sending: Sending) -> Decision:
    marketing, channel, at = sending.purpose == "marketing", sending.channel, sending.at
    if facts.rel_state is None or facts.rel_state == "invited":
        return Decision("no_relationship")
    if marketing and (
        (
            facts.rel_state == "paused"
            and (facts.rel_paused_until is None or facts.rel_paused_until > at)
        )
        or (facts.global_paused_until is not None and facts.global_paused_until > at)
    ):
        return Decision("paused")
    if facts.rel_state == "ended":
        return Decision("ended")
    if marketing and not facts.marketing_granted:
        return Decision("no_marketing_consent")
    if not facts.channel_chosen:
        return Decision("channel_not_chosen")
    if marketing and not facts.topic_chosen:
        return Decision("topic_not_chosen")
    if marketing and facts.do_not_contact:
        return Decision("global_opt_out")
    if facts.contacts_total == 0:
        return Decision("no_contact_point")
    if facts.contacts_verified == 0:
        return Decision("unverified")
    if facts.contacts_usable == 0:
        return Decision("suppressed")
    if marketing and facts.brand_sent >= facts.brand_cap:
        return Decision("brand_cap")
    if marketing and facts.global_sent >= facts.global_cap:
        return Decision("global_cap")
    if is_quiet(facts, channel, at):
        return Decision("quiet_hours", quiet_ends(facts, channel, at))
    return Decision(None)
