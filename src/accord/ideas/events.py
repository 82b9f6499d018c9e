"""The webhook events of ideas boards, defined in the webhooks registry at import."""

from __future__ import annotations

from sqlalchemy.orm import Session

from accord.ideas.models import Idea
from accord.webhooks import service as webhooks

IDEA_CREATED = webhooks.define("idea.created", "A person proposed an idea on an ideas board.")
IDEA_STATUS_CHANGED = webhooks.define(
    "idea.status_changed", "The brand gave an idea a new status (and perhaps a public reply)."
)


def _data(idea: Idea) -> dict[str, object]:
    return {
        "idea_id": str(idea.id),
        "board_id": str(idea.board_id),
        "person_id": str(idea.person_id),
        "title": idea.title,
        "status": idea.status,
        "reply": idea.reply,
    }


def created(session: Session, idea: Idea) -> None:
    webhooks.emit(
        session,
        idea.brand_id,
        IDEA_CREATED.name,
        {**_data(idea), "body": idea.body, "at": idea.created_at.isoformat()},
        event_id=f"msg_idea_{idea.id.hex}",
    )


def status_changed(session: Session, idea: Idea, change_id: str, voters: int) -> None:
    webhooks.emit(
        session,
        idea.brand_id,
        IDEA_STATUS_CHANGED.name,
        {**_data(idea), "votes": voters},
        event_id=f"msg_idea_status_{change_id}",
    )
