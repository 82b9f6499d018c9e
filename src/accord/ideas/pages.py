"""The person's ideas boards: a brand's boards, one board (what customers asked for and what
the brand did), one idea with its answer, history and comments; proposing, voting, commenting."""

from __future__ import annotations

import uuid
from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.orm import Session

from accord.brands import service as brands
from accord.core.errors import AccordError
from accord.core.web.csrf import csrf_protect
from accord.core.web.deps import SessionDep
from accord.core.web.forms import handle_form, read_form, show_form
from accord.core.web.templates import flash, render
from accord.ideas import portal_view as view
from accord.ideas import service
from accord.ideas.models import STATUSES
from accord.ideas.page_forms import CommentForm, ProposeForm
from accord.people.deps import PersonDep

router = APIRouter(
    tags=["ideas pages"], include_in_schema=False, dependencies=[Depends(csrf_protect)]
)

BOARDS = "ideas/boards.html"
BOARD = "ideas/board.html"
IDEA = "ideas/idea.html"
# An error about taking part (no relationship) shows at the top of the form.
FIELD_OF = {"brand_id": "form", "board_id": "form", "idea_id": "form", "body": "body"}


def _redirect(path: str) -> RedirectResponse:
    return RedirectResponse(path, status_code=303)


@router.get("/brands/{brand_id}/ideas", response_class=HTMLResponse)
def brand_boards(
    brand_id: uuid.UUID, request: Request, person: PersonDep, session: SessionDep
) -> HTMLResponse:
    brand = brands.get_brand(session, brand_id)
    context = {"brand": brand, "boards": service.boards(session, brand_id)}
    return render(request, BOARDS, context)


def _board_context(
    session: Session, person_id: uuid.UUID, board_id: uuid.UUID, status: str | None = None
) -> dict[str, Any]:
    board, brand = view.board(session, board_id)
    listed = view.listed(session, board_id, brand.id, person_id, status or None)
    return {
        "board": board,
        "brand": brand,
        "listed": listed,
        "status": status or "",
        "statuses": [(s, service.STATUS_TEXT[s]) for s in STATUSES],
        "status_text": service.STATUS_TEXT,
        "can_take_part": service.may_take_part(session, person_id, brand.id),
    }


@router.get("/ideas/boards/{board_id}", response_class=HTMLResponse)
def board_page(
    board_id: uuid.UUID, request: Request, person: PersonDep, session: SessionDep, status: str = ""
) -> HTMLResponse:
    context = _board_context(session, person.person_id, board_id, status)
    return show_form(request, BOARD, {}, model=ProposeForm, **context)


@router.post("/ideas/boards/{board_id}", response_class=HTMLResponse)
async def propose(
    board_id: uuid.UUID, request: Request, person: PersonDep, session: SessionDep
) -> Response:
    board = service.board(session, board_id)

    def act(data: ProposeForm) -> Response:
        idea = service.propose(session, person.person_id, board, title=data.title, body=data.body)
        flash(request, "Your idea is on the board, with your vote.", "success")
        return _redirect(f"/ideas/{idea.id}")

    return await handle_form(
        request,
        session,
        ProposeForm,
        act,
        template=BOARD,
        context=lambda: _board_context(session, person.person_id, board_id),
        field_of=FIELD_OF,
    )


def _idea_context(session: Session, person_id: uuid.UUID, idea_id: uuid.UUID) -> dict[str, Any]:
    """The idea with its board's title and brand's name, its votes, comments and history, read
    as the columns shown (`portal_view`)."""
    idea = view.idea(session, idea_id, person_id)
    return {
        "idea": idea,
        "brand": view.Shown(idea.brand_id, idea.brand_name),
        "votes": int(idea.votes),
        "voted": bool(idea.voted),
        "mine": idea.person_id == person_id,
        "comments": view.comments(session, idea_id),
        "history": view.history(session, idea_id),
        "status_text": service.STATUS_TEXT,
        "decided": idea.status in service.DECIDED,
        "can_take_part": service.may_take_part(session, person_id, idea.brand_id),
        "me": person_id,
    }


@router.get("/ideas/{idea_id}", response_class=HTMLResponse)
def idea_page(
    idea_id: uuid.UUID, request: Request, person: PersonDep, session: SessionDep
) -> HTMLResponse:
    context = _idea_context(session, person.person_id, idea_id)
    return show_form(request, IDEA, {}, model=CommentForm, **context)


@router.post("/ideas/{idea_id}/comments", response_class=HTMLResponse)
async def comment(
    idea_id: uuid.UUID, request: Request, person: PersonDep, session: SessionDep
) -> Response:
    idea = service.idea(session, idea_id)

    def act(data: CommentForm) -> Response:
        service.comment(session, idea, data.comment, person_id=person.person_id)
        flash(request, "Your comment is added.", "success")
        return _redirect(f"/ideas/{idea_id}#comments")

    return await handle_form(
        request,
        session,
        CommentForm,
        act,
        template=IDEA,
        context=lambda: _idea_context(session, person.person_id, idea_id),
        field_of={**FIELD_OF, "body": "comment"},
    )


async def _back(request: Request, idea_id: uuid.UUID) -> str:
    """Where the vote button was pressed (the board or the idea), never elsewhere."""
    back = (await read_form(request, ["back"]))["back"]
    return back if back.startswith("/ideas/") and "//" not in back else f"/ideas/{idea_id}"


@router.post("/ideas/{idea_id}/vote")
async def vote(
    idea_id: uuid.UUID, request: Request, person: PersonDep, session: SessionDep
) -> Response:
    idea = service.idea(session, idea_id)
    try:
        service.vote(session, person.person_id, idea)
        flash(request, f"You voted for “{idea.title}”.", "success")
    except AccordError as exc:
        session.rollback()
        flash(request, exc.detail, "error")
    return _redirect(await _back(request, idea_id))


@router.post("/ideas/{idea_id}/unvote")
async def unvote(
    idea_id: uuid.UUID, request: Request, person: PersonDep, session: SessionDep
) -> Response:
    idea = service.idea(session, idea_id)
    if service.withdraw_vote(session, person.person_id, idea):
        flash(request, f"Your vote for “{idea.title}” is withdrawn.", "success")
    else:
        flash(request, "You had not voted for this idea.", "error")
    return _redirect(await _back(request, idea_id))


def relationship_panel(
    session: Session, person_id: uuid.UUID, brand_id: uuid.UUID | None
) -> dict[str, object]:
    """The relationship page's link to the brand's ideas boards."""
    if brand_id is None:
        return {"boards": []}
    return {"boards": service.open_boards(session, brand_id)}
