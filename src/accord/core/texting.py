"""What a domain needs to send a text (a phone verification code) without knowing how texts
go out: the composition root hands the SMS domain's texter to the app (`app.state.texter`)."""

from __future__ import annotations

import uuid
from typing import Protocol

from sqlalchemy.orm import Session


class Texter(Protocol):
    def send(
        self,
        session: Session,
        *,
        to: str,
        text: str,
        kind: str = "code",
        sender: str | None = None,
        brand_id: uuid.UUID | None = None,
        person_id: uuid.UUID | None = None,
    ) -> object:
        """Send after the session's transaction commits (the dev phone: in it)."""
        ...
