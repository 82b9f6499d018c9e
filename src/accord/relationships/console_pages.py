"""The brand console's Topics: list, create, rename or re-describe, retire."""

from __future__ import annotations

import uuid
from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.orm import Session

from accord.brands import service as brands
from accord.brands.deps import BrandDep
from accord.core.permissions import Permission, role_allows
from accord.core.principals import BrandCaller
from accord.core.web.csrf import csrf_protect
from accord.core.web.deps import SessionDep
from accord.core.web.forms import handle_form, show_form
from accord.core.web.templates import flash
from accord.relationships import service
from accord.relationships.schemas import TopicCreate, TopicUpdate
from accord.relationships.service import brand_topic
from accord.relationships.vocabulary import PURPOSE_TEXT, Purpose

router = APIRouter(
    prefix="/console/topics",
    tags=["console"],
    include_in_schema=False,
    dependencies=[Depends(csrf_protect)],
)

LIST = "relationships/console_topics.html"
EDIT = "relationships/console_topic.html"
PURPOSES = [(p.value, f"{p.value.capitalize()}: {PURPOSE_TEXT[p]}") for p in Purpose]


def _context(session: Session, caller: BrandCaller) -> dict[str, Any]:
    return {
        "brand": brands.caller_brand(session, caller),
        "can_manage": role_allows(caller.role, Permission.manage_topics),
        "topics": service.brand_topics(session, caller.brand_id),
        "purposes": PURPOSES,
    }


@router.get("", response_class=HTMLResponse)
def topic_list(request: Request, caller: BrandDep, session: SessionDep) -> HTMLResponse:
    caller.require(Permission.read_brand)
    values = {"purpose": Purpose.marketing.value}
    return show_form(request, LIST, values, model=TopicCreate, **_context(session, caller))


@router.post("", response_class=HTMLResponse)
async def create(request: Request, caller: BrandDep, session: SessionDep) -> Response:
    caller.require(Permission.manage_topics)

    def act(data: TopicCreate) -> Response:
        topic = service.create_topic(session, caller.brand_id, data)
        flash(request, f"The topic '{topic.name}' is created. It is off for everyone until chosen.")
        return RedirectResponse("/console/topics", status_code=303)

    return await handle_form(
        request,
        session,
        TopicCreate,
        act,
        template=LIST,
        context=lambda: _context(session, caller),
    )


@router.get("/{topic_id}", response_class=HTMLResponse)
def edit_form(
    topic_id: uuid.UUID, request: Request, caller: BrandDep, session: SessionDep
) -> HTMLResponse:
    caller.require(Permission.read_brand)
    topic = brand_topic(session, caller.brand_id, topic_id)
    values = {"name": topic.name, "description": topic.description}
    context = {**_context(session, caller), "topic": topic}
    return show_form(request, EDIT, values, model=TopicUpdate, **context)


@router.post("/{topic_id}", response_class=HTMLResponse)
async def save(
    topic_id: uuid.UUID, request: Request, caller: BrandDep, session: SessionDep
) -> Response:
    caller.require(Permission.manage_topics)
    topic = brand_topic(session, caller.brand_id, topic_id)
    name = topic.name

    def act(data: TopicUpdate) -> Response:
        service.update_topic(session, caller.brand_id, topic_id, data)
        flash(request, f"The topic '{name}' is saved.")
        return RedirectResponse("/console/topics", status_code=303)

    def context() -> dict[str, Any]:
        topic = brand_topic(session, caller.brand_id, topic_id)
        return {**_context(session, caller), "topic": topic}

    return await handle_form(request, session, TopicUpdate, act, template=EDIT, context=context)


@router.post("/{topic_id}/retire")
def retire(
    topic_id: uuid.UUID, request: Request, caller: BrandDep, session: SessionDep
) -> Response:
    caller.require(Permission.manage_topics)
    topic = service.retire_topic(session, caller.brand_id, topic_id)
    flash(
        request,
        f"The topic '{topic.name}' is retired: nobody can choose it any more, and nobody's "
        "choices changed.",
    )
    return RedirectResponse("/console/topics", status_code=303)
