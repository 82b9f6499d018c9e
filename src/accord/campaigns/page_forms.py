"""The console's campaign form: what it sends, read into `CampaignCreate` / `CampaignUpdate`.

Pure helpers (no routes, no SQL). Each error is keyed by the form field it belongs beside; the
fields the form calls by another name than the API are mapped both ways.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import UTC, date, datetime
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

from accord.analytics.service import SEGMENTS
from accord.campaigns import content
from accord.campaigns.models import Campaign
from accord.campaigns.schemas import CampaignCreate, CampaignUpdate
from accord.core.web.forms import parse_form

FIELDS = [
    "name",
    "topic_id",
    "channel",
    "content_format",
    "subject",
    "text",
    "html",
    "audience_kind",
    "audience_people",
    "audience_filter",
    "audience_segment",
    "audience_saved",
    "save_segment_as",
    "schedule_kind",
    "schedule_at",
    "local_date",
    "local_time",
    "expires_at",
    "zone",
    "also_email",
    "also_sms",
    "also_push",
    "also_inapp",
    "channel_mode",
    "sms_text",
    "push_subject",
    "push_text",
    "inapp_subject",
    "inapp_text",
]
CHANNEL_MODES = [
    ("preferred", "One message each, on the channel the person prefers"),
    ("all", "On every channel the person allows"),
]
# A channel's own content in the form: (channel, its subject field or None, its text field).
OWN_CONTENT = [("sms", None, "sms_text"), ("push", "push_subject", "push_text")]
OWN_CONTENT.append(("inapp", "inapp_subject", "inapp_text"))
AUDIENCE_KINDS = [
    ("all", "Everyone related to the brand"),
    ("people", "People you name by e-mail address"),
    ("filter", "People whose shared facts match"),
    ("segment", "Customers in an RFM segment"),
    ("saved", "A segment you saved"),
]
SEGMENT_OPTIONS = [("", "Choose a segment")] + [
    (key, f"{segment.label}: {segment.meaning}") for key, segment in SEGMENTS.items()
]
CHANNELS = [
    ("email", "E-mail"),
    ("sms", "Text message (SMS)"),
    ("push", "Push notification"),
    ("inapp", "In-app inbox"),
]
SCHEDULE_KINDS = [
    ("now", "As soon as it is sent"),
    ("at", "At a date and time"),
    ("local", "At a local time on a date, in each person's own time zone"),
]
# API field (as services and schemas name it) -> the form field its error sits beside.
FORM_FIELD = {
    "topic": "topic_id",
    "audience": "audience_kind",
    "schedule": "schedule_kind",
    "schedule.at": "schedule_at",
    "schedule.local_date": "local_date",
    "schedule.local_time": "local_time",
    "postal_address": "form",
    "channels": "channel",
    "channel_mode": "channel_mode",
}
for _channel, _subject, _text in OWN_CONTENT:
    FORM_FIELD[f"contents.{_channel}"] = _text
    FORM_FIELD[f"contents.{_channel}.text"] = _text
    FORM_FIELD[f"contents.{_channel}.html"] = _text
    FORM_FIELD[f"contents.{_channel}.subject"] = _subject or _text
REQUIRED = {
    "name": "Give the campaign a name.",
    "subject": "Write a subject.",
    "text": "Write the text of the message.",
}
MAX_PEOPLE = 10_000
MAX_VALUE = 200
M = TypeVar("M", CampaignCreate, CampaignUpdate)
# E-mail addresses -> the ids of the brand's related people who have them (a page's lookup).
PeopleLookup = Callable[[list[str]], dict[str, uuid.UUID]]


def form_field(api_field: str | None) -> str:
    if not api_field:
        return "form"
    return FORM_FIELD.get(api_field, api_field if api_field in FIELDS else "form")


def blank_values() -> dict[str, str]:
    values = dict.fromkeys(FIELDS, "")
    values.update(
        audience_kind="all",
        schedule_kind="now",
        zone="UTC",
        channel="email",
        content_format="markdown",
        channel_mode="preferred",
    )
    return values


def values_of(campaign: Campaign, emails: dict[str, str] | None = None) -> dict[str, str]:
    """The form as it shows a stored campaign (times in UTC); `emails` names listed people."""
    audience = campaign.audience or {}
    fmt = content.format_of(campaign.text_template, campaign.html_template)
    named = emails or {}
    own = campaign.contents or {}
    content_values: dict[str, str] = {}
    for channel, subject_field, text_field in OWN_CONTENT:
        content_values[text_field] = str(own.get(channel, {}).get("text") or "")
        if subject_field:
            content_values[subject_field] = str(own.get(channel, {}).get("subject") or "")
    also = {f"also_{c}": "on" for c in (campaign.channels or [])[1:]}
    return {
        **blank_values(),
        **content_values,
        **also,
        "channel_mode": campaign.channel_mode,
        "name": campaign.name,
        "topic_id": str(campaign.topic_id),
        "channel": campaign.channel,
        "content_format": fmt,
        "subject": campaign.subject,
        "text": campaign.text_template,
        "html": campaign.html_template if fmt == "html" and campaign.html_template else "",
        "audience_kind": campaign.audience_kind,
        "audience_people": "\n".join(
            named.get(str(p), "(no longer related)") for p in audience.get("people", [])
        ),
        "audience_filter": "\n".join(f"{k}={v}" for k, v in audience.get("filter", {}).items()),
        "audience_segment": str(audience.get("segment") or ""),
        "schedule_kind": campaign.schedule_kind,
        "schedule_at": _local_input(campaign.send_at) if campaign.schedule_kind == "at" else "",
        "local_date": campaign.local_date or "",
        "local_time": campaign.local_time or "",
        "expires_at": _local_input(campaign.expires_at),
    }


def _local_input(moment: datetime | None) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M") if moment else ""


def _zone(name: str, errors: dict[str, str]) -> ZoneInfo:
    name = name.strip() or "UTC"
    try:
        return ZoneInfo(name)
    except (KeyError, ValueError):
        errors["zone"] = "Choose a time zone from the list."
        return ZoneInfo("UTC")


def _moment(text: str, zone: ZoneInfo, field: str, errors: dict[str, str]) -> datetime | None:
    text = text.strip()
    if not text:
        return None
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        errors[field] = "Give a date and a time, for example 2030-01-31T18:00."
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=zone)
    return moment.astimezone(UTC)


def _people(text: str, errors: dict[str, str], lookup: PeopleLookup) -> list[str]:
    """The people named by e-mail address, one a line: only people related to the brand
    (an address of anyone else is refused like a mistyped one, so nothing leaks)."""
    addresses: list[str] = []
    for number, raw in enumerate(text.replace(",", "\n").splitlines(), start=1):
        line = raw.strip().lower()
        if not line:
            continue
        if "@" not in line or len(line) > 320:
            errors["audience_people"] = f"Line {number}: '{line[:60]}' is not an e-mail address."
            return []
        addresses.append(line)
    if not addresses:
        errors["audience_people"] = "Give at least one e-mail address, one a line."
        return []
    if len(addresses) > MAX_PEOPLE:
        errors["audience_people"] = f"At most {MAX_PEOPLE} people: use a filter for more."
        return []
    found = lookup(addresses)
    unknown = [a for a in addresses if a not in found]
    if unknown:
        errors["audience_people"] = f"No one related to the brand has the address {unknown[0]}" + (
            f" (and {len(unknown) - 1} more)." if len(unknown) > 1 else "."
        )
        return []
    return sorted({str(found[a]) for a in addresses})


def _filter(text: str, errors: dict[str, str]) -> dict[str, str]:
    found: dict[str, str] = {}
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line:
            continue
        key, sep, value = line.partition("=")
        key, value = key.strip(), value.strip()
        if not sep or not key:
            errors["audience_filter"] = f"Line {number}: write each condition as key=value."
            return {}
        if key in found:
            errors["audience_filter"] = f"Line {number}: '{key}' is given twice."
            return {}
        if len(value) > MAX_VALUE:
            errors["audience_filter"] = (
                f"Line {number}: a value takes at most {MAX_VALUE} characters."
            )
            return {}
        found[key] = value
    if not found:
        errors["audience_filter"] = "Give at least one condition, as key=value."
    return found


def _audience(
    values: dict[str, str], errors: dict[str, str], lookup: PeopleLookup
) -> dict[str, Any]:
    kind = values["audience_kind"] or "all"
    # On a bad line the schema gets "all", so that the error is told once, beside its field.
    if kind == "people":
        people = _people(values["audience_people"], errors, lookup)
        return {"kind": kind, "people": people} if people else {"kind": "all"}
    if kind == "filter":
        facts = _filter(values["audience_filter"], errors)
        return {"kind": kind, "filter": facts} if facts else {"kind": "all"}
    if kind == "segment":
        if values["audience_segment"] in SEGMENTS:
            return {"kind": kind, "segment": values["audience_segment"]}
        errors["audience_segment"] = "Choose the segment the campaign is for."
        return {"kind": "all"}
    if kind != "all":
        errors["audience_kind"] = "Choose who the campaign is for."
    return {"kind": "all"}


def _schedule(values: dict[str, str], zone: ZoneInfo, errors: dict[str, str]) -> dict[str, Any]:
    kind = values["schedule_kind"] or "now"
    if kind == "at":
        at = _moment(values["schedule_at"], zone, "schedule_at", errors)
        if at is None:
            errors.setdefault("schedule_at", "Give the date and time to send at.")
            return {"kind": "now"}
        return {"kind": "at", "at": at}
    if kind == "local":
        day, time = values["local_date"].strip(), values["local_time"].strip()
        try:
            date.fromisoformat(day)
        except ValueError:
            errors["local_date"] = "Give a date, for example 2030-01-31."
        if not _is_hhmm(time):
            errors["local_time"] = "Give a time as HH:MM, for example 09:30."
        if "local_date" in errors or "local_time" in errors:
            return {"kind": "now"}
        return {"kind": "local", "local_date": day, "local_time": time}
    if kind != "now":
        errors["schedule_kind"] = "Choose when to send."
    return {"kind": "now"}


def _is_hhmm(text: str) -> bool:
    hours, sep, minutes = text.partition(":")
    return (
        sep == ":"
        and hours.isdigit()
        and minutes.isdigit()
        and int(hours) < 24
        and int(minutes) < 60
        and len(hours) == len(minutes) == 2
    )


def _body(values: dict[str, str], errors: dict[str, str], lookup: PeopleLookup) -> dict[str, Any]:
    # A text alone has no subject and no HTML: what is typed is what goes (plain text).
    texting = values.get("channel") == "sms"
    for name, message in REQUIRED.items():
        if not values[name].strip() and not (texting and name == "subject"):
            errors[name] = message
    fmt = values.get("content_format") or "markdown"
    if fmt not in {key for key, _ in content.FORMATS}:
        errors["content_format"] = "Choose one of the options in the list."
        fmt = "text"
    text, html = content.parts("text" if texting else fmt, values["text"], values["html"])
    zone = _zone(values["zone"], errors)
    return {
        "name": values["name"],
        "subject": values["subject"] if values["subject"].strip() or not texting else None,
        "text": text,
        "html": html,
        "audience": _audience(values, errors, lookup),
        "schedule": _schedule(values, zone, errors),
        "expires_at": _moment(values["expires_at"], zone, "expires_at", errors),
    }


def _own_contents(values: dict[str, str]) -> dict[str, dict[str, str]]:
    """The channels' own content the form gives (a channel left empty has none)."""
    found: dict[str, dict[str, str]] = {}
    for channel, subject_field, text_field in OWN_CONTENT:
        text = values.get(text_field, "")
        subject = values.get(subject_field, "").strip() if subject_field else ""
        if text.strip() or subject:
            found[channel] = {"text": text, **({"subject": subject} if subject else {})}
    return found


def _channels(values: dict[str, str], errors: dict[str, str], body: dict[str, Any]) -> None:
    """The first channel, the others ticked, and how they combine."""
    channel = values.get("channel") or "email"
    if channel not in {key for key, _ in CHANNELS}:
        errors["channel"] = "Choose one of the options in the list."
        return
    body["channel"] = channel
    also = [key for key, _ in CHANNELS if key != channel and values.get(f"also_{key}")]
    if also:
        body["channels"] = [channel, *also]
        mode = values.get("channel_mode") or "preferred"
        if mode not in {key for key, _ in CHANNEL_MODES}:
            errors["channel_mode"] = "Choose one of the options in the list."
        else:
            body["channel_mode"] = mode


def _merge(model: type[M], body: dict[str, Any], errors: dict[str, str]) -> M | dict[str, str]:
    parsed = parse_form(model, body)
    if isinstance(parsed, dict):
        for field, message in parsed.items():
            errors.setdefault(form_field(field), message)
    return errors if errors else parsed


def to_create(values: dict[str, str], lookup: PeopleLookup) -> CampaignCreate | dict[str, str]:
    """The form as a `CampaignCreate`, or every error found, keyed by form field."""
    errors: dict[str, str] = {}
    body = _body(values, errors, lookup)
    _channels(values, errors, body)
    body["contents"] = _own_contents(values)
    try:
        body["topic_id"] = uuid.UUID(values["topic_id"].strip())
    except ValueError:
        errors["topic_id"] = "Choose a topic."
    return _merge(CampaignCreate, body, errors)


def to_update(values: dict[str, str], lookup: PeopleLookup) -> CampaignUpdate | dict[str, str]:
    """The edit form as a `CampaignUpdate` that sets every field (an empty HTML clears it)."""
    errors: dict[str, str] = {}
    body = _body(values, errors, lookup)
    body["contents"] = _own_contents(values)
    return _merge(CampaignUpdate, body, errors)
