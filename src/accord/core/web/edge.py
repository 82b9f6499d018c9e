"""The web edge: one middleware for what every request passes through on its way in and out.

In order, outermost first (as separate middlewares they were five layers, each wrapping `send`
again, and together cost a request as much of the event loop's time as its own route):

1. security headers on every answer (`security_headers`), the size limit's 413 included;
2. the body size limit (`body_limit`): by Content-Length at once, else by counting the bytes
   read (only a body without a Content-Length needs counting: the server never hands on more
   bytes than that header announces);
3. the session cookie, as Starlette's `SessionMiddleware` reads and writes it (a signed
   cookie holding a JSON object; `Vary: Cookie` when a route read it, `Set-Cookie` when it
   changed it);
4. Idempotency-Key on an API POST that carries one (`idempotency`);
5. SQLite: a request whose database was busy runs again (`busy_retry`).

The response's headers are completed in one `send` wrapper. Requests a step does not apply to
skip it without a frame of their own: a read never needs the retry's replayed body, only an API
POST reads Idempotency-Key.
"""

from __future__ import annotations

import json
import time
from base64 import b64decode, b64encode
from collections.abc import Callable, Iterable
from typing import Literal

import itsdangerous
from itsdangerous.encoding import base64_decode, bytes_to_int
from itsdangerous.exc import BadSignature
from starlette.datastructures import MutableHeaders
from starlette.middleware.sessions import Session
from starlette.requests import cookie_parser
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from accord.core.web import body_limit, busy_retry
from accord.core.web.idempotency import IdempotencyMiddleware, wants_idempotency
from accord.core.web.security_headers import CSP, policy, static_headers

Started = Callable[[], bool]
_REMEMBERED = 4096  # valid session cookies whose check is remembered (`Edge._session_json`)
_READS = frozenset({"GET", "HEAD", "OPTIONS"})
_CSP = CSP.encode()


class Edge:
    def __init__(
        self,
        app: ASGIApp,
        *,
        https: bool,
        max_bytes: int,
        secret_key: str,
        session_cookie: str,
        max_age: int,
        same_site: Literal["lax", "strict", "none"] = "lax",
        sqlite: bool,
    ) -> None:
        self.app = app
        self.sqlite = sqlite
        self.max_bytes = max_bytes
        # Idempotency wraps the retry: a busy request runs again before its answer is recorded.
        self.idempotent = IdempotencyMiddleware(self._retrying if sqlite else app)
        self.security = static_headers(https)
        self.policy = policy().encode()
        self.signer = itsdangerous.TimestampSigner(secret_key)
        self.cookie = session_cookie
        self.max_age = max_age
        self._checked: dict[bytes, tuple[str, int]] = {}
        self.flags = f"httponly; samesite={same_site}" + ("; secure" if https else "")

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        length, cookie = _length_and_cookie(scope["headers"])
        if length is not None and length.isdigit() and int(length) > self.max_bytes:
            await self._refuse(send)
            return
        raw = self._session_json(cookie)
        scope["session"] = Session(json.loads(raw)) if raw is not None else Session()
        started = False

        async def edge_send(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
                self._session_headers(message, scope["session"], had_session=raw is not None)
                self._secure(message)
            await send(message)

        if length is None:  # only a body without a length can grow past the limit unseen
            receive = body_limit.counting(receive, self.max_bytes)
        try:
            await self._dispatch(scope, receive, edge_send, raw, lambda: started)
        except body_limit.TooLarge:
            if not started:
                await self._refuse(send)

    async def _dispatch(
        self, scope: Scope, receive: Receive, send: Send, raw: str | None, started: Started
    ) -> None:
        if wants_idempotency(scope):
            await self.idempotent(scope, receive, send)
        elif not self.sqlite:
            await self.app(scope, receive, send)
        else:
            # The retry replays the whole body: read it now.
            body = b"" if scope["method"] in _READS else await body_limit.read_body(receive)
            if body is None:  # the client left: let the app see it
                await self.app(scope, receive, send)
            else:
                await busy_retry.run(
                    self.app, scope, receive, send, body=body, session_json=raw, started=started
                )

    async def _retrying(self, scope: Scope, receive: Receive, send: Send) -> None:
        """An idempotent request on SQLite: the retry goes inside idempotency, so that a busy
        request runs again before its answer is recorded (idempotency replays the body)."""
        if scope["method"] in _READS:
            body: bytes | None = b""
        else:
            body = await body_limit.read_body(receive)
        if body is None:
            await self.app(scope, receive, send)
            return
        started = False

        async def tracking(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        raw = json.dumps(scope["session"]) if scope["session"] else None
        await busy_retry.run(
            self.app, scope, receive, tracking,
            body=body, session_json=raw, started=lambda: started,
        )  # fmt: skip

    def _session_json(self, cookie: bytes | None) -> str | None:
        """The session's JSON text from a validly signed, unexpired cookie; None otherwise.

        Checking a signature (a key derived by HMAC, the HMAC, base64) is the same work for the
        same cookie on every request of a session: a valid one's outcome (its JSON and when it
        was signed) is remembered by the whole Cookie header, for a bounded number of them, and
        only its age is checked again, as itsdangerous checks it. A cookie that fails is never
        remembered (nobody can fill the memory with forgeries)."""
        if cookie is None:
            return None
        found = self._checked.get(cookie)
        if found is not None:
            raw, signed_at = found
            age = int(time.time()) - signed_at
            return raw if 0 <= age <= self.max_age else None
        value = cookie_parser(cookie.decode("latin-1")).get(self.cookie)
        if value is None:
            return None
        signed = value.encode("utf-8")
        try:
            data = self.signer.unsign(signed, max_age=self.max_age)
        except BadSignature:
            return None
        raw = b64decode(data).decode("utf-8")
        if len(self._checked) >= _REMEMBERED:
            self._checked.clear()
        # payload.timestamp.signature: the timestamp itsdangerous has just checked.
        self._checked[cookie] = (raw, bytes_to_int(base64_decode(signed.rsplit(b".", 2)[1])))
        return raw

    def _session_headers(self, message: Message, session: Session, *, had_session: bool) -> None:
        """As Starlette's SessionMiddleware: `Vary: Cookie` when the route read the session,
        the cookie again when it changed it, an expired one when it cleared it."""
        if not session.accessed:
            return
        raw = message.get("headers")
        if not isinstance(raw, list):
            raw = message["headers"] = list(raw or [])
        if any(name.lower() == b"vary" for name, _ in raw):
            MutableHeaders(raw=raw).add_vary_header("Cookie")  # appended to the route's own
        else:
            raw.append((b"vary", b"Cookie"))  # as add_vary_header would, without its object
        if not session.modified:
            return
        headers = MutableHeaders(raw=raw)
        if session:
            data = self.signer.sign(b64encode(json.dumps(session).encode("utf-8")))
            headers.append(
                "Set-Cookie",
                f"{self.cookie}={data.decode('utf-8')}; path=/; Max-Age={self.max_age}; "
                f"{self.flags}",
            )
        elif had_session:
            headers.append(
                "Set-Cookie",
                f"{self.cookie}=null; path=/; expires=Thu, 01 Jan 1970 00:00:00 GMT; {self.flags}",
            )

    def _secure(self, message: Message) -> None:
        """The security headers a route did not set itself, after its own."""
        headers = message.get("headers", [])
        present = {name.lower() for name, _ in headers}
        added = [(n, v) for n, v in self.security if n not in present]
        if _CSP not in present:
            added.append((_CSP, self.policy))
        message["headers"] = [*headers, *added]

    async def _refuse(self, send: Send) -> None:
        start = body_limit.refusal(self.max_bytes)
        self._secure(start)
        await send(start)
        await send({"type": "http.response.body", "body": body_limit.error(self.max_bytes)})


def _length_and_cookie(headers: Iterable[tuple[bytes, bytes]]) -> tuple[bytes | None, bytes | None]:
    """Content-Length (the last, as a dict of the headers would keep) and the first Cookie
    header (as Starlette reads it)."""
    length: bytes | None = None
    cookie: bytes | None = None
    for name, value in headers:
        if name == b"content-length":
            length = value
        elif name == b"cookie" and cookie is None:
            cookie = value
    return length, cookie
