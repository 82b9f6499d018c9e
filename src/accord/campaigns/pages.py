"""The brand console's Campaigns: list and create, one campaign (content and audience preview
by reason, edit a draft, send once, cancel, test send to me) and its report."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from email.utils import formataddr
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from sqlalchemy.orm import Session

from accord.brands import service as brands
from accord.brands.deps import BrandDep
from accord.campaigns import (
    audience,
    content,
    dashboard,
    page_forms,
    report,
    saved_segments,
    segment_pages,
    service,
    sms_text,
    templating,
)
from accord.campaigns import console_view as view
from accord.campaigns.footer import footer_text
from accord.campaigns.models import Campaign
from accord.campaigns.schemas import CampaignCreate, CampaignUpdate, SmsCountIn
from accord.core.errors import InvalidInput, NotFound
from accord.core.permissions import Permission, role_allows
from accord.core.principals import BrandCaller
from accord.core.text import problem as text_problem
from accord.core.web.csrf import csrf_protect
from accord.core.web.deps import SessionDep, SettingsDep
from accord.core.web.forms import handle_form, parse_form, read_form, show_form
from accord.core.web.templates import flash, render
from accord.mail.service import Email, compose
from accord.relationships import service as relationships
from accord.relationships.models import Topic

router = APIRouter(
    prefix="/console/campaigns",
    tags=["console"],
    include_in_schema=False,
    dependencies=[Depends(csrf_protect)],
)
# First, so that /console/campaigns/segments is matched before `/{campaign_id}`.
router.include_router(segment_pages.router)

LIST = "campaigns/list.html"
NEW = "campaigns/new.html"
CONFIRM = "campaigns/confirm.html"
DETAIL = "campaigns/campaign.html"
REPORT = "campaigns/report.html"
PAGE_SIZE = 50
MAX_SEGMENT_NAME = 120
SMS_COUNT = "/console/campaigns/sms-count"
EDIT_FIELDS = [name for name in page_forms.FIELDS if name != "topic_id"]
MERGE_FIELDS = [
    "{{ " + f"{obj}.{attr}" + " }}"
    for obj, attrs in templating.ALLOWED.items()
    for attr in sorted(attrs)
]
FIELDS_HINT = "Fields you may use: " + ", ".join(
    "{{ " + f"{obj}.{attr}" + " }}"
    for obj, attrs in templating.ALLOWED.items()
    for attr in sorted(attrs)
)


def _redirect(path: str) -> RedirectResponse:
    return RedirectResponse(path, status_code=303)


def _base(session: Session, caller: BrandCaller) -> dict[str, Any]:
    return {
        # Read with the member's sign-in (the brand's row as a tuple), else read now.
        "brand": brands.caller_brand(session, caller),
        "can_write": role_allows(caller.role, Permission.write_campaigns),
        "can_send": role_allows(caller.role, Permission.send_campaigns),
        "audience_kinds": page_forms.AUDIENCE_KINDS,
        "channels": page_forms.CHANNELS,
        "channel_modes": page_forms.CHANNEL_MODES,
        "formats": content.FORMATS,
        "merge_fields": MERGE_FIELDS,
        "segment_options": page_forms.SEGMENT_OPTIONS,
        "saved_options": [("", "Choose a saved segment")]
        + [(str(i), name) for i, name in saved_segments.names(session, caller.brand_id)],
        "schedule_kinds": page_forms.SCHEDULE_KINDS,
        "fields_hint": FIELDS_HINT,
        "state_text": view.STATE_TEXT,
        "state_tone": view.STATE_TONE,
        "sms_count_url": SMS_COUNT,
    }


def _topics(session: Session, brand_id: uuid.UUID) -> dict[uuid.UUID, Topic]:
    return {t.id: t for t in relationships.brand_topics(session, brand_id)}


def _composer_context(session: Session, caller: BrandCaller) -> dict[str, Any]:
    """What the composer shows: the form's choices (the topics a campaign can be about, by
    name; the saved segments)."""
    topics = dashboard.message_topics(session, caller.brand_id)
    options = [(str(t.id), f"{t.name} ({t.purpose})") for t in topics]
    return {**_base(session, caller), "topic_options": [("", "Choose a topic"), *options]}


def _list_context(
    session: Session, caller: BrandCaller, cursor: str | None = None
) -> dict[str, Any]:
    brand_id = caller.brand_id
    rows, next_cursor = (
        service.listing(session, brand_id, cursor=cursor, limit=PAGE_SIZE)
        if cursor
        else view.first_page(session, brand_id, PAGE_SIZE)
    )
    topics = _topics(session, caller.brand_id)  # read once a request (relationships' memo)
    sent = view.sent_counts(session, [c.id for c in rows])
    return {
        **_base(session, caller),
        "campaigns": [
            {
                "campaign": c,
                "topic": topics[c.topic_id].name if c.topic_id in topics else "",
                "schedule": view.schedule_text(c),
                "sent": sent.get(c.id, 0),
            }
            for c in rows
        ],
        "next_cursor": next_cursor,
    }


@router.get("", response_class=HTMLResponse)
def campaign_list(
    request: Request, caller: BrandDep, session: SessionDep, cursor: str | None = None
) -> HTMLResponse:
    caller.require(Permission.read_brand)
    return render(request, LIST, _list_context(session, caller, cursor))


def _with_saved(
    session: Session, caller: BrandCaller, parse: Callable[[dict[str, str]], Any]
) -> Callable[[dict[str, str]], Any]:
    """`parse`, with a saved segment picked (its audience read as if typed) and "save this
    audience as" checked; errors sit beside those fields."""

    def with_saved(values: dict[str, str]) -> Any:
        typed = dict(values)
        errors: dict[str, str] = {}
        if typed.get("audience_kind") == "saved":
            found = saved_segments.get(session, caller.brand_id, typed.get("audience_saved", ""))
            if found is None:
                errors["audience_saved"] = "Choose one of your saved segments from the list."
            else:
                typed.update(saved_segments.as_form_values(found))
        name = typed.get("save_segment_as", "").strip()
        if name:
            if typed.get("audience_kind") not in saved_segments.SAVABLE:
                errors["save_segment_as"] = (
                    "Only a filter or an RFM segment can be saved: choose one of them above."
                )
            elif len(name) > MAX_SEGMENT_NAME:
                errors["save_segment_as"] = f"Use {MAX_SEGMENT_NAME} characters or fewer."
            elif (wrong := text_problem(name, one_line=True)) is not None:
                errors["save_segment_as"] = wrong
        parsed = parse(typed)
        if errors:
            return {**(parsed if isinstance(parsed, dict) else {}), **errors}
        return parsed

    return with_saved


def _save_segment(session: Session, caller: BrandCaller, name: str, audience: Any) -> None:
    if name.strip() and audience is not None:
        saved_segments.save(
            session, caller.brand_id, name.strip(), audience.model_dump(exclude_none=True)
        )


def _lookup(session: Session, caller: BrandCaller) -> page_forms.PeopleLookup:
    return lambda addresses: audience.people_by_email(session, caller.brand_id, addresses)


@router.get("/new", response_class=HTMLResponse)
def new(request: Request, caller: BrandDep, session: SessionDep) -> HTMLResponse:
    """The composer: a campaign on its own page, saved as a draft to preview and send."""
    caller.require(Permission.write_campaigns)
    context = _composer_context(session, caller)
    return show_form(request, NEW, page_forms.blank_values(), model=CampaignCreate, **context)


@router.post("", response_class=HTMLResponse)
async def create(request: Request, caller: BrandDep, session: SessionDep) -> Response:
    caller.require(Permission.write_campaigns)

    typed = await read_form(request, page_forms.FIELDS)

    def act(data: CampaignCreate) -> Response:
        _save_segment(session, caller, typed["save_segment_as"], data.audience)
        campaign = service.create(session, caller.brand_id, data, member_id=caller.member_id)
        flash(request, f"The campaign '{campaign.name}' is saved as a draft.", "success")
        return _redirect(f"/console/campaigns/{campaign.id}")

    lookup = _lookup(session, caller)
    return await handle_form(
        request,
        session,
        _with_saved(session, caller, lambda values: page_forms.to_create(values, lookup)),
        act,
        template=NEW,
        values=typed,
        context=lambda: _composer_context(session, caller),
        field_of=page_forms.FORM_FIELD,
        model=CampaignCreate,
    )


@router.post("/sms-count")
async def sms_count(request: Request, caller: BrandDep, session: SessionDep) -> JSONResponse:
    """The composer's live segment count (its script asks as the text is typed): the text as
    it would go to the sample person, with what the channel adds. Without the script, the
    draft's page shows the same count once it is saved."""
    caller.require(Permission.write_campaigns)
    values: dict[str, str | None] = {**await read_form(request, ["text", "topic_id"])}
    values["topic_id"] = values["topic_id"] or None  # "Choose a topic" is still chosen
    typed = parse_form(SmsCountIn, values)
    if isinstance(typed, dict):
        field, message = next(iter(typed.items()))
        raise InvalidInput(message, field=field)
    topic = None
    if typed.topic_id is not None:
        topic = _topics(session, caller.brand_id).get(typed.topic_id)
        if topic is None:
            raise NotFound("The brand has no such topic.", field="topic_id")
    measured = sms_text.measure(session, caller.brand_id, topic, typed.text)
    counted = measured.count
    return JSONResponse(
        {
            "summary": sms_text.summary(counted),
            "segments": counted.segments,
            "encoding": counted.encoding,
            "max_segments": sms_text.MAX_SEGMENTS,
            "too_long": counted.too_long,
            "body": measured.body,
        }
    )


def _sms_of(session: Session, campaign: Campaign, topic: Topic) -> dict[str, Any]:
    """A campaign with a text among its channels: the text as sent, counted (the server-side
    count the composer shows without its script)."""
    if "sms" not in service.channels_of(campaign):
        return {"sms": None, "sms_summary": ""}
    own = (campaign.contents or {}).get("sms")
    template = str(own["text"]) if own else campaign.text_template
    measured = sms_text.measure(session, campaign.brand_id, topic, template)
    return {"sms": measured, "sms_summary": sms_text.summary(measured.count)}


def _detail_context(
    session: Session, caller: BrandCaller, campaign: Campaign, *, preview_as: str = ""
) -> dict[str, Any]:
    base = _base(session, caller)
    topic = session.get_one(Topic, campaign.topic_id)
    shown_as, name, locale, as_error = view.SAMPLE_NAME, view.SAMPLE_NAME, view.SAMPLE_LOCALE, ""
    if preview_as.strip() and role_allows(caller.role, Permission.read_people):
        person = audience.related_person(session, caller.brand_id, preview_as)
        if person is None:
            as_error = "No one related to the brand has this address."
        else:
            shown_as = f"{person.display_name or person.email} ({person.email})"
            name, locale = person.display_name or person.email.split("@")[0], person.locale
    context = templating.context_for(
        display_name=name, locale=locale, brand=base["brand"], topic_name=topic.name
    )
    preview = None
    counts = dict(campaign.audience_counts or {})
    if campaign.state in ("draft", "scheduled"):
        preview = service.preview(session, campaign)
        counts = view.preview_counts(preview)
    return {
        **base,
        "campaign": campaign,
        "topic": topic,
        "schedule": view.schedule_text(campaign),
        "content": view.render_content(campaign, context),
        "sample_name": shown_as,
        "preview_as": preview_as,
        "preview_as_error": as_error,
        "can_preview_as": role_allows(caller.role, Permission.read_people),
        "preview": preview,
        "counts": counts,
        "reasons": view.reason_rows(counts),
        **_sms_of(session, campaign, topic),
        # For "Test send to me", which only a member who may write is offered.
        "member_email": _member_email(session, caller) if base["can_write"] else None,
    }


def _member_email(session: Session, caller: BrandCaller) -> str | None:
    if caller.member_id is None or caller.member_email is not None:
        return caller.member_email  # read with the sign-in
    return brands.member_email(session, caller.brand_id, caller.member_id)


@router.get("/{campaign_id}", response_class=HTMLResponse)
def detail(
    campaign_id: uuid.UUID,
    request: Request,
    caller: BrandDep,
    session: SessionDep,
    preview_as: Annotated[str, Query(alias="as", max_length=320)] = "",
) -> HTMLResponse:
    caller.require(Permission.read_brand)
    campaign = service.get(session, caller.brand_id, campaign_id)
    context = _detail_context(session, caller, campaign, preview_as=preview_as)
    return show_form(request, DETAIL, _values(session, campaign), model=CampaignUpdate, **context)


def _values(session: Session, campaign: Campaign) -> dict[str, str]:
    listed = [str(p) for p in (campaign.audience or {}).get("people", [])]
    return page_forms.values_of(campaign, audience.emails_of(session, campaign.brand_id, listed))


@router.post("/{campaign_id}", response_class=HTMLResponse)
async def save(
    campaign_id: uuid.UUID, request: Request, caller: BrandDep, session: SessionDep
) -> Response:
    """Change a draft; the whole form is sent, so an empty HTML field removes the HTML part."""
    caller.require(Permission.write_campaigns)
    campaign = service.get(session, caller.brand_id, campaign_id)
    values = await read_form(request, EDIT_FIELDS)
    values["topic_id"] = str(campaign.topic_id)
    # A text alone needs no subject: the form says which channel the draft is for.
    values["channel"] = "sms" if service.channels_of(campaign) == ["sms"] else ""

    def act(data: CampaignUpdate) -> Response:
        _save_segment(session, caller, values["save_segment_as"], data.audience)
        service.update_draft(session, campaign, data)
        flash(request, "The draft is saved.", "success")
        return _redirect(f"/console/campaigns/{campaign.id}")

    lookup = _lookup(session, caller)
    return await handle_form(
        request,
        session,
        _with_saved(session, caller, lambda typed: page_forms.to_update(typed, lookup)),
        act,
        template=DETAIL,
        values=values,
        context=lambda: _detail_context(session, caller, campaign),
        field_of=page_forms.FORM_FIELD,
        model=CampaignUpdate,
    )


def _confirm(
    request: Request, session: Session, caller: BrandCaller, campaign: Campaign, action: str
) -> HTMLResponse:
    """The question before a send or a cancel, with what it will do; the answer is a POST."""
    context = {**_detail_context(session, caller, campaign), "action": action}
    return render(request, CONFIRM, context)


@router.post("/{campaign_id}/send", response_class=HTMLResponse)
async def send(
    campaign_id: uuid.UUID, request: Request, caller: BrandDep, session: SessionDep
) -> Response:
    """Send (or schedule) once, after a confirmation that says to how many people and when:
    a second press, or a retried request, changes nothing."""
    caller.require(Permission.send_campaigns)
    campaign = service.get(session, caller.brand_id, campaign_id)
    if campaign.state != "draft":
        flash(request, f"This campaign is already {view.STATE_TEXT.get(campaign.state, '')}.")
        return _redirect(f"/console/campaigns/{campaign.id}")
    if (await read_form(request, ["confirm"]))["confirm"] != "yes":
        return _confirm(request, session, caller, campaign, "send")

    def act(_: Campaign) -> Response:
        service.send(session, campaign)
        when = view.schedule_text(campaign)
        flash(request, f"The campaign is scheduled: it goes out {when}.", "success")
        return _redirect(f"/console/campaigns/{campaign.id}")

    return await handle_form(
        request,
        session,
        lambda _: campaign,
        act,
        template=DETAIL,
        values={},
        context=lambda: {
            **_detail_context(session, caller, campaign),
            "values": _values(session, campaign),
        },
        fallback_field="send",
        model=CampaignUpdate,
    )


@router.post("/{campaign_id}/cancel", response_class=HTMLResponse)
async def cancel(
    campaign_id: uuid.UUID, request: Request, caller: BrandDep, session: SessionDep
) -> Response:
    caller.require(Permission.send_campaigns)
    campaign = service.get(session, caller.brand_id, campaign_id)
    if (await read_form(request, ["confirm"]))["confirm"] != "yes":
        return _confirm(request, session, caller, campaign, "cancel")
    campaign = service.cancel(session, campaign)
    flash(request, f"The campaign is {view.STATE_TEXT[campaign.state]}: nothing more goes out.")
    return _redirect(f"/console/campaigns/{campaign.id}")


@router.post("/{campaign_id}/test")
def test_send(
    campaign_id: uuid.UUID,
    request: Request,
    caller: BrandDep,
    session: SessionDep,
    settings: SettingsDep,
) -> Response:
    """Mail the message, as the sample person would get it, to the signed-in member only. It
    goes through no outbox and no gate, and counts in no report."""
    caller.require(Permission.write_campaigns)
    if caller.member_id is None:
        raise InvalidInput("Only a signed-in member can get a test message.", field="member_id")
    campaign = service.get(session, caller.brand_id, campaign_id)
    member = brands.get_member(session, caller.brand_id, caller.member_id)
    brand = brands.get_brand(session, caller.brand_id)
    topic = session.get_one(Topic, campaign.topic_id)
    content = view.render_content(campaign, view.sample_context(brand, topic.name))
    if content.error:
        flash(request, content.error, "error")
        return _redirect(f"/console/campaigns/{campaign.id}")
    footer = footer_text(brand, topic.name, None)
    note = "\n(A test message: the real one carries the person's unsubscribe link.)"
    email = Email(
        to=member.email,
        subject="[Test] " + " ".join(content.subject.split()),  # one header line
        text=content.text + "\n" + footer + note,
        html=content.html,
        sender=formataddr((brand.sender_name, brand.sender_email)),
    )
    request.app.state.mailer.send(session, compose(settings, email))
    flash(request, f"A test message is on its way to {member.email}.", "success")
    return _redirect(f"/console/campaigns/{campaign.id}")


@router.get("/{campaign_id}/report", response_class=HTMLResponse)
def campaign_report(
    campaign_id: uuid.UUID, request: Request, caller: BrandDep, session: SessionDep
) -> HTMLResponse:
    caller.require(Permission.read_brand)
    campaign = service.get(session, caller.brand_id, campaign_id)
    built = report.build(session, campaign)
    context = {
        **_base(session, caller),
        "campaign": campaign,
        "topic": session.get_one(Topic, campaign.topic_id),
        "schedule": view.schedule_text(campaign),
        "report": built,
        "audience_total": sum(built.audience.values()),
        "audience_chart": view.audience_chart(built.audience),
        "outcome_chart": view.outcome_chart(built),
        "reasons": view.reason_rows(built.audience),
        "skipped": view.reason_rows(built.skipped_by_reason, codes=()),
        "outcomes": view.OUTCOMES,
        "event_text": view.EVENT_TEXT,
        "rates": view.rate_rows(built),
        "untracked": report.untracked(session, campaign),
    }
    return render(request, REPORT, context)
