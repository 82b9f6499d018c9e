"""Attachments: which files are allowed, told from their bytes (never from the name or the
type a browser or mail program claims), and how large they may be."""

from __future__ import annotations

import hashlib
import re
import unicodedata
from dataclasses import dataclass

from accord.core.errors import InvalidInput, PayloadTooLarge

MAX_FILES = 5
# Detected type → the file name endings that may carry it.
ALLOWED: dict[str, tuple[str, ...]] = {
    "application/pdf": (".pdf",),
    "image/png": (".png",),
    "image/jpeg": (".jpg", ".jpeg"),
    "image/gif": (".gif",),
    "image/webp": (".webp",),
    "text/plain": (".txt", ".log", ".csv"),
}
ALLOWED_TEXT = "PDF, PNG, JPEG, GIF, WebP or plain text"


@dataclass(frozen=True)
class Upload:
    """A file as received, before any check."""

    filename: str
    data: bytes


@dataclass(frozen=True)
class CheckedFile:
    filename: str
    content_type: str
    size: int
    sha256: str
    data: bytes


def sniff(data: bytes) -> str | None:
    """The type of these bytes, when it is one Accord accepts."""
    if data.startswith(b"%PDF-"):
        return "application/pdf"
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if data.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if data.startswith((b"GIF87a", b"GIF89a")):
        return "image/gif"
    if len(data) >= 12 and data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    if b"\x00" in data:
        return None
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        return None
    # Markup is not plain text: a browser could be made to run it.
    head = text.lstrip()[:512].lower()
    if head.startswith(("<!doctype", "<html", "<svg", "<?xml", "<script")):
        return None
    return "text/plain"


def safe_name(filename: str) -> str:
    """The file's own name (no folders), printable, at most 200 characters."""
    name = unicodedata.normalize("NFC", filename).replace("\\", "/").rsplit("/", 1)[-1]
    name = re.sub(r"[\x00-\x1f\x7f\"]", "", name).strip().strip(".")
    return name[-200:] or "attachment"


def check(upload: Upload, *, max_bytes: int, field: str = "attachments") -> CheckedFile:
    name = safe_name(upload.filename)
    if not upload.data:
        raise InvalidInput(f"{name} is empty.", field=field)
    if len(upload.data) > max_bytes:
        raise PayloadTooLarge(
            f"{name} is {_size(len(upload.data))}; attachments may be at most {_size(max_bytes)}.",
            field=field,
        )
    kind = sniff(upload.data)
    if kind is None:
        raise InvalidInput(
            f"{name} is not a file type Accord accepts ({ALLOWED_TEXT}).", field=field
        )
    if not name.lower().endswith(ALLOWED[kind]):
        raise InvalidInput(
            f"{name} does not look like its name says: its content is {kind}, which should end "
            f"in {' or '.join(ALLOWED[kind])}.",
            field=field,
        )
    return CheckedFile(
        filename=name,
        content_type=kind,
        size=len(upload.data),
        sha256=hashlib.sha256(upload.data).hexdigest(),
        data=upload.data,
    )


def check_all(
    uploads: list[Upload], *, max_bytes: int, field: str = "attachments"
) -> list[CheckedFile]:
    if len(uploads) > MAX_FILES:
        raise InvalidInput(f"At most {MAX_FILES} attachments per message.", field=field)
    return [check(u, max_bytes=max_bytes, field=field) for u in uploads]


def _size(n: int) -> str:
    if n >= 1024 * 1024:
        return f"{n / (1024 * 1024):.1f} MB"
    if n >= 1024:
        return f"{n / 1024:.0f} KB"
    return f"{n} bytes"
