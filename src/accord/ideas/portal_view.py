"""What the person's board and idea pages read, as the columns they show.

Built once and run on the session's cursor (`core.direct`): the pages read the board, the idea,
its brand, comments and history as ORM objects, and built the board's list statement (its vote
counts and the person's votes, a second statement over the ids) on every view, which was most
of each page's time. The rows carry the names the templates use (`id`, `title`, …).
"""

from __future__ import annotations

import uuid
from functools import cache
from typing import Any, NamedTuple

from sqlalchemy import String, Uuid, bindparam, exists, func, select
from sqlalchemy.orm import Session

from accord.brands.models import Brand
from accord.core.direct import Direct
from accord.core.errors import InvalidInput, NotFound
from accord.ideas.models import STATUSES, Idea, IdeaBoard, IdeaComment, IdeaStatusChange, IdeaVote

LIMIT = 200  # ideas a board shows, as `service.ideas_of`


class Shown(NamedTuple):
    """A brand as the pages name it."""

    id: uuid.UUID
    name: str


_BOARD = Direct(
    select(
        IdeaBoard.id,
        IdeaBoard.title,
        IdeaBoard.description,
        IdeaBoard.status,
        Brand.id.label("brand_id"),
        Brand.name.label("brand_name"),
    )
    .join(Brand, Brand.id == IdeaBoard.brand_id)
    .where(IdeaBoard.id == bindparam("board", type_=Uuid()))
)


def board(session: Session, board_id: uuid.UUID) -> tuple[Any, Shown]:
    """The board (id, title, description, status) and its brand."""
    row = _BOARD.first(session, board=board_id)
    if row is None:
        raise NotFound("No such ideas board.")
    return row, Shown(row.brand_id, row.brand_name)


def _voted(person: Any) -> Any:
    """Whether the person reading voted for the idea."""
    return exists().where(IdeaVote.idea_id == Idea.id, IdeaVote.person_id == person)


@cache
def _listed(by_status: bool) -> Direct:
    """`service.ideas_of` for a person, in one statement: most votes first, then newest."""
    votes = (
        select(IdeaVote.idea_id, func.count().label("n"))
        .where(IdeaVote.brand_id == bindparam("brand", type_=Uuid()))
        .group_by(IdeaVote.idea_id)
        .subquery()
    )
    count = func.coalesce(votes.c.n, 0)
    query = (
        select(
            Idea.id,
            Idea.title,
            Idea.reply,
            Idea.status,
            count.label("votes"),
            _voted(bindparam("person", type_=Uuid())).label("voted"),
        )
        .outerjoin(votes, votes.c.idea_id == Idea.id)
        .where(Idea.board_id == bindparam("board", type_=Uuid()))
        .order_by(count.desc(), Idea.created_at.desc(), Idea.id)
        .limit(LIMIT)
    )
    if by_status:
        query = query.where(Idea.status == bindparam("status", type_=String()))
    return Direct(query)


def listed(
    session: Session,
    board_id: uuid.UUID,
    brand_id: uuid.UUID,
    person_id: uuid.UUID,
    status: str | None,
) -> list[Any]:
    """The board's ideas (id, title, reply, status, votes, voted), as `service.ideas_of`."""
    values: dict[str, Any] = {"board": board_id, "brand": brand_id, "person": person_id}
    if status is not None:
        if status not in STATUSES:
            raise InvalidInput("Unknown status.", field="status")
        values["status"] = status
    return _listed(status is not None).all(session, **values)


_IDEA = Direct(
    select(
        Idea.id,
        Idea.title,
        Idea.body,
        Idea.status,
        Idea.reply,
        Idea.created_at,
        Idea.person_id,
        Idea.board_id,
        IdeaBoard.title.label("board_title"),
        Brand.id.label("brand_id"),
        Brand.name.label("brand_name"),
        select(func.count()).where(IdeaVote.idea_id == Idea.id).scalar_subquery().label("votes"),
        _voted(bindparam("person", type_=Uuid())).label("voted"),
    )
    .join(IdeaBoard, IdeaBoard.id == Idea.board_id)
    .join(Brand, Brand.id == Idea.brand_id)
    .where(Idea.id == bindparam("idea", type_=Uuid()))
)
_COMMENTS = Direct(
    select(IdeaComment.person_id, IdeaComment.member_id, IdeaComment.body, IdeaComment.created_at)
    .where(IdeaComment.idea_id == bindparam("idea", type_=Uuid()))
    .order_by(IdeaComment.created_at, IdeaComment.id)
)
_HISTORY = Direct(
    select(IdeaStatusChange.status, IdeaStatusChange.reply, IdeaStatusChange.created_at)
    .where(IdeaStatusChange.idea_id == bindparam("idea", type_=Uuid()))
    .order_by(IdeaStatusChange.created_at)
)


def idea(session: Session, idea_id: uuid.UUID, person_id: uuid.UUID) -> Any:
    """The idea with its board's title, its brand, its votes and whether the person voted."""
    row = _IDEA.first(session, idea=idea_id, person=person_id)
    if row is None:
        raise NotFound("No such idea.")
    return row


def comments(session: Session, idea_id: uuid.UUID) -> list[Any]:
    """The idea's comments (person_id, member_id, body, created_at), oldest first."""
    return _COMMENTS.all(session, idea=idea_id)


def history(session: Session, idea_id: uuid.UUID) -> list[Any]:
    """What the brand did with the idea (status, reply, created_at), oldest first."""
    return _HISTORY.all(session, idea=idea_id)
