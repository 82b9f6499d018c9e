"""Per-thread reply addresses, `reply+<thread>.<mac>@<reply domain>`, signed with the instance
key: an address names its thread and cannot be made up or altered.

The thread id is written in lower-case base32 (26 characters) and the MAC is the first 80 bits
of HMAC-SHA-256 under a key derived from the instance's secret key, also base32 (16): the local
part stays at 49 characters (RFC 5321 allows 64), and some mail systems lower-case local parts,
which base32 survives.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import uuid
from urllib.parse import urlsplit

from accord.core.settings import Settings

PREFIX = "reply+"
_LOCAL = re.compile(r"^reply\+([a-z2-7]{26})\.([a-z2-7]{16})$")


def reply_domain(settings: Settings) -> str:
    return settings.reply_domain or urlsplit(settings.base_url).hostname or "accord.localhost"


def _b32(raw: bytes) -> str:
    return base64.b32encode(raw).decode("ascii").rstrip("=").lower()


def _mac(settings: Settings, thread_part: str) -> str:
    key = hmac.new(
        settings.resolved_secret_key().encode(), b"conversation reply address", hashlib.sha256
    ).digest()
    return _b32(hmac.new(key, thread_part.encode(), hashlib.sha256).digest()[:10])


def address_for(settings: Settings, thread_id: uuid.UUID) -> str:
    thread_part = _b32(thread_id.bytes)
    return f"{PREFIX}{thread_part}.{_mac(settings, thread_part)}@{reply_domain(settings)}"


def is_reply_address(address: str) -> bool:
    """Whether the address is meant for a thread (signed or not): starts with `reply+`."""
    return address.strip().strip("<>").lower().startswith(PREFIX)


def thread_of(settings: Settings, address: str) -> uuid.UUID | None:
    """The thread a reply address names, or None when it is forged, altered or not ours."""
    local, _, domain = address.strip().strip("<>").lower().rpartition("@")
    if domain != reply_domain(settings).lower():
        return None
    match = _LOCAL.match(local)
    if match is None:
        return None
    thread_part, mac = match.groups()
    if not hmac.compare_digest(mac, _mac(settings, thread_part)):
        return None
    raw = base64.b32decode(thread_part.upper() + "======")
    return uuid.UUID(bytes=raw)
