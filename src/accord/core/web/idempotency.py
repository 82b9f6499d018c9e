"""Idempotency-Key on every API POST: same key and body replays, another body is a 422."""

from __future__ import annotations

import hashlib
import json
from typing import Any

import anyio
from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from accord.core import text
from accord.core.db import Database
from accord.core.idempotency_models import IdempotencyRecord
from accord.core.web.error_body import error_body

HEADER = b"idempotency-key"
FIELD = "Idempotency-Key"
MAX_KEY_LENGTH = 255
# Failures that say nothing about the request itself are not replayed: a retry must be possible.
_NOT_STORED = {401, 403, 409, 429}


def _principal(scope: Scope, headers: dict[bytes, bytes]) -> str:
    auth = headers.get(b"authorization")
    if auth:
        return "k:" + hashlib.sha256(auth).hexdigest()[:60]
    session = scope.get("session") or {}
    who = session.get("member_id") or session.get("person_id") or "anonymous"
    return "s:" + str(who)


async def _json(send: Send, status: int, payload: dict[str, Any], extra: list[Any]) -> None:
    body = json.dumps(payload).encode()
    headers = [(b"content-type", b"application/json"), *extra]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


def _api_post(scope: Scope) -> bool:
    return bool(
        scope["type"] == "http" and scope["method"] == "POST" and scope["path"].startswith("/api/")
    )


def wants_idempotency(scope: Scope) -> bool:
    """An API POST that carries an Idempotency-Key (the web edge sends only these here)."""
    return _api_post(scope) and any(name == HEADER for name, _ in scope["headers"])


class IdempotencyMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        # Only an API POST can carry a key: other requests pass without their headers read.
        headers = dict(scope.get("headers", [])) if _api_post(scope) else {}
        key_bytes = headers.get(HEADER)
        if key_bytes is None:
            await self.app(scope, receive, send)
            return
        key = key_bytes.decode("latin-1").strip()
        if not key or len(key) > MAX_KEY_LENGTH or text.problem(key, one_line=True):
            await _json(
                send,
                422,
                error_body(
                    "InvalidInput",
                    f"Idempotency-Key must be 1 to {MAX_KEY_LENGTH} characters on one line.",
                    FIELD,
                ),
                [],
            )
            return
        body = b""
        more = True
        while more:
            message = await receive()
            body += message.get("body", b"")
            more = message.get("more_body", False)
        digest = hashlib.sha256(scope["path"].encode() + b"\0" + body).hexdigest()
        db: Database = scope["app"].state.db
        principal = _principal(scope, headers)
        found = await anyio.to_thread.run_sync(_claim, db, principal, key, digest)
        if found is not None:
            await self._answer_existing(send, found, digest)
            return

        replayed = False

        async def replay_receive() -> Message:
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        status = 500
        content_type = None
        chunks: list[bytes] = []

        async def capture_send(message: Message) -> None:
            nonlocal status, content_type
            if message["type"] == "http.response.start":
                status = message["status"]
                content_type = dict(message.get("headers", [])).get(b"content-type")
            elif message["type"] == "http.response.body":
                chunks.append(message.get("body", b""))
            await send(message)

        try:
            await self.app(scope, replay_receive, capture_send)
        finally:
            ctype = content_type.decode() if content_type else None
            await anyio.to_thread.run_sync(
                _settle, db, principal, key, status, ctype, b"".join(chunks)
            )

    async def _answer_existing(self, send: Send, found: IdempotencyRecord, digest: str) -> None:
        if found.request_hash != digest:
            await _json(
                send,
                422,
                error_body(
                    "InvalidInput",
                    "This Idempotency-Key was already used with a different request.",
                    FIELD,
                ),
                [],
            )
        elif found.status_code is None:
            await _json(
                send,
                409,
                error_body(
                    "Conflict", "A request with this Idempotency-Key is still in progress.", FIELD
                ),
                [],
            )
        else:
            headers = [(b"idempotent-replayed", b"true")]
            if found.content_type:
                headers.append((b"content-type", found.content_type.encode()))
            await send(
                {"type": "http.response.start", "status": found.status_code, "headers": headers}
            )
            await send({"type": "http.response.body", "body": found.body or b""})


def _claim(db: Database, principal: str, key: str, digest: str) -> IdempotencyRecord | None:
    """Insert a placeholder for this key, or return the record already there."""
    with db.session() as session:
        session.add(IdempotencyRecord(principal=principal, key=key, request_hash=digest))
        try:
            session.commit()
            return None
        except IntegrityError:
            session.rollback()
        found = session.scalars(
            select(IdempotencyRecord).where(
                IdempotencyRecord.principal == principal, IdempotencyRecord.key == key
            )
        ).one()
        session.expunge(found)
        return found


def _settle(
    db: Database, principal: str, key: str, status: int, content_type: str | None, body: bytes
) -> None:
    where = (IdempotencyRecord.principal == principal, IdempotencyRecord.key == key)
    with db.session() as session:
        if status >= 500 or status in _NOT_STORED:
            session.execute(delete(IdempotencyRecord).where(*where))
        else:
            record = session.scalars(select(IdempotencyRecord).where(*where)).one()
            record.status_code = status
            record.content_type = content_type
            record.body = body
        session.commit()
