"""The person's portal: the brand directory, all relationships, and one relationship's page."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import datetime
from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.orm import Session

from accord.brands import service as brands
from accord.core.web.csrf import csrf_protect
from accord.core.web.deps import SessionDep
from accord.core.web.forms import handle_form, read_form
from accord.core.web.panels import panels_for
from accord.core.web.templates import flash, render
from accord.people import service as people
from accord.people.deps import PersonDep
from accord.relationships import listing, service
from accord.relationships import relationship_view as view
from accord.relationships.page_forms import (
    CHANNEL_PURPOSES,
    CHANNEL_TEXT,
    CONTACT_CHANNEL,
    PERSON_CHANNELS,
    SHOWN_ON,
    PreferencesForm,
    box_keys,
    boxes_on,
    change_from,
    format_facts,
    local_input,
    local_text,
    parse_local,
)
from accord.relationships.preference_matrix import groups, summary, switches
from accord.relationships.replay import effective_state
from accord.relationships.service import PORTAL
from accord.relationships.vocabulary import GRANTABLE, PURPOSE_TEXT, Channel, Purpose, State

router = APIRouter(
    tags=["portal pages"], include_in_schema=False, dependencies=[Depends(csrf_protect)]
)

STATE_TEXT = {
    State.invited.value: "invited: waiting for you to accept",
    State.active.value: "active",
    State.paused.value: "paused",
    State.ended.value: "ended",
}
# Service errors about a field the form calls by another name.
FIELD_OF = {"topic": "topics", "purpose": "purposes", "until": "until", "brand_cap": "brand_cap"}
PAGE = "relationships/relationship.html"


def _page(path: str) -> RedirectResponse:
    return RedirectResponse(path, status_code=303)


@router.get("/brands", response_class=HTMLResponse)
def directory(request: Request, person: PersonDep, session: SessionDep) -> HTMLResponse:
    mine = {rel.id: rel for rel, _ in listing.related(session, person.person_id)}
    rows = []
    for brand in service.directory(session):
        rel = mine.get(brand.id)
        rows.append({"brand": brand, "state": effective_state(rel) if rel else None})
    return render(request, "relationships/brands.html", {"rows": rows, "state_text": STATE_TEXT})


@router.post("/brands/{brand_id}/follow")
def follow(
    brand_id: uuid.UUID, request: Request, person: PersonDep, session: SessionDep
) -> Response:
    brand = brands.get_brand(session, brand_id)
    service.start(session, person.person_id, brand.id, PORTAL)
    flash(
        request,
        f"You follow {brand.name}. Nothing is sent to you for marketing until you turn it on.",
        "success",
    )
    return _page(f"/relationships/{brand.id}")


@router.get("/relationships", response_class=HTMLResponse)
def relationships(request: Request, person: PersonDep, session: SessionDep) -> HTMLResponse:
    zone, locale = listing.zone_and_locale(session, person.person_id)
    rows = []
    # Each relationship's row is its brand's too (`listing.related`: `id`, `name`).
    listed = listing.related(session, person.person_id)
    by_brand, marketing = listing.topic_names(
        session,
        person.person_id,
        [rel.id for rel, _ in listed],
        [t for _, c in listed for t in c.topics],
    )
    for rel, chosen in listed:
        names = by_brand[rel.id]
        rows.append(
            {
                "brand": rel,
                "state": effective_state(rel),
                "summary": summary(
                    rel.name,
                    effective_state(rel),
                    chosen.purposes,
                    chosen.channels,
                    [marketing[t] for t in chosen.topics if t in marketing],
                    rel.brand_cap,
                ),
                "until": local_text(rel.paused_until, zone, locale),
                "purposes": [p for p, status in chosen.purposes.items() if status == "granted"],
                "pending": [p for p, status in chosen.purposes.items() if status == "pending"],
                "channels": {
                    p: [CHANNEL_TEXT.get(c, c) for c in cs] for p, cs in chosen.channels.items()
                },
                "topics": [names[t] for t in chosen.topics if t in names],
                "cap": rel.brand_cap,
            }
        )
    return render(
        request, "relationships/relationships.html", {"rows": rows, "state_text": STATE_TEXT}
    )


def _context(
    session: Session,
    person_id: uuid.UUID,
    brand_id: uuid.UUID,
    *,
    values: dict[str, str] | None = None,
    checked: set[str] | None = None,
) -> dict[str, Any]:
    """Everything the relationship page shows; `values`/`checked` override what is stored.
    Read as the columns shown (`relationship_view`): the relationship as `rel`, the brand's
    `id` and `name` as `brand` (the same row)."""
    rel = view.head(session, person_id, brand_id)
    chosen = service.choices(session, person_id, brand_id)
    topics = [
        t for t in view.topics(session, brand_id) if t.retired_at is None or t.id in chosen.topics
    ]
    stored_on = boxes_on(chosen.purposes, chosen.channels, chosen.topics)
    state = effective_state(rel)
    reachable = view.reachable(session, person_id)
    order = view.channel_order(session, person_id, brand_id)
    pending = {p for p, status in chosen.purposes.items() if status == "pending"}
    shown = stored_on if checked is None else checked
    names = {t.id: t.name for t in topics if t.purpose == Purpose.marketing}
    base = {
        **{f"order{n}": channel for n, channel in enumerate(order, start=1)},
        "brand_cap": str(rel.brand_cap),
        "shared": format_facts(rel.shared or {}),
        "until": local_input(rel.paused_until, rel.time_zone) if state == State.paused else "",
    }
    return {
        "brand": rel,
        "rel": rel,
        "state": state,
        "state_text": STATE_TEXT,
        "until_text": local_text(rel.paused_until, rel.time_zone, rel.locale),
        "zone": rel.time_zone,
        "purposes": [(p.value, PURPOSE_TEXT[p]) for p in GRANTABLE],
        "pending": pending,
        "groups": groups(topics, shown, pending),
        "summary": summary(
            rel.name,
            state,
            chosen.purposes,
            chosen.channels,
            [names[t] for t in chosen.topics if t in names],
            rel.brand_cap,
        ),
        "transactional_text": PURPOSE_TEXT[Purpose.transactional],
        "channel_purposes": [p.value for p in CHANNEL_PURPOSES],
        "channels": [(c.value, CHANNEL_TEXT[c]) for c in PERSON_CHANNELS],
        "unreachable": {
            c.value
            for c in PERSON_CHANNELS
            if c.value in CONTACT_CHANNEL and CONTACT_CHANNEL[c.value] not in reachable
        },
        "order_fields": [f"order{n}" for n in range(1, len(PERSON_CHANNELS) + 1)],
        "topics": topics,
        "shown_on": " ".join(sorted(stored_on)),
        "checked": shown,
        "switch": switches(shown),
        "values": {**base, **(values or {})},
    }


@router.get("/relationships/{brand_id}", response_class=HTMLResponse)
def relationship(
    brand_id: uuid.UUID, request: Request, person: PersonDep, session: SessionDep
) -> HTMLResponse:
    context = _context(session, person.person_id, brand_id)
    context["panels"] = panels_for(request, "relationship", session, person.person_id, brand_id)
    return render(request, PAGE, context)


def _page_context(
    request: Request,
    session: Session,
    person_id: uuid.UUID,
    brand_id: uuid.UUID,
    checked: set[str] | None = None,
) -> Callable[[], dict[str, Any]]:
    def context() -> dict[str, Any]:
        found = _context(session, person_id, brand_id, checked=checked)
        found["panels"] = panels_for(request, "relationship", session, person_id, brand_id)
        return found

    return context


@router.post("/relationships/{brand_id}", response_class=HTMLResponse)
async def save(
    brand_id: uuid.UUID, request: Request, person: PersonDep, session: SessionDep
) -> Response:
    """The whole form is one change: withdrawing takes no more steps than granting."""
    chosen = service.choices(session, person.person_id, brand_id)
    rel = service.get(session, person.person_id, brand_id)
    # Transactional topics are always on: shown as on, never a box.
    keys = box_keys(
        t.id for t in service.brand_topics(session, brand_id) if t.purpose != Purpose.transactional
    )
    values = await read_form(request, ["brand_cap", "shared", SHOWN_ON, *keys])
    now = {key for key in keys if values[key]}
    was = (
        set(values[SHOWN_ON].split())
        if values[SHOWN_ON]
        else boxes_on(chosen.purposes, chosen.channels, chosen.topics)
    )

    def act(data: PreferencesForm) -> Response:
        made = service.apply_change(session, rel, change_from(keys, was, now, data), PORTAL)
        flash(request, "Your choices are saved." if made else "Nothing changed.", "success")
        return _page(f"/relationships/{brand_id}")

    typed = {"brand_cap": values["brand_cap"], "shared": values["shared"]}
    return await handle_form(
        request,
        session,
        PreferencesForm,
        act,
        template=PAGE,
        values=typed,
        context=_page_context(request, session, person.person_id, brand_id, checked=now),
        field_of=FIELD_OF,
    )


ORDER_FIELDS = [f"order{n}" for n in range(1, len(PERSON_CHANNELS) + 1)]


@router.post("/relationships/{brand_id}/channel-order", response_class=HTMLResponse)
async def channel_order(
    brand_id: uuid.UUID, request: Request, person: PersonDep, session: SessionDep
) -> Response:
    """The order in which the person prefers the brand's channels (first choice first)."""
    rel = service.get(session, person.person_id, brand_id)
    known = {c.value for c in PERSON_CHANNELS}

    def parse(values: dict[str, str]) -> list[Channel] | dict[str, str]:
        order: list[Channel] = []
        for name in ORDER_FIELDS:
            picked = values.get(name, "")
            if not picked:
                continue
            if picked not in known:
                return {name: "Choose one of the channels in the list."}
            if Channel(picked) in order:
                return {name: "This channel is already higher in your order."}
            order.append(Channel(picked))
        return order

    def act(order: list[Channel]) -> Response:
        made = service.set_channel_order(session, rel, order, PORTAL)
        flash(
            request, "Your order of channels is saved." if made else "Nothing changed.", "success"
        )
        return _page(f"/relationships/{brand_id}")

    return await handle_form(
        request,
        session,
        parse,
        act,
        template=PAGE,
        fields=ORDER_FIELDS,
        context=_page_context(request, session, person.person_id, brand_id),
    )


@router.post("/relationships/{brand_id}/pause", response_class=HTMLResponse)
async def pause(
    brand_id: uuid.UUID, request: Request, person: PersonDep, session: SessionDep
) -> Response:
    rel = service.get(session, person.person_id, brand_id)
    me = people.get_person(session, person.person_id)
    zone = me.time_zone

    def parse(values: dict[str, str]) -> datetime | dict[str, str] | None:
        try:
            return parse_local(values["until"], zone)
        except ValueError as exc:
            return {"until": str(exc)}

    def act(until: datetime | None) -> Response:
        service.pause(session, rel, until, PORTAL)
        brand = brands.get_brand(session, brand_id)
        text = local_text(rel.paused_until, zone, me.locale)
        flash(request, f"{brand.name} is paused {'until ' + text if text else 'until you resume'}.")
        return _page(f"/relationships/{brand_id}")

    return await handle_form(
        request,
        session,
        parse,
        act,
        template=PAGE,
        fields=["until"],
        context=_page_context(request, session, person.person_id, brand_id),
        field_of=FIELD_OF,
    )


@router.post("/relationships/{brand_id}/resume")
def resume(
    brand_id: uuid.UUID, request: Request, person: PersonDep, session: SessionDep
) -> Response:
    rel = service.get(session, person.person_id, brand_id)
    service.resume(session, rel, PORTAL)
    flash(request, "The relationship is active again.", "success")
    return _page(f"/relationships/{brand_id}")


@router.post("/relationships/{brand_id}/end")
def end(brand_id: uuid.UUID, request: Request, person: PersonDep, session: SessionDep) -> Response:
    """End and keep the history (the erasing variant is in the privacy pages)."""
    rel = service.get(session, person.person_id, brand_id)
    service.end(session, rel, PORTAL)
    brand = brands.get_brand(session, brand_id)
    flash(request, f"Your relationship with {brand.name} has ended. Your history is kept.")
    return _page(f"/relationships/{brand_id}")
