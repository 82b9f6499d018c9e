"""The ideas APIs: the brand's boards and answers; a person's proposals, votes and comments.
Lists page with cursors (newest first); every POST takes an Idempotency-Key."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from fastapi import APIRouter, Query, Response, status
from sqlalchemy.orm import Session

from accord.brands.deps import BRAND_SCOPED, BrandDep
from accord.core.errors import InvalidInput, NotFound
from accord.core.pagination import Page
from accord.core.permissions import Permission
from accord.core.web.deps import SessionDep, SettingsDep
from accord.core.web.params import CursorParam
from accord.ideas import service
from accord.ideas.models import Idea, IdeaComment
from accord.ideas.schemas import (
    BoardIn,
    BoardOut,
    BoardPatch,
    BrandIdeaOut,
    CommentIn,
    CommentOut,
    IdeaIn,
    PersonIdeaOut,
    StatusIn,
    VotersOut,
)
from accord.people.deps import PersonDep

router = APIRouter(tags=["ideas", BRAND_SCOPED])
person_router = APIRouter(prefix="/me", tags=["my ideas"])
Limit = Query(default=50, ge=1, le=200)


def _brand_out(idea: Idea, votes: int) -> BrandIdeaOut:
    return BrandIdeaOut(
        id=idea.id,
        board_id=idea.board_id,
        title=idea.title,
        body=idea.body,
        status=idea.status,
        reply=idea.reply,
        votes=votes,
        created_at=idea.created_at,
        status_changed_at=idea.status_changed_at,
        person_id=idea.person_id,
    )


def _person_out(session: Session, idea: Idea, person_id: uuid.UUID) -> PersonIdeaOut:
    return PersonIdeaOut(
        id=idea.id,
        board_id=idea.board_id,
        title=idea.title,
        body=idea.body,
        status=idea.status,
        reply=idea.reply,
        votes=service.vote_counts(session, [idea.id]).get(idea.id, 0),
        created_at=idea.created_at,
        status_changed_at=idea.status_changed_at,
        voted=service.has_voted(session, idea.id, person_id),
        mine=idea.person_id == person_id,
    )


def _comments(rows: Sequence[IdeaComment]) -> list[CommentOut]:
    return [
        CommentOut(
            id=c.id,
            idea_id=c.idea_id,
            author="person" if c.person_id else "brand",
            body=c.body,
            created_at=c.created_at,
        )
        for c in rows
    ]


# --- brand -----------------------------------------------------------------------------------


@router.get("/idea-boards", response_model=Page[BoardOut])
def list_boards(
    caller: BrandDep, session: SessionDep, cursor: CursorParam = None, limit: int = Limit
) -> Page[BoardOut]:
    caller.require(Permission.read_brand)
    rows, next_cursor = service.board_page(session, caller.brand_id, cursor=cursor, limit=limit)
    return Page(items=[BoardOut.model_validate(b) for b in rows], next_cursor=next_cursor)


@router.post("/idea-boards", response_model=BoardOut, status_code=status.HTTP_201_CREATED)
def create_board(data: BoardIn, caller: BrandDep, session: SessionDep) -> BoardOut:
    """Open an ideas board, optionally about one of your topics."""
    caller.require(Permission.manage_ideas)
    board = service.create_board(
        session,
        caller.brand_id,
        title=data.title,
        description=data.description,
        topic_id=data.topic_id,
    )
    return BoardOut.model_validate(board)


@router.patch("/idea-boards/{board_id}", response_model=BoardOut)
def update_board(
    board_id: uuid.UUID, data: BoardPatch, caller: BrandDep, session: SessionDep
) -> BoardOut:
    """Close a board to new ideas (its ideas stay), or reopen it."""
    caller.require(Permission.manage_ideas)
    board = service.board_for_brand(session, caller.brand_id, board_id)
    if data.status is None:
        raise InvalidInput("Give the board's status: open or closed.", field="status")
    return BoardOut.model_validate(service.set_board_status(session, board, data.status))


@router.get("/idea-boards/{board_id}/ideas", response_model=Page[BrandIdeaOut])
def list_ideas(
    board_id: uuid.UUID,
    caller: BrandDep,
    session: SessionDep,
    cursor: CursorParam = None,
    limit: int = Limit,
) -> Page[BrandIdeaOut]:
    caller.require(Permission.read_brand)
    board = service.board_for_brand(session, caller.brand_id, board_id)
    rows, next_cursor = service.idea_page(session, board, cursor=cursor, limit=limit)
    votes = service.vote_counts(session, [i.id for i in rows])
    return Page(items=[_brand_out(i, votes.get(i.id, 0)) for i in rows], next_cursor=next_cursor)


@router.get("/ideas/{idea_id}", response_model=BrandIdeaOut)
def read_idea(idea_id: uuid.UUID, caller: BrandDep, session: SessionDep) -> BrandIdeaOut:
    caller.require(Permission.read_brand)
    idea = service.idea_for_brand(session, caller.brand_id, idea_id)
    return _brand_out(idea, service.vote_counts(session, [idea.id]).get(idea.id, 0))


@router.post("/ideas/{idea_id}/status", response_model=BrandIdeaOut)
def set_status(
    idea_id: uuid.UUID,
    data: StatusIn,
    caller: BrandDep,
    session: SessionDep,
    settings: SettingsDep,
) -> BrandIdeaOut:
    """Answer with a status and a public reply; everyone who voted is told on their
    transactional channel, and `idea.status_changed` is raised."""
    caller.require(Permission.manage_ideas)
    idea = service.idea_for_brand(session, caller.brand_id, idea_id)
    service.set_status(
        session, settings, idea, data.status or "", reply=data.reply, member_id=caller.member_id
    )
    return _brand_out(idea, service.vote_counts(session, [idea.id]).get(idea.id, 0))


@router.get("/ideas/{idea_id}/comments", response_model=list[CommentOut])
def list_comments(idea_id: uuid.UUID, caller: BrandDep, session: SessionDep) -> list[CommentOut]:
    caller.require(Permission.read_brand)
    return _comments(
        service.comments(session, service.idea_for_brand(session, caller.brand_id, idea_id))
    )


@router.post(
    "/ideas/{idea_id}/comments", response_model=CommentOut, status_code=status.HTTP_201_CREATED
)
def comment(
    idea_id: uuid.UUID, data: CommentIn, caller: BrandDep, session: SessionDep
) -> CommentOut:
    caller.require(Permission.manage_ideas)
    idea = service.idea_for_brand(session, caller.brand_id, idea_id)
    return _comments([service.comment(session, idea, data.body, member_id=caller.member_id)])[0]


@router.get("/ideas/{idea_id}/voters", response_model=VotersOut)
def voters(idea_id: uuid.UUID, caller: BrandDep, session: SessionDep) -> VotersOut:
    """The segment "voted for this idea": only voters who granted you profiling are named;
    the others count in `votes` only."""
    caller.require(Permission.read_analytics)
    idea = service.idea_for_brand(session, caller.brand_id, idea_id)
    signal = service.vote_signal(session, caller.brand_id, idea.id)
    people = service.segment_people(session, caller.brand_id, idea.id)
    return VotersOut(votes=signal.votes, person_ids=people)


# --- person ----------------------------------------------------------------------------------


@person_router.get("/idea-boards/{board_id}/ideas", response_model=Page[PersonIdeaOut])
def board_ideas(
    board_id: uuid.UUID,
    person: PersonDep,
    session: SessionDep,
    cursor: CursorParam = None,
    limit: int = Limit,
) -> Page[PersonIdeaOut]:
    board = service.board(session, board_id)
    rows, next_cursor = service.idea_page(session, board, cursor=cursor, limit=limit)
    return Page(
        items=[_person_out(session, i, person.person_id) for i in rows], next_cursor=next_cursor
    )


@person_router.post(
    "/idea-boards/{board_id}/ideas",
    response_model=PersonIdeaOut,
    status_code=status.HTTP_201_CREATED,
)
def propose(
    board_id: uuid.UUID, data: IdeaIn, person: PersonDep, session: SessionDep
) -> PersonIdeaOut:
    """Propose an idea to a brand you follow; your vote comes with it."""
    board = service.board(session, board_id)
    idea = service.propose(session, person.person_id, board, title=data.title, body=data.body)
    return _person_out(session, idea, person.person_id)


@person_router.post("/ideas/{idea_id}/vote", status_code=status.HTTP_204_NO_CONTENT)
def vote(idea_id: uuid.UUID, person: PersonDep, session: SessionDep) -> Response:
    """One vote per person and idea: a second is a 409."""
    service.vote(session, person.person_id, service.idea(session, idea_id))
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@person_router.delete("/ideas/{idea_id}/vote", status_code=status.HTTP_204_NO_CONTENT)
def withdraw(idea_id: uuid.UUID, person: PersonDep, session: SessionDep) -> Response:
    if not service.withdraw_vote(session, person.person_id, service.idea(session, idea_id)):
        raise NotFound("You have not voted for this idea.")
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@person_router.post(
    "/ideas/{idea_id}/comments", response_model=CommentOut, status_code=status.HTTP_201_CREATED
)
def my_comment(
    idea_id: uuid.UUID, data: CommentIn, person: PersonDep, session: SessionDep
) -> CommentOut:
    idea = service.idea(session, idea_id)
    return _comments([service.comment(session, idea, data.body, person_id=person.person_id)])[0]
