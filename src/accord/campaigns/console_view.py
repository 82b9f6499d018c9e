"""What the console's campaign pages show, in plain words: reasons, states, schedules, the
content rendered for a sample person, the audience preview and the report with its charts."""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import cache
from typing import Any

from sqlalchemy import Select, Uuid, bindparam, func, select
from sqlalchemy.orm import Session

from accord.campaigns import templating
from accord.campaigns.charts import Chart, bar_chart
from accord.campaigns.gate_rules import DEFERRING, REASONS
from accord.campaigns.models import Campaign
from accord.campaigns.report import HANDED, Report
from accord.campaigns.schemas import Preview
from accord.core.pagination import cut_page
from accord.outbox.models import OutboxMessage

SAMPLE_NAME = "Ada Lovelace"
SAMPLE_LOCALE = "en"

# Every reason code the gate (and the worker) gives, in plain words.
REASON_TEXT = {
    "no_relationship": "Has no relationship with the brand, or has not accepted its invitation.",
    "paused": "Paused the relationship (or every brand) for now.",
    "ended": "Ended the relationship.",
    "no_marketing_consent": "Has not allowed marketing from the brand; marketing is opt-in only.",
    "channel_not_chosen": "Has not chosen this channel for messages of this purpose.",
    "topic_not_chosen": "Has not chosen this campaign's topic.",
    "global_opt_out": "Asked not to be contacted for marketing by any brand.",
    "no_contact_point": "Has no address on this channel.",
    "unverified": "Has not confirmed an address on this channel yet.",
    "suppressed": "Every address on this channel is suppressed (hard bounces or a complaint).",
    "brand_cap": "Already got as many marketing messages from the brand this week as allowed.",
    "global_cap": "Already got as many marketing messages from all brands this week as allowed.",
    "legal_frequency": "The law where the person lives limits how many such messages they may "
    "get in a day (e.g. Florida: 3 texts a topic in 24 hours), and that many went already.",
    "legal_window": "Outside the hours the law where the person lives allows (e.g. texts "
    "08:00-21:00, Florida 08:00-20:00): deferred until they open, not dropped.",
    "quiet_hours": "Inside the person's quiet hours: deferred until they end, not dropped.",
    "terms": "The terms the person agreed with the brand forbid this message.",
    "expired": "The campaign expired before the message could go.",
    "cancelled": "The campaign was cancelled before the message went.",
    "erased": "The person erased their data before the message went.",
}
STATE_TEXT = {
    "draft": "draft",
    "scheduled": "scheduled",
    "resolving": "resolving the audience",
    "sending": "sending",
    "done": "done",
    "cancelled": "cancelled",
}
STATE_TONE = {"draft": "", "scheduled": "warn", "sending": "warn", "done": "ok"}
EXCLUDED = [r for r in REASONS if r not in DEFERRING]
NOT_REASONS = frozenset({"eligible", *DEFERRING})
DEFERRED_TEXT = {"legal_window": "Deferred (legal hours)", "quiet_hours": "Deferred (quiet hours)"}
OUTCOMES = [
    ("sent", "Sent", "good"),
    ("delivered", "Delivered (receipt)", "good"),
    ("undelivered", "Not delivered (receipt)", "bad"),
    ("queued", "Queued", "wait"),
    ("deferred", "Deferred (legal or quiet hours)", "wait"),
    ("skipped", "Skipped at sending", "out"),
    ("failed", "Failed", "bad"),
    ("dead", "Given up after every attempt", "bad"),
    ("cancelled", "Cancelled", "out"),
]
EVENT_TEXT = {
    "bounced": "Bounced",
    "complained": "Complained (marked as spam)",
    "unsubscribed": "Unsubscribed",
    "opted_out": "Opted out of marketing",
    "replied": "Replied",
    "opened": "Opened (people who allow tracking)",
    "clicked": "Clicked (people who allow tracking)",
}


@dataclass(frozen=True)
class ReasonRow:
    code: str
    count: int
    text: str


def reason_rows(counts: dict[str, int], codes: Iterable[str] = EXCLUDED) -> list[ReasonRow]:
    """Every code in gate order (zeros too, so marketers learn them), then any other code."""
    ordered = list(codes)
    extra = sorted(code for code in counts if code not in ordered and code not in NOT_REASONS)
    return [
        ReasonRow(code, counts.get(code, 0), REASON_TEXT.get(code, "Another reason."))
        for code in [*ordered, *extra]
    ]


def schedule_text(campaign: Campaign) -> str:
    if campaign.schedule_kind == "local":
        return f"{campaign.local_time} on {campaign.local_date}, in each person's own time zone"
    if campaign.schedule_kind == "at" and campaign.send_at is not None:
        return f"at {campaign.send_at:%Y-%m-%d %H:%M} UTC"
    if campaign.send_at is not None:
        return f"sent at {campaign.send_at:%Y-%m-%d %H:%M} UTC"
    return "as soon as it is sent"


def sent_counts(session: Session, campaign_ids: list[uuid.UUID]) -> dict[uuid.UUID, int]:
    if not campaign_ids:
        return {}
    rows = session.execute(_SENT, {"campaigns": campaign_ids}).all()
    return {campaign_id: count for campaign_id, count in rows if campaign_id is not None}


# The list's statements, built once (their SQLAlchemy cache keys too): the campaigns page reads
# them on every view, and building them cost more than running them.
_SENT = (
    select(OutboxMessage.campaign_id, func.count())
    .where(
        OutboxMessage.campaign_id.in_(bindparam("campaigns", type_=Uuid(), expanding=True)),
        OutboxMessage.state == "sent",
    )
    .group_by(OutboxMessage.campaign_id)
)


def first_page(
    session: Session, brand_id: uuid.UUID, limit: int
) -> tuple[Sequence[Campaign], str | None]:
    """`service.listing`'s first page (no cursor), from a statement built once."""
    rows = session.scalars(_first_page(limit), {"brand": brand_id}).all()
    return cut_page(rows, limit, lambda last: (last.created_at, last.id))


@cache
def _first_page(limit: int) -> Select[Any]:
    return (
        select(Campaign)
        .where(Campaign.brand_id == bindparam("brand", type_=Uuid()))
        .order_by(Campaign.created_at.desc(), Campaign.id.desc())
        .limit(limit + 1)
    )


def sample_context(brand: Any, topic_name: str, display_name: str = SAMPLE_NAME) -> dict[str, Any]:
    return templating.context_for(
        display_name=display_name, locale=SAMPLE_LOCALE, brand=brand, topic_name=topic_name
    )


@dataclass(frozen=True)
class Content:
    subject: str
    text: str
    html: str | None
    error: str | None = None
    # A channel's own content, rendered: (channel, title or "", text), in the campaign's order.
    own: tuple[tuple[str, str, str], ...] = ()


def render_content(campaign: Campaign, context: dict[str, Any]) -> Content:
    """The message as the sample person would get it (without the footer the channel adds)."""
    contents = campaign.contents or {}
    try:
        own = tuple(
            (
                channel,
                ""
                if channel == "sms"
                else templating.render(
                    contents[channel].get("subject") or campaign.subject, context
                ),
                templating.render(str(contents[channel].get("text") or ""), context),
            )
            for channel in (campaign.channels or [campaign.channel])
            if channel in contents
        )
        return Content(
            subject=templating.render(campaign.subject, context),
            text=templating.render(campaign.text_template, context),
            html=templating.render(campaign.html_template, context, html=True)
            if campaign.html_template
            else None,
            own=own,
        )
    except Exception as exc:  # a brand's template must never break the console page
        return Content("", "", None, error=f"The template cannot be rendered: {exc}")


def audience_chart(counts: dict[str, int], chart_id: str = "audience") -> Chart:
    rows = [("Eligible", counts.get("eligible", 0), "good")]
    for reason, label in DEFERRED_TEXT.items():
        if counts.get(reason):
            rows.append((label, counts[reason], "wait"))
    rows += [(row.code, row.count, "out") for row in reason_rows(counts) if row.count]
    return bar_chart(chart_id, "Audience by reason", rows)


def outcome_chart(report: Report, chart_id: str = "outcomes") -> Chart:
    rows = [(label, report.states.get(state, 0), tone) for state, label, tone in OUTCOMES]
    rows += [(EVENT_TEXT[kind], count, "bad") for kind, count in report.events.items()]
    return bar_chart(chart_id, "Outcomes", rows)


def preview_counts(preview: Preview) -> dict[str, int]:
    """A preview in the shape of a resolved campaign's audience counts."""
    return {"eligible": preview.eligible, **preview.deferred_by, **preview.excluded}


def percent(rate: float) -> str:
    return f"{rate * 100:.1f} %"


def rate_rows(report: Report) -> list[tuple[str, str, str]]:
    """(what, rate, how it is counted) for the report's rates table."""
    sent = sum(report.states.get(state, 0) for state in HANDED)
    audience = sum(report.audience.values())
    rows = [
        (
            "Reached",
            percent(sent / audience if audience else 0.0),
            f"{sent} sent of {audience} in the audience",
        )
    ]
    for kind, text in EVENT_TEXT.items():
        count = report.events.get(kind, 0)
        rows.append((text, percent(report.rates.get(f"{kind}_rate", 0.0)), f"{count} of {sent}"))
    return rows
