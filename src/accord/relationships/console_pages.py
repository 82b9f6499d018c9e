"""The brand console's Topics: list, create, rename or re-describe, retire."""

from __future__ import annotations

import uuid
from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.orm import Session

from accord.brands import service as brands
from accord.brands.deps import BrandDep
from accord.core.errors import AccordError
from accord.core.permissions import Permission, role_allows
from accord.core.principals import BrandCaller
from accord.core.web.csrf import csrf_protect
from accord.core.web.deps import SessionDep
from accord.core.web.forms import form_page, parse_form, read_form
from accord.core.web.templates import flash, render
from accord.relationships import service, topics
from accord.relationships.decisions import brand_topic
from accord.relationships.schemas import TopicCreate, TopicUpdate
from accord.relationships.vocabulary import PURPOSE_TEXT, Purpose

router = APIRouter(
    prefix="/console/topics",
    tags=["console"],
    include_in_schema=False,
    dependencies=[Depends(csrf_protect)],
)

LIST = "relationships/console_topics.html"
EDIT = "relationships/console_topic.html"
SLUG_HINT = "Lower-case letters, digits and hyphens, for example new-arrivals."
PURPOSES = [(p.value, f"{p.value.capitalize()}: {PURPOSE_TEXT[p]}") for p in Purpose]


def _context(session: Session, caller: BrandCaller) -> dict[str, Any]:
    return {
        "brand": brands.get_brand(session, caller.brand_id),
        "can_manage": role_allows(caller.role, Permission.manage_topics),
        "topics": service.brand_topics(session, caller.brand_id),
        "purposes": PURPOSES,
    }


@router.get("", response_class=HTMLResponse)
def topic_list(request: Request, caller: BrandDep, session: SessionDep) -> HTMLResponse:
    caller.require(Permission.read_brand)
    context = {**_context(session, caller), "values": {"purpose": Purpose.marketing.value}}
    return render(request, LIST, context)


@router.post("", response_class=HTMLResponse)
async def create(request: Request, caller: BrandDep, session: SessionDep) -> Response:
    caller.require(Permission.manage_topics)
    values = await read_form(request, ["slug", "name", "description", "purpose"])
    data = parse_form(TopicCreate, values)
    if isinstance(data, dict) and "pattern" in data.get("slug", ""):
        data["slug"] = f"Not a valid slug. {SLUG_HINT}"
    if not isinstance(data, dict):
        try:
            topic = topics.create(session, caller.brand_id, data)
        except AccordError as exc:
            session.rollback()
            data = {exc.field or "form": exc.detail}
    if isinstance(data, dict):
        return form_page(request, LIST, values, data, **_context(session, caller))
    flash(request, f"The topic '{topic.name}' is created. It is off for everyone until chosen.")
    return RedirectResponse("/console/topics", status_code=303)


@router.get("/{topic_id}", response_class=HTMLResponse)
def edit_form(
    topic_id: uuid.UUID, request: Request, caller: BrandDep, session: SessionDep
) -> HTMLResponse:
    caller.require(Permission.read_brand)
    topic = brand_topic(session, caller.brand_id, topic_id)
    context = {
        **_context(session, caller),
        "topic": topic,
        "values": {"name": topic.name, "description": topic.description},
    }
    return render(request, EDIT, context)


@router.post("/{topic_id}", response_class=HTMLResponse)
async def save(
    topic_id: uuid.UUID, request: Request, caller: BrandDep, session: SessionDep
) -> Response:
    caller.require(Permission.manage_topics)
    topic = brand_topic(session, caller.brand_id, topic_id)
    values = await read_form(request, ["name", "description"])
    data = parse_form(TopicUpdate, values)
    if isinstance(data, dict):
        context = {**_context(session, caller), "topic": topic}
        return form_page(request, EDIT, values, data, **context)
    topics.update(session, caller.brand_id, topic_id, data)
    flash(request, f"The topic '{topic.name}' is saved.")
    return RedirectResponse("/console/topics", status_code=303)


@router.post("/{topic_id}/retire")
def retire(
    topic_id: uuid.UUID, request: Request, caller: BrandDep, session: SessionDep
) -> Response:
    caller.require(Permission.manage_topics)
    topic = topics.retire(session, caller.brand_id, topic_id)
    flash(
        request,
        f"The topic '{topic.name}' is retired: nobody can choose it any more, and nobody's "
        "choices changed.",
    )
    return RedirectResponse("/console/topics", status_code=303)
