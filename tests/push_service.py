"""A real local Web Push service for tests: an HTTP server that checks each request the way a
browser vendor's push service does (RFC 8030 `TTL`, RFC 8292 VAPID JWT signed with the key in
`k`, `aud` its own origin, `exp` within 24 hours) and decrypts the body (RFC 8291 `aes128gcm`)
with the browser-side keys it made for the subscription, so encryption is proven end to end.

Each subscription has a behaviour: `ok` (201), `404`/`410` (gone), any other status, or
`hang` (never answers until the server closes: a timeout)."""

from __future__ import annotations

import base64
import json
import secrets
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import http_ece
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def unb64url(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


@dataclass
class Browser:
    """One subscription's browser side: its ECDH key pair and auth secret."""

    token: str
    behaviour: str
    private_key: ec.EllipticCurvePrivateKey
    auth: bytes

    @property
    def p256dh(self) -> str:
        point = self.private_key.public_key().public_bytes(
            serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
        )
        return b64url(point)


@dataclass
class Received:
    token: str
    plaintext: bytes
    headers: dict[str, str]
    claims: dict[str, Any]

    def json(self) -> Any:
        return json.loads(self.plaintext)


@dataclass
class PushService:
    server: ThreadingHTTPServer
    browsers: dict[str, Browser] = field(default_factory=dict)
    received: list[Received] = field(default_factory=list)
    refused: list[str] = field(default_factory=list)
    arrived: threading.Condition = field(default_factory=threading.Condition)
    closing: threading.Event = field(default_factory=threading.Event)

    @property
    def origin(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host!s}:{port}"

    def subscribe(self, behaviour: str = "ok") -> dict[str, Any]:
        """A new browser subscription, as `PushSubscription.toJSON()` gives it."""
        browser = Browser(
            secrets.token_urlsafe(12),
            behaviour,
            ec.generate_private_key(ec.SECP256R1()),
            secrets.token_bytes(16),
        )
        self.browsers[browser.token] = browser
        return {
            "endpoint": f"{self.origin}/push/{browser.token}",
            "expirationTime": None,
            "keys": {"p256dh": browser.p256dh, "auth": b64url(browser.auth)},
        }

    def wait_for(self, count: int, timeout: float = 10.0) -> list[Received]:
        deadline = time.monotonic() + timeout
        with self.arrived:
            while len(self.received) < count:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(f"{len(self.received)} push message(s), not {count}")
                self.arrived.wait(left)
        return list(self.received)

    def close(self) -> None:
        self.closing.set()
        self.server.shutdown()
        self.server.server_close()


def check_vapid(authorization: str, origin: str) -> dict[str, Any]:
    """RFC 8292: `vapid t=<JWT>, k=<public key>`; the JWT is ES256 under k, for this origin."""
    scheme, _, rest = authorization.partition(" ")
    if scheme.lower() != "vapid":
        raise ValueError("not a vapid authorization")
    params = dict(part.strip().split("=", 1) for part in rest.split(","))
    token, key = params["t"], unb64url(params["k"])
    public = ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), key)
    header_b64, claims_b64, signature_b64 = token.split(".")
    header = json.loads(unb64url(header_b64))
    if header.get("alg") != "ES256":
        raise ValueError("alg is not ES256")
    raw = unb64url(signature_b64)
    if len(raw) != 64:
        raise ValueError("an ES256 signature is 64 bytes")
    signature = encode_dss_signature(int.from_bytes(raw[:32]), int.from_bytes(raw[32:]))
    public.verify(signature, f"{header_b64}.{claims_b64}".encode(), ec.ECDSA(hashes.SHA256()))
    claims: dict[str, Any] = json.loads(unb64url(claims_b64))
    if claims.get("aud") != origin:
        raise ValueError(f"aud {claims.get('aud')!r} is not {origin}")
    exp = int(claims["exp"])
    if not time.time() < exp <= time.time() + 24 * 3600:
        raise ValueError("exp is not within the next 24 hours")
    if not str(claims.get("sub", "")).startswith(("mailto:", "https:")):
        raise ValueError("sub is not a mailto: or https: URL")
    claims["k"] = params["k"]
    return claims


def open_message(headers: Any, body: bytes, browser: Any, origin: str) -> tuple[Any, bytes]:
    """What a push service checks of a message (TTL, encoding, VAPID), and its plaintext."""
    if "TTL" not in headers:
        raise ValueError("no TTL header")
    if headers.get("Content-Encoding") != "aes128gcm":
        raise ValueError("not aes128gcm")
    claims = check_vapid(headers.get("Authorization", ""), origin)
    plaintext = http_ece.decrypt(
        body, private_key=browser.private_key, auth_secret=browser.auth, version="aes128gcm"
    )
    return claims, plaintext


def start_push_service() -> PushService:
    service: PushService

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: Any) -> None:
            pass

        def _answer(self, status: int, body: bytes = b"", **headers: str) -> None:
            self.send_response(status)
            for name, value in headers.items():
                self.send_header(name.replace("_", "-"), value)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def do_POST(self) -> None:
            token = self.path.rsplit("/", 1)[-1]
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            browser = service.browsers.get(token)
            if browser is None:
                return self._answer(404)
            if browser.behaviour == "hang":
                service.closing.wait()
                return None
            if browser.behaviour != "ok":
                return self._answer(int(browser.behaviour), b"gone", Retry_After="7")
            try:
                claims, plaintext = open_message(self.headers, body, browser, service.origin)
            except Exception as exc:  # each refusal is recorded for the test to read
                service.refused.append(f"{type(exc).__name__}: {exc}")
                return self._answer(403, b"bad request")
            with service.arrived:
                service.received.append(
                    Received(
                        token, plaintext, {k.lower(): v for k, v in self.headers.items()}, claims
                    )
                )
                service.arrived.notify_all()
            return self._answer(201, Location=f"{service.origin}/message/{secrets.token_hex(4)}")

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    service = PushService(server)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return service
