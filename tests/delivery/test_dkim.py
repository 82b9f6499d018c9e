"""DKIM: marketing mail signed with the configured key verifies against its DNS record, and the
signature covers both List-Unsubscribe headers (RFC 8058 section 4), end to end over SMTP."""

from __future__ import annotations

import base64
import re
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import dkim
import pytest
from aiosmtpd.controller import Controller
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from accord.core.settings import EmailBackend, Settings
from accord.delivery import email_channel
from tests.conftest import RolledBackDatabase
from tests.delivery import send_campaign, world
from tests.smtp_sink import free_port

SELECTOR = "mail2026"
DOMAIN = "accord.example"


@dataclass
class Keys:
    path: Path
    record: bytes


@pytest.fixture(scope="module")
def keys(tmp_path_factory: pytest.TempPathFactory) -> Keys:
    private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    path = tmp_path_factory.mktemp("dkim") / "dkim.pem"
    path.write_bytes(
        private.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    public = private.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return Keys(path, b"v=DKIM1; k=rsa; p=" + base64.b64encode(public))


def dns_for(keys: Keys) -> Any:
    def lookup(name: bytes, timeout: int = 5) -> bytes | None:
        return keys.record if name == f"{SELECTOR}._domainkey.{DOMAIN}.".encode() else None

    return lookup


def signing(settings: Settings, keys: Keys) -> Settings:
    return settings.model_copy(
        update={"dkim_domain": DOMAIN, "dkim_selector": SELECTOR, "dkim_key_file": keys.path}
    )


def tags(message: bytes) -> dict[str, str]:
    found = re.search(rb"^DKIM-Signature:(.*?)\r\n(?![ \t])", message, re.M | re.S)
    assert found is not None
    header = found.group(1).decode()
    pairs = (part.split("=", 1) for part in re.sub(r"\s+", "", header).split(";") if part)
    return {name: value for name, value in pairs}


def test_build_signs_and_the_signature_verifies(settings: Settings, keys: Keys) -> None:
    brand = SimpleNamespace(
        name="Brand é",
        sender_name="Brand é",
        sender_email="news@brand.example",
        postal_address="1 Test Street",
    )
    message = email_channel.build(
        signing(settings, keys),
        brand=brand,
        to="person@people.example",
        key="c:0123:4567:email",
        content=email_channel.Rendered("Hellö " + "news " * 30, "Body ü\n" * 3, "<p>Hi</p>"),
        topic_name="Jazz news",
        marketing=True,
        unsubscribe_token="a-signed-token." + "x" * 120,
    )
    raw = message.raw
    signed = tags(raw)
    covered = signed["h"].lower().split(":")
    assert {"from", "list-unsubscribe", "list-unsubscribe-post"} <= set(covered)
    assert (signed["d"], signed["s"]) == (DOMAIN, SELECTOR)
    assert dkim.verify(raw, dnsfunc=dns_for(keys))
    tampered = raw.replace(b"List-Unsubscribe-Post: List-Unsubscribe=One-Click", b"X-Gone: 1")
    assert not dkim.verify(tampered, dnsfunc=dns_for(keys))


@dataclass
class RawSink:
    """Keeps the exact bytes each message arrived with."""

    received: list[bytes] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        with self.lock:
            self.received.append(envelope.original_content or envelope.content)
        return "250 OK"


@pytest.fixture
def raw_sink() -> Iterator[tuple[RawSink, int]]:
    sink, port = RawSink(), free_port()
    controller = Controller(sink, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield sink, port
    finally:
        controller.stop()


def test_campaign_mail_verifies_as_received_over_smtp(
    client: TestClient,
    session: Session,
    database: RolledBackDatabase,
    settings: Settings,
    keys: Keys,
    raw_sink: tuple[RawSink, int],
) -> None:
    sink, port = raw_sink
    smtp = signing(settings, keys).model_copy(
        update={"email_backend": EmailBackend.smtp, "smtp_host": "127.0.0.1", "smtp_port": port}
    )
    w = world(session, count=2)
    send_campaign(client, database, smtp, w)
    assert len(sink.received) == 2
    for raw in sink.received:
        assert b"List-Unsubscribe-Post: List-Unsubscribe=One-Click" in raw
        assert dkim.verify(raw, dnsfunc=dns_for(keys)), raw[:2000]
        assert {"list-unsubscribe", "list-unsubscribe-post"} <= set(tags(raw)["h"].split(":"))
