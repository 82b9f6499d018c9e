"""The dev phone: the embedded default gateway. Texts are kept in the database, in the sender's
transaction, and shown per number on `/dev/phone` (only in `dev`), where a reply can be typed
as that person, so the whole STOP flow can be tried without a provider."""

from __future__ import annotations

import uuid

from sqlalchemy import select
from sqlalchemy.orm import Session

from accord.sms.gateway import ACCEPTED, FAILED, Result, Text
from accord.sms.models import DevPhoneText


class DevPhoneGateway:
    name = "dev"
    in_transaction = True

    def send(self, session: Session | None, text: Text) -> Result:
        if session is None:
            return Result(FAILED, code="no_session", detail="the dev phone stores texts")
        provider_id = f"dev-{uuid.uuid4().hex}"
        session.add(
            DevPhoneText(
                number=text.to,
                peer=text.sender or "Accord",
                direction="in",
                body=text.body,
                provider_id=provider_id,
            )
        )
        session.flush()
        # A dev phone is always reachable: delivered at once.
        return Result(ACCEPTED, provider_id, "delivered")

    def close(self) -> None:
        return None


def typed(session: Session, number: str, peer: str, body: str) -> str:
    """A text typed on the dev phone as the person: kept, and its id returned for the inbound
    path (which treats it as any provider's inbound text)."""
    provider_id = f"dev-{uuid.uuid4().hex}"
    session.add(
        DevPhoneText(number=number, peer=peer, direction="out", body=body, provider_id=provider_id)
    )
    session.flush()
    return provider_id


def numbers(session: Session, limit: int = 200) -> list[str]:
    """Every number the dev phone has texts for, the most recent first."""
    rows = session.execute(
        select(DevPhoneText.number, DevPhoneText.id).order_by(DevPhoneText.id.desc()).limit(5000)
    ).all()
    return list(dict.fromkeys(number for number, _ in rows))[:limit]


def thread(session: Session, number: str) -> list[DevPhoneText]:
    return list(
        session.scalars(
            select(DevPhoneText).where(DevPhoneText.number == number).order_by(DevPhoneText.id)
        )
    )
