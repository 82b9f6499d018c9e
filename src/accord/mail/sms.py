"""Text messages: to the dev mailbox in the embedded default, else to an HTTP SMS gateway."""

from __future__ import annotations

import json

import httpx
from sqlalchemy.orm import Session

from accord.core.db import after_commit
from accord.core.settings import Settings
from accord.mail.models import DevMailMessage


def send_sms(session: Session, settings: Settings, *, to: str, text: str) -> None:
    """Send after the caller's transaction commits (dev: stored in the same transaction)."""
    if not settings.sms_gateway_url:
        session.add(
            DevMailMessage(
                message_id=f"sms-{to}",
                sender="SMS",
                recipients=to,
                subject=f"SMS to {to}",
                headers_json=json.dumps([["Channel", "sms"], ["To", to]]),
                text_body=text,
                html_body=None,
                raw=text,
            )
        )
        session.flush()
        return
    url, token = settings.sms_gateway_url, settings.sms_gateway_token.get_secret_value()

    def deliver() -> None:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        httpx.post(
            url, json={"to": to, "text": text}, headers=headers, timeout=10
        ).raise_for_status()

    after_commit(session, deliver)
