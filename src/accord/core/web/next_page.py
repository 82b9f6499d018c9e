"""Where to go after signing in: back to the page the person asked for, never off the site."""

from __future__ import annotations

from urllib.parse import quote, urlsplit

FIELD = "next"


def safe_next(value: str | None, default: str) -> str:
    """`value` when it is a path on this site ("/console/campaigns?x=1"), else `default`:
    no scheme, no host, no protocol-relative "//host", no backslash (browsers read "/\\host"
    as a host), no control characters."""
    if not value or len(value) > 2000 or not value.startswith("/") or value.startswith("//"):
        return default
    if "\\" in value or any(ord(c) < 32 or ord(c) == 127 for c in value):
        return default
    parts = urlsplit(value)
    if parts.scheme or parts.netloc:
        return default
    return value


def sign_in_url(sign_in: str, path: str, query: str) -> str:
    """The sign-in page, remembering the page asked for (when there is one worth returning to)."""
    asked = path + (f"?{query}" if query else "")
    if safe_next(asked, "") in ("", "/", sign_in):
        return sign_in
    return f"{sign_in}?{FIELD}={quote(asked, safe='/')}"
