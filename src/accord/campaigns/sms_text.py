"""An SMS campaign's text as it will go out: its template rendered for a sample person, with
what the channel adds (the brand's name; "Reply STOP to opt out" on marketing), counted in
segments and encoding (`accord.sms`). More than 10 segments is refused when it is saved."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from sqlalchemy.orm import Session

from accord.brands.models import Brand
from accord.campaigns import templating
from accord.campaigns.models import Campaign
from accord.campaigns.schemas import SmsSegments
from accord.core.errors import InvalidInput
from accord.relationships.models import Topic
from accord.relationships.vocabulary import Channel
from accord.sms import service as sms

# Names vary; the count is for this one, as the console's sample shows it.
SAMPLE_NAME = "Ada Lovelace"
MAX_SEGMENTS = sms.MAX_SEGMENTS
# Before a topic is chosen, a text is counted as marketing (with the STOP line: the longer).
NO_TOPIC = "your topic"


@dataclass(frozen=True)
class Measured:
    body: str
    count: sms.Count


def measure(session: Session, brand_id: uuid.UUID, topic: Topic | None, template: str) -> Measured:
    """The text as sent to the sample person, and its count. A template that does not render
    counts as written; without a topic, the text counts as marketing."""
    brand = session.get_one(Brand, brand_id)
    context = templating.context_for(
        display_name=SAMPLE_NAME,
        locale="en",
        brand=brand,
        topic_name=topic.name if topic is not None else NO_TOPIC,
    )
    try:
        text = templating.render(template, context)
    except Exception:  # the template check names the error; count what was typed meanwhile
        text = template
    marketing = topic is None or topic.purpose == "marketing"
    body, counted = sms.measure(brand.name, text, marketing=marketing)
    return Measured(body, counted)


def summary(counted: sms.Count) -> str:
    """The count in one sentence, as the composer shows it."""
    parts = "segment" if counted.segments == 1 else "segments"
    said = (
        f"As sent to {SAMPLE_NAME}: {counted.segments} {parts} ({counted.encoding}, "
        f"{counted.characters} characters; {counted.remaining} units left in the last "
        f"segment)."
    )
    if counted.too_long:
        return f"{said} Too long: at most {MAX_SEGMENTS} segments."
    if counted.unicode_characters:
        shown = " ".join(counted.unicode_characters[:5])
        return f"{said} UCS-2 because of {shown}."
    return said


def check(
    session: Session, brand_id: uuid.UUID, topic: Topic, template: str, *, field: str = "text"
) -> Measured:
    measured = measure(session, brand_id, topic, template)
    counted = measured.count
    if counted.too_long:
        hint = ""
        if counted.unicode_characters:
            shown = " ".join(counted.unicode_characters[:5])
            hint = f" Replacing {shown} would allow GSM-7, 153 characters a segment."
        raise InvalidInput(
            f"As sent, this text takes {counted.segments} segments ({counted.encoding}, "
            f"{counted.units} units); at most {sms.MAX_SEGMENTS}.{hint}",
            field=field,
        )
    return measured


def segments_of(session: Session, campaign: Campaign) -> SmsSegments:
    """An sms campaign's text as it goes out to a sample person, counted."""
    topic = session.get_one(Topic, campaign.topic_id)
    own = (campaign.contents or {}).get(Channel.sms.value)
    template = str(own["text"]) if own else campaign.text_template
    measured = measure(session, campaign.brand_id, topic, template)
    counted = measured.count
    return SmsSegments(
        encoding=counted.encoding,
        segments=counted.segments,
        max_segments=MAX_SEGMENTS,
        units=counted.units,
        characters=counted.characters,
        remaining=counted.remaining,
        unicode_characters=list(counted.unicode_characters),
        body=measured.body,
    )
