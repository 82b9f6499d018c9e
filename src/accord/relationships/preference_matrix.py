"""The relationship page's preference matrix: topics (rows, grouped by purpose) by channels
(columns), and the one sentence that says what the brand may do.

Pure helpers (no routes, no SQL). What a person chooses stays what the gate reads: a purpose,
the channels of a purpose, the topics. A purpose's row carries its switches (allowed, and
each channel); a topic's row carries the topic's switch, and its cells say whether a message
on that topic reaches the person on that channel.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from markupsafe import Markup, escape

from accord.relationships.page_forms import (
    CHANNEL_PURPOSES,
    CHANNEL_TEXT,
    PERSON_CHANNELS,
    channel_key,
    purpose_key,
    topic_key,
)
from accord.relationships.vocabulary import GRANTABLE, PURPOSE_TEXT, Purpose

# How a sentence says "may reach you on this channel".
CHANNEL_VERB = {
    "email": "e-mail you",
    "sms": "text you",
    "push": "send you push notifications",
    "inapp": "write to your Accord inbox",
    "postal": "write to you by post",
}
# The order of the matrix's groups: what the person allows first, then what needs no consent.
GROUP_ORDER = (Purpose.marketing, Purpose.transactional, Purpose.profiling, Purpose.sharing)


@dataclass
class Cell:
    """One topic by channel cell: whether a message on the topic reaches the person there."""

    channel: str
    label: str
    on: bool
    key: str  # the channel switch this cell follows


@dataclass
class TopicRow:
    id: str
    name: str
    description: str
    key: str | None  # None: always on (transactional)
    on: bool
    retired: bool
    cells: list[Cell] = field(default_factory=list)


@dataclass
class Group:
    purpose: str
    label: str
    text: str
    key: str | None  # None: no consent needed (transactional)
    allowed: bool
    pending: bool
    channel_keys: list[tuple[str, str, str]]  # (key, channel label, the switch's label)
    topics: list[TopicRow]


def switches(checked: set[str]) -> Callable[..., Markup]:
    """The matrix's switch (a box and its hidden label, with a note when given), on when its key
    is in `checked`: as the page's macro wrote it, character for character, in Python (a
    template macro call for each of the matrix's boxes was a fifth of the page's render)."""

    def switch(key: str, label: str, kind: str, note: str = "") -> Markup:
        ident = escape("c-" + key.replace(":", "-"))
        on = "checked" if key in checked else ""
        described = f' aria-describedby="{ident}-n"' if note else ""
        badge = f'<span class="badge note" id="{ident}-n">{escape(note)}</span>' if note else ""
        return Markup(
            f'\n<span class="switch-cell"><input type="checkbox" class="switch {escape(kind)}" '
            f'id="{ident}" name="{escape(key)}" value="on" {on}{described}><label for="{ident}">'
            f'<span class="visually-hidden">{escape(label)}</span></label>{badge}</span>'
        )

    return switch


def in_words(channel: str) -> str:
    """A channel inside a sentence: 'e-mail', 'SMS', 'post'."""
    text = CHANNEL_TEXT[channel]
    return text if text.isupper() else text.lower()


def join_words(words: Sequence[str]) -> str:
    """'a', 'a and b', 'a, b and c'."""
    if len(words) <= 1:
        return "".join(words)
    return ", ".join(words[:-1]) + " and " + words[-1]


def groups(topics: Iterable[Any], checked: set[str], pending: set[str]) -> list[Group]:
    """The matrix's row groups for the boxes as `checked` (stored, or as typed)."""
    by_purpose: dict[str, list[Any]] = {}
    for topic in topics:
        by_purpose.setdefault(topic.purpose, []).append(topic)
    found = []
    for purpose in GROUP_ORDER:
        grantable = purpose in GRANTABLE
        has_channels = purpose in CHANNEL_PURPOSES
        allowed = not grantable or purpose_key(purpose) in checked
        label = purpose.value.capitalize()
        channels = [
            (channel_key(purpose, c), CHANNEL_TEXT[c], f"{label} by {in_words(c.value)}")
            for c in PERSON_CHANNELS
        ]
        rows = []
        for topic in by_purpose.get(purpose.value, []):
            key = topic_key(topic.id) if grantable else None
            on = key is None or key in checked
            cells = [
                Cell(c.value, CHANNEL_TEXT[c], allowed and on and k in checked, k)
                for c, (k, _, _) in zip(PERSON_CHANNELS, channels, strict=True)
            ]
            rows.append(
                TopicRow(
                    id=str(topic.id),
                    name=topic.name,
                    description=topic.description,
                    key=key,
                    on=on,
                    retired=topic.retired_at is not None,
                    cells=cells if has_channels else [],
                )
            )
        found.append(
            Group(
                purpose=purpose.value,
                label=label,
                text=PURPOSE_TEXT[purpose],
                key=purpose_key(purpose) if grantable else None,
                allowed=allowed,
                pending=purpose.value in pending,
                channel_keys=channels if has_channels else [],
                topics=rows,
            )
        )
    return found


def summary(
    brand: str,
    state: str,
    purposes: Mapping[str, str],
    channels: Mapping[str, Sequence[str]],
    topic_names: Sequence[str],
    cap: int,
) -> str:
    """One sentence: what `brand` may send (stored choices, not what a form holds)."""
    if state == "ended":
        return f"{brand} may send you nothing: the relationship has ended."
    if state == "invited":
        return f"{brand} may send you nothing until you accept its invitation."
    if state == "paused":
        return f"{brand} is paused: it may send you only messages about what you asked for."
    if purposes.get(Purpose.marketing.value) != "granted":
        return f"{brand} may send you no marketing; only messages about what you asked for."
    verbs = [CHANNEL_VERB[c] for c in CHANNEL_VERB if c in channels.get("marketing", [])]
    if not verbs:
        return f"{brand} may send you marketing, but you chose no channel for it, so none comes."
    if not topic_names:
        return f"{brand} may send you marketing, but you chose no topic, so none comes."
    if cap == 0:
        return f"{brand} may send you marketing, but your limit of 0 a week lets none through."
    return f"{brand} may {join_words(verbs)} about {join_words(topic_names)}, at most {cap} a week."
