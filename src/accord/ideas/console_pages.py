"""The brand console's ideas: boards (open one, close or reopen it), a board's ideas with their
votes and the size of the "voted for" segment, one idea (status and public reply, comments)."""

from __future__ import annotations

import uuid
from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.orm import Session

from accord.brands import service as brands
from accord.brands.deps import BrandDep
from accord.core.errors import InvalidInput
from accord.core.permissions import Permission, role_allows
from accord.core.principals import BrandCaller
from accord.core.web.csrf import csrf_protect
from accord.core.web.deps import SessionDep, SettingsDep
from accord.core.web.forms import FormInvalid, handle_form, read_form, show_form
from accord.core.web.templates import flash
from accord.ideas import console_reads, service
from accord.ideas.models import BRAND_STATUSES, STATUSES
from accord.ideas.page_forms import BoardForm, CommentForm, StatusForm
from accord.relationships import service as relationships

router = APIRouter(
    prefix="/console/ideas",
    tags=["console"],
    include_in_schema=False,
    dependencies=[Depends(csrf_protect)],
)

BOARDS = "ideas/console_boards.html"
BOARD = "ideas/console_board.html"
IDEA = "ideas/console_idea.html"


def _redirect(path: str) -> RedirectResponse:
    return RedirectResponse(path, status_code=303)


def _boards_context(session: Session, caller: BrandCaller) -> dict[str, Any]:
    topics = relationships.brand_topics(session, caller.brand_id)
    return {
        "brand": brands.caller_brand(session, caller),
        "boards": service.boards(session, caller.brand_id),
        "topic_options": [("", "No topic: about anything")]
        + [(str(t.id), t.name) for t in topics if t.retired_at is None],
        "topic_names": {t.id: t.name for t in topics},
        "can_manage": role_allows(caller.role, Permission.manage_ideas),
    }


@router.get("", response_class=HTMLResponse)
def boards_page(request: Request, caller: BrandDep, session: SessionDep) -> HTMLResponse:
    caller.require(Permission.read_brand)
    return show_form(request, BOARDS, {}, model=BoardForm, **_boards_context(session, caller))


@router.post("", response_class=HTMLResponse)
async def create_board(request: Request, caller: BrandDep, session: SessionDep) -> Response:
    caller.require(Permission.manage_ideas)

    def act(data: BoardForm) -> Response:
        try:
            topic_id = uuid.UUID(data.topic_id) if data.topic_id else None
        except ValueError:
            raise FormInvalid({"topic_id": "Choose one of your topics."}) from None
        board = service.create_board(
            session,
            caller.brand_id,
            title=data.title,
            description=data.description,
            topic_id=topic_id,
        )
        flash(request, f"The board “{board.title}” is open.", "success")
        return _redirect(f"/console/ideas/boards/{board.id}")

    return await handle_form(
        request,
        session,
        BoardForm,
        act,
        template=BOARDS,
        context=lambda: _boards_context(session, caller),
    )


@router.get("/boards/{board_id}", response_class=HTMLResponse)
def board_page(
    board_id: uuid.UUID, request: Request, caller: BrandDep, session: SessionDep, status: str = ""
) -> HTMLResponse:
    caller.require(Permission.read_brand)
    board = service.board_for_brand(session, caller.brand_id, board_id)
    listed = console_reads.ideas_of(session, board, status=status or None)
    context: dict[str, Any] = {
        "brand": brands.caller_brand(session, caller),
        "board": board,
        "listed": listed,
        "status": status,
        "statuses": [(s, service.STATUS_TEXT[s]) for s in STATUSES],
        "status_text": service.STATUS_TEXT,
        "can_manage": role_allows(caller.role, Permission.manage_ideas),
    }
    return show_form(request, BOARD, {}, **context)


@router.post("/boards/{board_id}/status")
async def board_status(
    board_id: uuid.UUID, request: Request, caller: BrandDep, session: SessionDep
) -> Response:
    caller.require(Permission.manage_ideas)
    board = service.board_for_brand(session, caller.brand_id, board_id)
    status = (await read_form(request, ["status"]))["status"]
    try:
        service.set_board_status(session, board, status)
    except InvalidInput as exc:
        flash(request, exc.detail, "error")
    else:
        flash(request, f"The board is {board.status}.", "success")
    return _redirect(f"/console/ideas/boards/{board_id}")


def _idea_context(session: Session, caller: BrandCaller, idea_id: uuid.UUID) -> dict[str, Any]:
    idea = service.idea_for_brand(session, caller.brand_id, idea_id)
    # What the page shows, read as its columns (`console_reads`), not as objects.
    members = brands.member_names(session, caller.brand_id, limit=200)
    return {
        "brand": brands.caller_brand(session, caller),  # its name
        "idea": idea,
        "board": console_reads.board_title(session, idea.board_id),
        "signal": service.vote_signal(session, caller.brand_id, idea.id),
        "comments": console_reads.comments(session, idea.id),
        "history": console_reads.history(session, idea.id),
        "status_text": service.STATUS_TEXT,
        "status_options": [("", "Choose a status")]
        + [(s, service.STATUS_TEXT[s].capitalize()) for s in BRAND_STATUSES],
        "member_names": {m.id: m.display_name or m.email for m in members},
        "can_manage": role_allows(caller.role, Permission.manage_ideas),
        "values": {
            "status": idea.status if idea.status != "new" else "",
            "reply": idea.reply or "",
        },
    }


@router.get("/{idea_id}", response_class=HTMLResponse)
def idea_page(
    idea_id: uuid.UUID, request: Request, caller: BrandDep, session: SessionDep
) -> HTMLResponse:
    caller.require(Permission.read_brand)
    context = _idea_context(session, caller, idea_id)
    return show_form(request, IDEA, context.pop("values"), model=StatusForm, **context)


@router.post("/{idea_id}/status", response_class=HTMLResponse)
async def set_status(
    idea_id: uuid.UUID,
    request: Request,
    caller: BrandDep,
    session: SessionDep,
    settings: SettingsDep,
) -> Response:
    caller.require(Permission.manage_ideas)
    idea = service.idea_for_brand(session, caller.brand_id, idea_id)

    def act(data: StatusForm) -> Response:
        service.set_status(
            session, settings, idea, data.status, reply=data.reply, member_id=caller.member_id
        )
        text = service.STATUS_TEXT[idea.status]
        flash(request, f"The idea is {text}; everyone who voted is told.", "success")
        return _redirect(f"/console/ideas/{idea_id}")

    return await handle_form(
        request,
        session,
        StatusForm,
        act,
        template=IDEA,
        context=lambda: _idea_context(session, caller, idea_id),
    )


@router.post("/{idea_id}/comments", response_class=HTMLResponse)
async def comment(
    idea_id: uuid.UUID, request: Request, caller: BrandDep, session: SessionDep
) -> Response:
    caller.require(Permission.manage_ideas)
    idea = service.idea_for_brand(session, caller.brand_id, idea_id)

    def act(data: CommentForm) -> Response:
        service.comment(session, idea, data.comment, member_id=caller.member_id)
        flash(request, "Your comment is public on the idea.", "success")
        return _redirect(f"/console/ideas/{idea_id}#comments")

    return await handle_form(
        request,
        session,
        CommentForm,
        act,
        template=IDEA,
        context=lambda: _idea_context(session, caller, idea_id),
        field_of={"body": "comment"},
    )
