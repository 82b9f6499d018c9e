"""Security headers on every response: a strict Content-Security-Policy and its companions.

The web edge (`accord.core.web.edge`) adds them to every answer, errors and static files
included.

The policy allows scripts, styles, fonts and images from Accord itself only: no inline
`<script>`, no `style=` attributes, no `onclick=` handlers, no CDN. JavaScript and CSS go in
static files served by Accord. A page that cannot avoid an inline script (a third-party page
such as the API docs) sets its own `Content-Security-Policy` built with `policy(...)` and the
hash of that script; the edge leaves a policy a route set alone and adds the rest.

With an https base URL, browsers are also told to use https only (HSTS); the session cookie
is then `Secure` (see `accord.app`).
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Iterable

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


def static_headers(https: bool) -> list[tuple[bytes, bytes]]:
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
