"""What the console's idea and board pages show, read as the columns they show.

Each statement is built once with its idea, board or brand bound and run on the session's
cursor (`core.direct`), in the order of the reads it stands for (`service.comments`,
`service.history`, `service.ideas_of`), without making objects of the rows: the pages read
them on every view, and building the statement and its objects cost more than running it.
"""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import Uuid, bindparam, func, select
from sqlalchemy.orm import Session

from accord.core.direct import Direct
from accord.core.errors import InvalidInput, NotFound
from accord.ideas.models import STATUSES, Idea, IdeaBoard, IdeaComment, IdeaStatusChange, IdeaVote
from accord.ideas.service import Listed

_IDEA = bindparam("idea", type_=Uuid())
_C, _H = IdeaComment.__table__.c, IdeaStatusChange.__table__.c
_I, _V, _B = Idea.__table__.c, IdeaVote.__table__.c, IdeaBoard.__table__.c
_COMMENTS = Direct(
    select(_C.person_id, _C.member_id, _C.body, _C.created_at)
    .where(_C.idea_id == _IDEA)
    .order_by(_C.created_at, _C.id)
)
_HISTORY = Direct(
    select(_H.status, _H.reply, _H.member_id, _H.created_at)
    .where(_H.idea_id == _IDEA)
    .order_by(_H.created_at)
)
_BOARD = Direct(select(_B.id, _B.title).where(_B.id == bindparam("board", type_=Uuid())))


def _listed(with_status: bool) -> Direct:
    votes = (
        select(_V.idea_id, func.count().label("n"))
        .where(_V.brand_id == bindparam("brand", type_=Uuid()))
        .group_by(_V.idea_id)
        .subquery()
    )
    count = func.coalesce(votes.c.n, 0)
    query = (
        select(_I.id, _I.title, _I.status, _I.created_at, count.label("votes"))
        .outerjoin(votes, votes.c.idea_id == _I.id)
        .where(_I.board_id == bindparam("board", type_=Uuid()))
        .order_by(count.desc(), _I.created_at.desc(), _I.id)
        .limit(bindparam("limit"))
    )
    if with_status:
        query = query.where(_I.status == bindparam("status"))
    return Direct(query)


_LISTED = {False: _listed(False), True: _listed(True)}


def comments(session: Session, idea_id: uuid.UUID) -> list[Any]:
    """(person_id, member_id, body, created_at), oldest first."""
    return _COMMENTS.all(session, idea=idea_id)


def history(session: Session, idea_id: uuid.UUID) -> list[Any]:
    """(status, reply, member_id, created_at), oldest first."""
    return _HISTORY.all(session, idea=idea_id)


def board_title(session: Session, board_id: uuid.UUID) -> Any:
    """The board's (id, title), or a 404 (as `service.board`)."""
    found = _BOARD.first(session, board=board_id)
    if found is None:
        raise NotFound("No such ideas board.")
    return found


def ideas_of(
    session: Session, board: IdeaBoard, *, status: str | None = None, limit: int = 200
) -> list[Listed]:
    """`service.ideas_of` for the brand (no one's votes marked), each idea as (id, title,
    status, created_at)."""
    values: dict[str, Any] = {"brand": board.brand_id, "board": board.id, "limit": limit}
    if status is not None:
        if status not in STATUSES:
            raise InvalidInput("Unknown status.", field="status")
        values["status"] = status
    rows = _LISTED[status is not None].all(session, **values)
    return [Listed(idea=row, votes=int(row.votes), voted=False) for row in rows]
