"""Campaigns: create and validate, preview by reason, send (once), cancel, resolve the audience
into the outbox with set-based INSERT … SELECT."""

from __future__ import annotations

import uuid
from collections.abc import Iterator, Sequence
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import (
    Integer,
    Select,
    String,
    Uuid,
    bindparam,
    cast,
    column,
    func,
    literal,
    select,
    text,
    true,
    update,
    values,
)
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from accord.brands.models import Brand
from accord.campaigns import gate_facts, gate_prepared, multichannel, sms_text, templating
from accord.campaigns import saved_segments as saved_segments
from accord.campaigns.audience import audience_of as audience_of
from accord.campaigns.audience import audience_select, local_instants
from accord.campaigns.footer import footer_html as footer_html
from accord.campaigns.footer import footer_text as footer_text
from accord.campaigns.gate_rules import DEFERRING
from accord.campaigns.gate_rules import RULES as RULES
from accord.campaigns.gate_rules import Decision as Decision
from accord.campaigns.gate_rules import Reason as Reason
from accord.campaigns.gate_rules import Sending as Sending
from accord.campaigns.gate_sql import eligible_select, reason_counts
from accord.campaigns.gate_sql import gate_select as gate_select
from accord.campaigns.messages import enqueue as enqueue
from accord.campaigns.models import Campaign
from accord.campaigns.schemas import CampaignCreate, CampaignUpdate, Preview
from accord.campaigns.templating import TemplateLimit as TemplateLimit
from accord.campaigns.templating import context_for as context_for
from accord.campaigns.templating import message_budget as message_budget
from accord.campaigns.templating import render as render
from accord.core.db import UTCDateTime, rowcount, utcnow
from accord.core.errors import Conflict, InvalidInput, NotFound
from accord.core.pagination import paginate
from accord.ideas import service as ideas
from accord.outbox.models import OutboxMessage
from accord.people.models import Person
from accord.relationships.models import Relationship, Topic
from accord.relationships.service import brand_topic
from accord.relationships.vocabulary import Channel, Purpose

# Other domains import only this module (tests/test_architecture.py): the `name as name`
# imports above are what it offers them from the domain's other modules, and these
# under a name that says what they do.
check_gate = gate_facts.check

# People per INSERT … SELECT when resolving: each batch reads its own range of every table, so
# the size only trades the fixed cost of a statement (planning, finding the range) against the
# size of its hash tables. At 20,000, a million people cost a third more than at 100,000.
BATCH = 100_000
MESSAGE_PURPOSES = ("marketing", "transactional")
OPEN_STATES = ("queued", "sending", "deferred")


# Real people a template is tried on when it is saved, beside made-up ones: those with the
# longest names and the most recent of the brand's relationships.
SAMPLE_PEOPLE = 10


def sample_contexts(session: Session, brand_id: uuid.UUID, topic_name: str) -> list[dict[str, Any]]:
    """Template contexts of a few of the brand's own people (`check_content`)."""
    brand = session.get_one(Brand, brand_id)
    related = select(Person.display_name, Person.locale).join(
        Relationship, Relationship.person_id == Person.id
    )
    related = related.where(Relationship.brand_id == brand_id)
    people = [
        *session.execute(
            related.order_by(func.length(Person.display_name).desc()).limit(SAMPLE_PEOPLE)
        ),
        *session.execute(related.order_by(Relationship.created_at.desc()).limit(SAMPLE_PEOPLE)),
    ]
    contexts = templating.synthetic_contexts(brand, topic_name)
    for name, locale in dict.fromkeys((p.display_name, p.locale) for p in people):
        contexts.append(
            templating.context_for(
                display_name=name, locale=locale, brand=brand, topic_name=topic_name
            )
        )
    return contexts


def check_content(
    session: Session,
    brand_id: uuid.UUID,
    topic_name: str,
    templates: dict[str, str | None],
) -> None:
    """Each template (subject, text, html) parses, uses only allowed fields and renders within
    the limits for made-up people and a sample of the brand's own."""
    samples = sample_contexts(session, brand_id, topic_name)
    for field, source in templates.items():
        if source is not None:
            templating.check(source, field=field, samples=samples)


def _check_all_content(
    session: Session,
    brand_id: uuid.UUID,
    topic: Topic,
    channels: list[str],
    default: tuple[str, str, str | None],
    contents: dict[str, dict[str, str | None]],
) -> None:
    """The campaign's content and each channel's own: a channel's content only for a channel
    the campaign goes out on; a subject wherever one is shown (the campaign's, unless the
    channel has its own); on sms no subject, no HTML, and at most 10 segments as sent."""
    subject, text, html = default
    if all(channel == Channel.sms for channel in channels) and html:
        raise InvalidInput("A text has no HTML part; leave html empty.", field="html")
    titled = [c for c in channels if c != Channel.sms and not contents.get(c, {}).get("subject")]
    if titled and not subject:
        raise InvalidInput(f"A {titled[0]} campaign needs a subject.", field="subject")
    templates: dict[str, str | None] = {"subject": subject, "text": text, "html": html}
    for channel, own in contents.items():
        prefix = f"contents.{channel}."
        if channel not in channels:
            raise InvalidInput(
                f"The campaign does not go out on {channel}: add the channel or remove its "
                "content.",
                field=f"contents.{channel}",
            )
        if channel == Channel.sms and own.get("subject"):
            raise InvalidInput("A text has no subject; leave it empty.", field=prefix + "subject")
        if channel in (Channel.sms, Channel.push, Channel.inapp) and own.get("html"):
            raise InvalidInput(
                f"A {channel} message has no HTML part; leave html empty.", field=prefix + "html"
            )
        for name in ("subject", "text", "html"):
            templates[prefix + name] = own.get(name)
    check_content(session, brand_id, topic.name, templates)
    if Channel.sms in channels:
        own_sms = contents.get(Channel.sms.value)
        sms_text.check(
            session,
            brand_id,
            topic,
            str(own_sms["text"]) if own_sms else text,
            field="contents.sms.text" if own_sms else "text",
        )


def _contents(data: CampaignCreate | CampaignUpdate) -> dict[str, dict[str, str | None]]:
    return {
        channel: own.model_dump(mode="json", exclude_none=True)
        for channel, own in (data.contents or {}).items()
    }


def _check_schedule(data: CampaignCreate | CampaignUpdate, now: datetime) -> None:
    schedule = data.schedule
    start = now
    if schedule is not None and schedule.kind == "at" and schedule.at is not None:
        if schedule.at.tzinfo is None:
            raise InvalidInput("schedule.at needs a time zone (e.g. Z).", field="schedule.at")
        if schedule.at < now - timedelta(minutes=1):
            raise InvalidInput("The schedule is in the past.", field="schedule.at")
        start = schedule.at
    if (
        schedule is not None
        and schedule.kind == "local"
        and schedule.local_date is not None
        and date.fromisoformat(schedule.local_date) < (now - timedelta(days=1)).date()
    ):
        raise InvalidInput("The schedule is in the past.", field="schedule.local_date")
    if data.expires_at is not None and data.expires_at <= start:
        raise InvalidInput("The campaign must expire after it starts.", field="expires_at")


def _topic(session: Session, brand_id: uuid.UUID, topic_id: uuid.UUID) -> Topic:
    topic = brand_topic(session, brand_id, topic_id)
    if topic.retired_at is not None:
        raise Conflict("This topic is retired.", field="topic_id")
    if topic.purpose not in MESSAGE_PURPOSES:
        raise InvalidInput(
            f"Messages need a marketing or transactional topic, not {topic.purpose}.",
            field="topic_id",
        )
    return topic


def create(
    session: Session, brand_id: uuid.UUID, data: CampaignCreate, *, member_id: uuid.UUID | None
) -> Campaign:
    """Validate everything first, then write one row: no partial campaign is ever created."""
    topic = _topic(session, brand_id, data.topic_id)
    channels: list[str] = [*data.channels] if data.channels else [data.channel]
    default = (data.subject or "", data.text, data.html)
    _check_all_content(session, brand_id, topic, channels, default, _contents(data))
    _check_schedule(data, utcnow())
    _check_audience(session, brand_id, data)
    campaign = Campaign(
        brand_id=brand_id,
        topic_id=data.topic_id,
        channel=channels[0],
        channels=channels,
        channel_mode=data.channel_mode,
        created_by_id=member_id,
        state="draft",
    )
    _apply(campaign, data)
    session.add(campaign)
    session.flush()
    return campaign


def _check_audience(
    session: Session, brand_id: uuid.UUID, data: CampaignCreate | CampaignUpdate
) -> None:
    audience = data.audience
    if audience is None or audience.kind != "idea_voters" or audience.idea_id is None:
        return
    try:
        ideas.idea_for_brand(session, brand_id, audience.idea_id)
    except NotFound:
        raise InvalidInput("No such idea on your boards.", field="audience.idea_id") from None


def _apply(campaign: Campaign, data: CampaignCreate | CampaignUpdate) -> None:
    fields = data.model_fields_set
    if data.name is not None:
        campaign.name = data.name
    if data.subject is not None or isinstance(data, CampaignCreate):
        campaign.subject = data.subject or ""
    if data.text is not None:
        campaign.text_template = data.text
    if "html" in fields or isinstance(data, CampaignCreate):
        campaign.html_template = data.html
    if data.audience is not None:
        campaign.audience_kind = data.audience.kind
        campaign.audience = data.audience.model_dump(mode="json", exclude={"kind"})
    if data.schedule is not None:
        campaign.schedule_kind = data.schedule.kind
        campaign.send_at = data.schedule.at
        campaign.local_time = data.schedule.local_time
        campaign.local_date = data.schedule.local_date
    if "expires_at" in fields or isinstance(data, CampaignCreate):
        campaign.expires_at = data.expires_at
    if data.contents is not None or isinstance(data, CampaignCreate):
        campaign.contents = _contents(data)


def update_draft(session: Session, campaign: Campaign, data: CampaignUpdate) -> Campaign:
    if campaign.state != "draft":
        raise Conflict("Only a draft can be changed.", field="state")
    subject = data.subject or campaign.subject
    text = data.text or campaign.text_template
    html = data.html if "html" in data.model_fields_set else campaign.html_template
    contents = _contents(data) if data.contents is not None else dict(campaign.contents or {})
    topic = session.get_one(Topic, campaign.topic_id)
    _check_all_content(
        session, campaign.brand_id, topic, channels_of(campaign), (subject, text, html), contents
    )
    _check_schedule(data, utcnow())
    _check_audience(session, campaign.brand_id, data)
    _apply(campaign, data)
    session.flush()
    return campaign


def get(session: Session, brand_id: uuid.UUID, campaign_id: uuid.UUID) -> Campaign:
    campaign = session.scalars(_GET, {"id": campaign_id, "brand": brand_id}).one_or_none()
    if campaign is None:
        raise NotFound("No such campaign.")
    return campaign


# Built once (its SQLAlchemy cache key too): a campaign's pages read it on every view.
_GET = select(Campaign).where(
    Campaign.id == bindparam("id", type_=Uuid()),
    Campaign.brand_id == bindparam("brand", type_=Uuid()),
)


def listing(
    session: Session, brand_id: uuid.UUID, *, cursor: str | None = None, limit: int = 50
) -> tuple[Sequence[Campaign], str | None]:
    query = select(Campaign).where(Campaign.brand_id == brand_id)
    return paginate(
        session,
        query,
        created_at=Campaign.created_at,
        row_id=Campaign.id,
        cursor=cursor,
        limit=limit,
    )


def start_time(session: Session, campaign: Campaign) -> datetime:
    if campaign.schedule_kind == "at" and campaign.send_at is not None:
        return campaign.send_at
    if campaign.schedule_kind == "local":
        instants = local_instants(session, campaign)
        return min(instants.values()) if instants else utcnow()
    return campaign.send_at or utcnow()


def _sending(
    session: Session, campaign: Campaign, at: datetime, channel: str | None = None
) -> Sending:
    """A campaign's message as the gate sees it, sent at `at` (on `channel`, or its first)."""
    topic = session.get_one(Topic, campaign.topic_id)
    return Sending(
        campaign.brand_id,
        Purpose(topic.purpose),
        topic.id,
        Channel(channel or campaign.channel),
        at,
    )


def channels_of(campaign: Campaign) -> list[str]:
    return list(campaign.channels or [campaign.channel])


def _gate(session: Session, campaign: Campaign, at: datetime) -> Any:
    return gate_select(session, _sending(session, campaign, at), audience_of(campaign))


def _counted(session: Session, campaign: Campaign, at: datetime, channel: str | None = None) -> Any:
    """The audience by reason on `channel` (or the first), built once (`gate_prepared`)."""
    return gate_prepared.of_campaign(session, _sending(session, campaign, at, channel), campaign)


def preview(session: Session, campaign: Campaign, at: datetime | None = None) -> Preview:
    """The audience counted by reason, at the send time (or now, if that has passed)."""
    moment = max(at or start_time(session, campaign), utcnow())
    counts = _counted(session, campaign, moment)
    deferred_by = {reason.value: counts.pop(reason) for reason in DEFERRING if reason in counts}
    deferred = sum(deferred_by.values())
    eligible = counts.pop("eligible", 0)
    by_channel: dict[str, dict[str, int]] = {}
    channels = channels_of(campaign)
    if len(channels) > 1:
        for channel in channels:
            by_channel[channel] = _counted(session, campaign, moment, channel)
        if campaign.channel_mode == "preferred":
            chosen = multichannel.choose(session, campaign, moment, channels, _sending)
            sub = chosen.subquery()
            for channel, count in session.execute(
                select(sub.c.channel, func.count()).group_by(sub.c.channel)
            ):
                by_channel[channel]["chosen"] = count
    return Preview(
        at=moment,
        eligible=eligible,
        deferred=deferred,
        deferred_by=deferred_by,
        excluded=counts,
        total=eligible + deferred + sum(counts.values()),
        by_channel=by_channel,
    )


def send(session: Session, campaign: Campaign) -> Campaign:
    """Schedule the campaign. Asking again (double click, retried request) changes nothing."""
    if campaign.state != "draft":
        return campaign
    if campaign.channel == Channel.postal.value:
        raise Conflict(
            "A postal mailing is exported (POST …/postal-export), not sent.", field="channel"
        )
    topic = session.get_one(Topic, campaign.topic_id)
    brand = session.get_one(Brand, campaign.brand_id)
    if topic.purpose == "marketing" and campaign.channel == "email" and not brand.postal_address:
        raise Conflict(
            "Marketing e-mail needs the brand's postal address (Settings) for its footer.",
            field="postal_address",
        )
    if campaign.schedule_kind == "now":
        campaign.send_at = utcnow()
    elif campaign.schedule_kind == "local":
        campaign.send_at = start_time(session, campaign)
    campaign.state = "scheduled"
    session.flush()
    return campaign


def cancel(session: Session, campaign: Campaign) -> Campaign:
    """Stop everything not yet handed to a channel."""
    if campaign.state in ("done", "cancelled"):
        return campaign
    campaign.state = "cancelled"
    campaign.finished_at = utcnow()
    session.execute(
        update(OutboxMessage)
        .where(
            OutboxMessage.campaign_id == campaign.id,
            OutboxMessage.state.in_(("queued", "deferred", "paused")),
        )
        .values(state="cancelled", reason="cancelled")
    )
    session.flush()
    return campaign


def _insert(session: Session) -> Any:
    return pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert


def _inserted(session: Session, result: Any) -> int:
    """Rows an INSERT … SELECT wrote. Python's sqlite3 gives no rowcount for a statement that
    starts with WITH (a local-time campaign's zones): SQLite's changes() still knows."""
    count = rowcount(result)
    if count < 0 and session.get_bind().dialect.name == "sqlite":
        count = int(session.execute(text("SELECT changes()")).scalar_one())
    return count


def eligible_batches(
    session: Session,
    campaign: Campaign,
    at: datetime,
    *,
    batch: int = BATCH,
    size: int | None = None,
    channel: str | None = None,
) -> Iterator[Select[uuid.UUID]]:
    """The audience in batches of about `batch` people, each as the SELECT of those the gate
    lets through or defers to the end of their quiet hours: what `resolve` writes. A batch is a
    range of person ids (random UUIDs, so equal ranges hold about as many people), and reads
    only that range of every table it looks at. `size`: the audience's, if already counted."""
    if size is None:
        size = session.scalar(
            select(func.count()).select_from(audience_select(campaign).subquery())
        )
    slices = max(1, -(-(size or 0) // batch))
    bounds = [uuid.UUID(int=(i << 128) // slices) for i in range(1, slices)]
    sending, audience = _sending(session, campaign, at, channel), audience_of(campaign)
    for after, upto in zip([None, *bounds], [*bounds, None], strict=True):
        yield eligible_select(session, sending, audience, deferred=True, people=(after, upto))


def resolve(session: Session, campaign: Campaign, at: datetime, *, batch: int = BATCH) -> int:
    """Write the audience into the outbox: one INSERT … SELECT of the gate's eligible people per
    batch (`eligible_batches`), per channel of the campaign (`all`), or of each person's chosen
    channel (several channels, `preferred`: `multichannel.choose`). Re-running it after a crash
    adds nothing twice."""
    campaign.audience_counts = reason_counts(session, _gate(session, campaign, at))
    size = sum(campaign.audience_counts.values())
    channels = channels_of(campaign)
    written = 0
    if len(channels) > 1 and campaign.channel_mode == "preferred":
        chosen = multichannel.choose(session, campaign, at, channels, _sending).subquery("chosen")
        written += _write(session, campaign, at, chosen.c.person_id, chosen.c.channel, chosen)
    else:
        for channel in channels:
            for eligible in eligible_batches(
                session, campaign, at, batch=batch, size=size, channel=channel
            ):
                gate = eligible.subquery("gate")
                written += _write(session, campaign, at, gate.c.person_id, channel, gate)
    campaign.state = "sending"
    campaign.started_at = utcnow()
    session.flush()
    return written


def _write(
    session: Session,
    campaign: Campaign,
    at: datetime,
    person: Any,
    channel: Any,
    source_from: Any,
) -> int:
    """One INSERT … SELECT into the outbox of the people `person` (a column of `source_from`),
    each on `channel` (a name, or a column: the chosen one). The idempotency key names the
    channel when every channel goes (`all`), else `preferred`: whichever channel is chosen when
    resolve runs again, a person gets one message."""
    topic = session.get_one(Topic, campaign.topic_id)
    key_prefix = f"c:{campaign.id.hex}:"
    not_before: Any = literal(at, UTCDateTime())
    zones = None
    if campaign.schedule_kind == "local":
        instants = local_instants(session, campaign)
        zones = (
            values(column("zone", String()), column("instant", UTCDateTime()), name="zone_starts")
            .data(list(instants.items()) or [("UTC", at)])
            .cte("zone_starts")
        )
    named = isinstance(channel, str)
    channel_column = literal(channel) if named else channel
    key_suffix = literal(":" + channel) if named else literal(":preferred")
    source = select(
        literal(campaign.brand_id).label("brand_id"),
        literal(campaign.id).label("campaign_id"),
        person,
        literal(topic.id).label("topic_id"),
        channel_column.label("channel"),
        literal(topic.purpose).label("purpose"),
        (literal(key_prefix) + cast(person, String) + key_suffix).label("key"),
        literal("queued").label("state"),
        (zones.c.instant if zones is not None else not_before).label("not_before"),
        literal(campaign.expires_at, UTCDateTime()).label("expires_at"),
        literal(0, Integer()).label("attempts"),
        literal(utcnow(), UTCDateTime()).label("created_at"),
    ).select_from(source_from)
    # SQLite parses `… FROM a JOIN b ON x ON CONFLICT` only with a WHERE before the ON CONFLICT.
    source = source.where(true())
    if zones is not None:
        source = source.join(Person, Person.id == person).join(
            zones, zones.c.zone == Person.time_zone
        )
    columns = [
        "brand_id",
        "campaign_id",
        "person_id",
        "topic_id",
        "channel",
        "purpose",
        "idempotency_key",
        "state",
        "not_before",
        "expires_at",
        "attempts",
        "created_at",
    ]
    statement = (
        _insert(session)(OutboxMessage)
        .from_select(columns, source)
        .on_conflict_do_nothing()
        # SQLAlchemy keeps the row count of UPDATE and DELETE only, unless asked.
        .execution_options(preserve_rowcount=True)
    )
    return _inserted(session, session.execute(statement))


def due(session: Session, now: datetime) -> list[uuid.UUID]:
    return list(
        session.scalars(
            select(Campaign.id).where(Campaign.state == "scheduled", Campaign.send_at <= now)
        )
    )


def claim_and_resolve(session: Session, campaign_id: uuid.UUID, now: datetime) -> int | None:
    """Only one worker resolves a campaign: the UPDATE that moves it on decides who."""
    moved = rowcount(
        session.execute(
            update(Campaign)
            .where(Campaign.id == campaign_id, Campaign.state == "scheduled")
            .values(state="resolving")
        )
    )
    if not moved:
        return None
    campaign = session.get_one(Campaign, campaign_id)
    session.refresh(campaign)
    return resolve(session, campaign, max(now, campaign.send_at or now))


def finish_done(session: Session) -> int:
    """Campaigns with nothing left to send are done."""
    open_rows = select(OutboxMessage.id).where(
        OutboxMessage.campaign_id == Campaign.id, OutboxMessage.state.in_(OPEN_STATES)
    )
    return rowcount(
        session.execute(
            update(Campaign)
            .where(Campaign.state == "sending", ~open_rows.exists())
            .values(state="done", finished_at=utcnow())
        )
    )
