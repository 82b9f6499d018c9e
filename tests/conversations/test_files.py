"""Attachments are told from their bytes; the limit and the allowed types hold."""

from __future__ import annotations

import pytest

from accord.conversations.files import Upload, check, check_all, safe_name, sniff
from accord.core.errors import InvalidInput, PayloadTooLarge
from tests.conversations import PNG


@pytest.mark.parametrize(
    ("data", "kind"),
    [
        (b"%PDF-1.7\n...", "application/pdf"),
        (PNG, "image/png"),
        (b"\xff\xd8\xff\xe0JFIF", "image/jpeg"),
        (b"GIF89a....", "image/gif"),
        (b"RIFF\x00\x00\x00\x00WEBPVP8 ", "image/webp"),
        ("Grüße, plain text\n".encode(), "text/plain"),
        (b"<!DOCTYPE html><script>alert(1)</script>", None),
        (b"<svg xmlns='http://www.w3.org/2000/svg'/>", None),
        (b"MZ\x90\x00\x03\x00\x00\x00", None),  # a Windows executable
        (b"\xff\xfe\x00\x00 not utf-8", None),
    ],
)
def test_sniff(data: bytes, kind: str | None) -> None:
    assert sniff(data) == kind


def test_over_the_limit_is_too_large_naming_the_file() -> None:
    with pytest.raises(PayloadTooLarge, match=r"big\.png"):
        check(Upload("big.png", PNG + b"\x00" * 2048), max_bytes=1024)


def test_a_file_whose_name_lies_is_refused() -> None:
    with pytest.raises(InvalidInput, match=r"should end in \.png"):
        check(Upload("invoice.pdf", PNG), max_bytes=10_000)
    with pytest.raises(InvalidInput, match="not a file type"):
        check(Upload("page.html", b"<html><body>hi</body></html>"), max_bytes=10_000)


def test_empty_and_too_many() -> None:
    with pytest.raises(InvalidInput, match="empty"):
        check(Upload("a.txt", b""), max_bytes=10)
    with pytest.raises(InvalidInput, match="At most 5"):
        check_all([Upload(f"{i}.txt", b"x") for i in range(6)], max_bytes=10)


def test_checked_file_keeps_the_detected_type_and_a_safe_name() -> None:
    checked = check(Upload("C:\\Users\\ada\\photo.PNG", PNG), max_bytes=10_000)
    assert (checked.filename, checked.content_type, checked.size) == (
        "photo.PNG",
        "image/png",
        len(PNG),
    )
    assert safe_name('../../etc/"pass\x00wd"') == "passwd"
