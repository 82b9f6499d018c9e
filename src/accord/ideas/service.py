"""The ideas domain's public face: boards, proposing, voting, commenting, the brand's answer.

People who follow the brand (relationship active or paused) propose, vote once per idea (and
may withdraw it) and comment; a closed board takes no new ideas; a decided idea (shipped or
declined) takes no new votes. A status change is recorded with its public reply and announced
to everyone who voted, as a transactional message (the gate decides at sending time), with one
INSERT … SELECT whatever the number of voters.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

from sqlalchemy import (
    JSON,
    Select,
    String,
    Uuid,
    bindparam,
    delete,
    func,
    literal,
    literal_column,
    select,
)
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from accord.brands import service as brands
from accord.core.db import UTCDateTime, utcnow
from accord.core.direct import Direct
from accord.core.errors import Conflict, InvalidInput, NotFound
from accord.core.pagination import paginate
from accord.core.prepared import Prepared
from accord.core.settings import Settings
from accord.ideas import events
from accord.ideas.models import (
    BRAND_STATUSES,
    STATUSES,
    Idea,
    IdeaBoard,
    IdeaComment,
    IdeaStatusChange,
    IdeaVote,
)
from accord.outbox.models import OutboxMessage
from accord.relationships import service as relationships

TITLE_CHARS = 200
BODY_CHARS = 10_000
COMMENT_CHARS = 5_000
REPLY_CHARS = 5_000
DECIDED = frozenset({"shipped", "declined"})
STATUS_TEXT = {
    "new": "new",
    "under_review": "under review",
    "planned": "planned",
    "in_progress": "in progress",
    "shipped": "shipped",
    "declined": "declined",
}
TOPIC_SLUG = "ideas"
NOTIFY_ON = ("email", "sms", "push", "inapp")


def _text(value: str, *, field: str, limit: int, required: bool = True) -> str:
    text = value.replace("\r\n", "\n").strip()
    if required and not text:
        raise InvalidInput("Fill this in (it is empty).", field=field)
    if len(text) > limit:
        raise InvalidInput(f"Use {limit:,} characters or fewer.", field=field)
    return text


# --- boards -------------------------------------------------------------------------------------


def create_board(
    session: Session,
    brand_id: uuid.UUID,
    *,
    title: str,
    description: str = "",
    topic_id: uuid.UUID | None = None,
) -> IdeaBoard:
    if topic_id is not None and topic_id not in {
        t.id for t in relationships.brand_topics(session, brand_id)
    }:
        raise NotFound("No such topic.", field="topic_id")
    board = IdeaBoard(
        brand_id=brand_id,
        topic_id=topic_id,
        title=_text(title, field="title", limit=120),
        description=_text(description, field="description", limit=2000, required=False),
        status="open",
    )
    session.add(board)
    session.flush()
    return board


# Built once: the relationship page's ideas panel reads it on every view.
_BOARDS = (
    select(IdeaBoard)
    .where(IdeaBoard.brand_id == bindparam("brand", type_=Uuid()))
    .order_by(IdeaBoard.status.desc(), IdeaBoard.created_at.desc())
)


def boards(session: Session, brand_id: uuid.UUID) -> list[IdeaBoard]:
    return list(session.scalars(_BOARDS, {"brand": brand_id}))


# The open boards' ids and titles, newest first, on the cursor (`core.direct`): the
# relationship page's ideas section links to them on every view.
_OPEN_BOARDS = Direct(
    select(IdeaBoard.id, IdeaBoard.title)
    .where(
        IdeaBoard.brand_id == bindparam("brand", type_=Uuid()),
        IdeaBoard.status == literal_column("'open'"),
    )
    .order_by(IdeaBoard.created_at.desc())
)


def open_boards(session: Session, brand_id: uuid.UUID) -> list[Any]:
    """The brand's open boards (`id`, `title`), newest first."""
    return _OPEN_BOARDS.all(session, brand=brand_id)


def board_for_brand(session: Session, brand_id: uuid.UUID, board_id: uuid.UUID) -> IdeaBoard:
    board = session.get(IdeaBoard, board_id)
    if board is None or board.brand_id != brand_id:
        raise NotFound("No such ideas board.")
    return board


def board(session: Session, board_id: uuid.UUID) -> IdeaBoard:
    found = session.get(IdeaBoard, board_id)
    if found is None:
        raise NotFound("No such ideas board.")
    return found


def board_page(
    session: Session, brand_id: uuid.UUID, *, cursor: str | None, limit: int
) -> tuple[Sequence[IdeaBoard], str | None]:
    query = select(IdeaBoard).where(IdeaBoard.brand_id == brand_id)
    return paginate(
        session,
        query,
        created_at=IdeaBoard.created_at,
        row_id=IdeaBoard.id,
        cursor=cursor,
        limit=limit,
    )


def idea_page(
    session: Session, board: IdeaBoard, *, cursor: str | None, limit: int
) -> tuple[Sequence[Idea], str | None]:
    """The board's ideas, newest first (the API's order; pages show most votes first)."""
    query = select(Idea).where(Idea.board_id == board.id)
    return paginate(
        session, query, created_at=Idea.created_at, row_id=Idea.id, cursor=cursor, limit=limit
    )


def set_board_status(session: Session, board: IdeaBoard, status: str) -> IdeaBoard:
    if status not in ("open", "closed"):
        raise InvalidInput("A board is open or closed.", field="status")
    board.status = status
    session.flush()
    return board


# --- reading ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Listed:
    idea: Idea
    votes: int
    voted: bool  # by the person reading (always False for the brand)


def idea(session: Session, idea_id: uuid.UUID) -> Idea:
    found = session.get(Idea, idea_id)
    if found is None:
        raise NotFound("No such idea.")
    return found


def idea_for_brand(session: Session, brand_id: uuid.UUID, idea_id: uuid.UUID) -> Idea:
    found = session.get(Idea, idea_id)
    if found is None or found.brand_id != brand_id:
        raise NotFound("No such idea.")
    return found


def vote_counts(session: Session, idea_ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, int]:
    if not idea_ids:
        return {}
    rows = session.execute(
        select(IdeaVote.idea_id, func.count())
        .where(IdeaVote.idea_id.in_(list(idea_ids)))
        .group_by(IdeaVote.idea_id)
    ).all()
    return {idea_id: int(n) for idea_id, n in rows}


def ideas_of(
    session: Session,
    board: IdeaBoard,
    *,
    person_id: uuid.UUID | None = None,
    status: str | None = None,
    limit: int = 200,
) -> list[Listed]:
    """The board's ideas, most votes first (then newest), with whether `person_id` voted."""
    votes = (
        select(IdeaVote.idea_id, func.count().label("n"))
        .where(IdeaVote.brand_id == board.brand_id)
        .group_by(IdeaVote.idea_id)
        .subquery()
    )
    query = (
        select(Idea, func.coalesce(votes.c.n, 0))
        .outerjoin(votes, votes.c.idea_id == Idea.id)
        .where(Idea.board_id == board.id)
        .order_by(func.coalesce(votes.c.n, 0).desc(), Idea.created_at.desc(), Idea.id)
        .limit(limit)
    )
    if status is not None:
        if status not in STATUSES:
            raise InvalidInput("Unknown status.", field="status")
        query = query.where(Idea.status == status)
    rows = session.execute(query).all()
    mine: set[uuid.UUID] = set()
    if person_id is not None and rows:
        mine = set(
            session.scalars(
                select(IdeaVote.idea_id).where(
                    IdeaVote.person_id == person_id,
                    IdeaVote.idea_id.in_([r[0].id for r in rows]),
                )
            )
        )
    return [Listed(idea=i, votes=int(n), voted=i.id in mine) for i, n in rows]


def comments(session: Session, idea: Idea) -> list[IdeaComment]:
    return list(
        session.scalars(
            select(IdeaComment)
            .where(IdeaComment.idea_id == idea.id)
            .order_by(IdeaComment.created_at, IdeaComment.id)
        )
    )


def history(session: Session, idea: Idea) -> list[IdeaStatusChange]:
    return list(
        session.scalars(
            select(IdeaStatusChange)
            .where(IdeaStatusChange.idea_id == idea.id)
            .order_by(IdeaStatusChange.created_at)
        )
    )


def has_voted(session: Session, idea_id: uuid.UUID, person_id: uuid.UUID) -> bool:
    return session.get(IdeaVote, (idea_id, person_id)) is not None


# --- what people do -----------------------------------------------------------------------------


def may_take_part(session: Session, person_id: uuid.UUID, brand_id: uuid.UUID) -> bool:
    return relationships.state_of(session, person_id, brand_id) in ("active", "paused")


def _must_take_part(session: Session, person_id: uuid.UUID, brand_id: uuid.UUID) -> None:
    if not may_take_part(session, person_id, brand_id):
        raise Conflict(
            "Follow this brand to propose, vote and comment on its ideas.", field="brand_id"
        )


def propose(
    session: Session, person_id: uuid.UUID, board: IdeaBoard, *, title: str, body: str = ""
) -> Idea:
    """A new idea; its author's vote comes with it."""
    _must_take_part(session, person_id, board.brand_id)
    if board.status != "open":
        raise Conflict("This board is closed: it takes no new ideas.", field="board_id")
    one_line = " ".join(title.split())
    created = Idea(
        board_id=board.id,
        brand_id=board.brand_id,
        person_id=person_id,
        title=_text(one_line, field="title", limit=TITLE_CHARS),
        body=_text(body, field="body", limit=BODY_CHARS, required=False),
        status="new",
    )
    session.add(created)
    session.flush()
    session.add(IdeaVote(idea_id=created.id, person_id=person_id, brand_id=board.brand_id))
    session.flush()
    events.created(session, created)
    return created


def vote(session: Session, person_id: uuid.UUID, idea: Idea) -> None:
    _must_take_part(session, person_id, idea.brand_id)
    if idea.status in DECIDED:
        raise Conflict(
            f"This idea is {STATUS_TEXT[idea.status]}: it takes no more votes.", field="idea_id"
        )
    if has_voted(session, idea.id, person_id):
        raise Conflict("You have voted for this idea already: one vote each.", field="idea_id")
    session.add(IdeaVote(idea_id=idea.id, person_id=person_id, brand_id=idea.brand_id))
    session.flush()


def withdraw_vote(session: Session, person_id: uuid.UUID, idea: Idea) -> bool:
    """Take one's vote back (whatever the idea's status); False when there was none."""
    gone = session.execute(
        delete(IdeaVote).where(IdeaVote.idea_id == idea.id, IdeaVote.person_id == person_id)
    )
    return bool(getattr(gone, "rowcount", 0))


def comment(
    session: Session,
    idea: Idea,
    body: str,
    *,
    person_id: uuid.UUID | None = None,
    member_id: uuid.UUID | None = None,
) -> IdeaComment:
    if person_id is not None:
        _must_take_part(session, person_id, idea.brand_id)
    made = IdeaComment(
        idea_id=idea.id,
        brand_id=idea.brand_id,
        person_id=person_id,
        member_id=member_id,
        body=_text(body, field="body", limit=COMMENT_CHARS),
    )
    session.add(made)
    session.flush()
    return made


# --- what the brand does ------------------------------------------------------------------------


def literal_text(text: str) -> str:
    """Text the outbox's templates output as it is (a `{{` in it is never evaluated)."""
    return "".join("{{ '{' }}" if ch == "{" else ch for ch in text)


def ideas_topic(session: Session, brand_id: uuid.UUID) -> uuid.UUID:
    return relationships.system_topic(
        session,
        brand_id,
        slug=TOPIC_SLUG,
        name="Ideas you voted for",
        description="News of the ideas you proposed or voted for on our ideas boards.",
    )


def set_status(
    session: Session,
    settings: Settings,
    idea: Idea,
    status: str,
    *,
    reply: str | None,
    member_id: uuid.UUID | None,
) -> IdeaStatusChange:
    """Give the idea a status and a public reply; everyone who voted hears of it."""
    if status not in BRAND_STATUSES:
        raise InvalidInput(
            "The status is one of: " + ", ".join(STATUS_TEXT[s] for s in BRAND_STATUSES) + ".",
            field="status",
        )
    answer = _text(reply or "", field="reply", limit=REPLY_CHARS, required=False) or None
    if status == idea.status and answer == idea.reply:
        raise Conflict(f"The idea is {STATUS_TEXT[status]} already.", field="status")
    now = utcnow()
    idea.status, idea.reply, idea.status_changed_at = status, answer, now
    change = IdeaStatusChange(
        idea_id=idea.id,
        brand_id=idea.brand_id,
        status=status,
        reply=answer,
        member_id=member_id,
        created_at=now,
    )
    session.add(change)
    session.flush()
    voters = _notify_voters(session, settings, idea, change, now)
    events.status_changed(session, idea, change.id.hex, voters)
    return change


def _notify_voters(
    session: Session, settings: Settings, idea: Idea, change: IdeaStatusChange, now: datetime
) -> int:
    """One outbox row per voter and transactional channel they chose (e-mail by default), in
    one INSERT … SELECT per kind of text."""
    brand = brands.get_brand(session, idea.brand_id)
    topic_id = ideas_topic(session, idea.brand_id)
    url = f"{settings.base_url}/ideas/{idea.id}"
    state = STATUS_TEXT[change.status]
    subject = literal_text(f"{brand.name}: your idea is {state}: {idea.title}")
    long_text = literal_text(
        "\n".join(
            [
                f"{brand.name} marked an idea you voted for as {state}:",
                "",
                f"“{idea.title}”",
                *(["", f"{brand.name} says: {change.reply}"] if change.reply else []),
                "",
                f"See the idea and the board: {url}",
            ]
        )
    )
    short_text = literal_text(f"{brand.name}: “{idea.title[:80]}” is {state}. {url}")
    choices = relationships.transactional_choices(idea.brand_id).subquery()
    voters = select(IdeaVote.person_id).where(IdeaVote.idea_id == idea.id)
    dialect = session.get_bind().dialect.name
    insert = pg_insert if dialect == "postgresql" else sqlite_insert
    prefix = f"idea:{change.id.hex}:"
    for channels, text in ((("email",), long_text), (NOTIFY_ON[1:], short_text)):
        payload = {"subject": subject, "text": text, "html": None, "idea_id": str(idea.id)}
        rows = select(
            literal(idea.brand_id).label("brand_id"),
            choices.c.person_id,
            literal(topic_id).label("topic_id"),
            choices.c.channel,
            literal("transactional").label("purpose"),
            (
                literal(prefix)
                + func.cast(choices.c.person_id, String())
                + literal(":")
                + choices.c.channel
            ).label("idempotency_key"),
            literal("queued").label("state"),
            literal(now, UTCDateTime()).label("not_before"),
            literal(0).label("attempts"),
            literal(payload, JSON()).label("payload"),
            literal(now, UTCDateTime()).label("created_at"),
        ).where(choices.c.person_id.in_(voters), choices.c.channel.in_(channels))
        columns = [
            "brand_id",
            "person_id",
            "topic_id",
            "channel",
            "purpose",
            "idempotency_key",
            "state",
            "not_before",
            "attempts",
            "payload",
            "created_at",
        ]
        session.execute(insert(OutboxMessage).from_select(columns, rows).on_conflict_do_nothing())
    return int(session.scalar(select(func.count()).select_from(voters.subquery())) or 0)


# --- analytics --------------------------------------------------------------------------------


def voted_for(brand_id: uuid.UUID, idea_id: uuid.UUID) -> Select[uuid.UUID]:
    """The segment "voted for this idea": only people who granted the brand `profiling` (a vote
    is a signal about a person only with their consent; the others count only in totals)."""
    return select(IdeaVote.person_id).where(
        IdeaVote.idea_id == idea_id,
        IdeaVote.brand_id == brand_id,
        IdeaVote.person_id.in_(relationships.granted(brand_id, "profiling")),
    )


def segment_people(session: Session, brand_id: uuid.UUID, idea_id: uuid.UUID) -> list[uuid.UUID]:
    return list(session.scalars(voted_for(brand_id, idea_id)))


@dataclass(frozen=True)
class VoteSignal:
    votes: int
    profiled: int  # voters who granted profiling: the size of the segment


def _vote_signal() -> Prepared:
    idea, brand = bindparam("idea", type_=Uuid()), bindparam("brand", type_=Uuid())
    votes = select(func.count()).select_from(IdeaVote).where(IdeaVote.idea_id == idea)
    voters = voted_for(cast(Any, brand), cast(Any, idea)).subquery()
    segment = select(func.count()).select_from(voters)
    return Prepared(
        select(votes.scalar_subquery().label("votes"), segment.scalar_subquery().label("profiled"))
    )


# The console's idea page shows it on every view: both counts in one statement, built once.
_VOTE_SIGNAL = _vote_signal()


def vote_signal(session: Session, brand_id: uuid.UUID, idea_id: uuid.UUID) -> VoteSignal:
    session.flush()  # what the ORM's autoflush would do: a vote just cast counts
    row = _VOTE_SIGNAL.first(session, idea=idea_id, brand=brand_id)
    return VoteSignal(votes=int(row.votes or 0), profiled=int(row.profiled or 0))
