"""Security headers on every response: a strict Content-Security-Policy and its companions.

The policy allows scripts, styles, fonts and images from Accord itself only: no inline
`<script>`, no `style=` attributes, no `onclick=` handlers, no CDN. JavaScript and CSS go in
static files served by Accord. A page that cannot avoid an inline script (a third-party page
such as the API docs) sets its own `Content-Security-Policy` built with `policy(...)` and the
hash of that script; the middleware leaves a policy a route set alone and adds the rest.

With an https base URL, browsers are also told to use https only (HSTS); the session cookie
is then `Secure` (see `accord.app`).
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Iterable

from starlette.types import ASGIApp, Message, Receive, Scope, Send

CSP = "content-security-policy"
HSTS_SECONDS = 63_072_000  # two years, as the HSTS preload list asks


def script_hash(source: str) -> str:
    """The CSP source for one inline script (or style) element's exact text."""
    digest = hashlib.sha256(source.encode()).digest()
    return f"'sha256-{base64.b64encode(digest).decode()}'"


def policy(*, script_hashes: Iterable[str] = (), style_hashes: Iterable[str] = ()) -> str:
    """Accord's Content-Security-Policy, optionally allowing inline elements by hash."""
    scripts = " ".join(["'self'", *script_hashes])
    styles = " ".join(["'self'", *style_hashes])
    return "; ".join(
        [
            "default-src 'self'",
            f"script-src {scripts}",
            f"style-src {styles}",
            "img-src 'self' data:",
            "font-src 'self'",
            "connect-src 'self'",
            "object-src 'none'",
            "base-uri 'none'",
            "form-action 'self'",
            "frame-ancestors 'none'",
        ]
    )


def _static_headers(https: bool) -> list[tuple[bytes, bytes]]:
    headers = [
        (b"x-content-type-options", b"nosniff"),
        (b"referrer-policy", b"same-origin"),
        (b"x-frame-options", b"DENY"),
        (b"cross-origin-opener-policy", b"same-origin"),
        (b"permissions-policy", b"camera=(), microphone=(), geolocation=(), interest-cohort=()"),
    ]
    if https:
        headers.append((b"strict-transport-security", f"max-age={HSTS_SECONDS}".encode()))
    return headers


class SecurityHeaders:
    """Adds the headers to every HTTP response, errors and static files included."""

    def __init__(self, app: ASGIApp, *, https: bool) -> None:
        self.app = app
        self.headers = _static_headers(https)
        self.policy = policy().encode()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                present = {name.lower() for name, _ in message.get("headers", [])}
                added = [(n, v) for n, v in self.headers if n not in present]
                if CSP.encode() not in present:
                    added.append((CSP.encode(), self.policy))
                message["headers"] = [*message.get("headers", []), *added]
            await send(message)

        await self.app(scope, receive, with_headers)
