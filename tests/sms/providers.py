"""Real local HTTP servers that behave like SMS providers: a Twilio-compatible Messages API
and a generic JSON gateway. Each checks its credentials, records every text it accepts, and
answers as told per recipient (a queue of answers: 201, 429 with Retry-After, 5xx, a 4xx with
the provider's error code). They also sign callbacks to Accord the way the provider does,
with their own code (not Accord's)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl

from standardwebhooks.webhooks import Webhook

SID, TOKEN = "AC0123456789abcdef0123456789abcdef", "twilio-test-token"
BEARER = "generic-test-token"
SECRET = "whsec_" + base64.b64encode(b"generic gateway test secret 32b").decode()


@dataclass(frozen=True)
class Answer:
    status: int
    body: dict[str, Any]
    headers: dict[str, str] = field(default_factory=dict)


@dataclass
class Provider:
    kind: str
    server: ThreadingHTTPServer | None = None
    texts: list[dict[str, Any]] = field(default_factory=list)
    attempts: list[dict[str, Any]] = field(default_factory=list)
    plans: dict[str, list[Answer]] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)
    arrived: threading.Condition = field(default_factory=threading.Condition)

    @property
    def url(self) -> str:
        assert self.server is not None
        host, port = self.server.server_address[:2]
        return f"http://{host!s}:{port}"

    def answer(self, to: str, *answers: Answer) -> None:
        """The next answers for texts to `to`, in order; then 201 again."""
        with self.lock:
            self.plans.setdefault(to, []).extend(answers)

    def next_answer(self, to: str) -> Answer | None:
        with self.lock:
            queue = self.plans.get(to)
            return queue.pop(0) if queue else None

    def texts_to(self, to: str) -> list[dict[str, Any]]:
        with self.lock:
            return [t for t in self.texts if t["to"] == to]

    def wait_for(self, count: int, timeout: float = 10.0) -> list[dict[str, Any]]:
        """Wait until `count` texts have been accepted (a deadline, not a sleep)."""
        with self.arrived:
            self.arrived.wait_for(lambda: len(self.texts) >= count, timeout=timeout)
        return list(self.texts)

    def record(self, text: dict[str, Any]) -> str:
        provider_id = ("SM" if self.kind == "twilio" else "gw-") + uuid.uuid4().hex
        with self.arrived:
            with self.lock:
                self.texts.append({**text, "id": provider_id})
            self.arrived.notify_all()
        return provider_id


class ProviderHandler(BaseHTTPRequestHandler):
    """The provider's HTTP API; `provider` is set by a subclass per provider (`_handler`)."""

    provider: Provider
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:
        return None

    def _reply(self, status: int, body: dict[str, Any], headers: dict[str, str]) -> None:
        raw = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(raw)))
        for name, value in headers.items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(raw)

    def do_POST(self) -> None:
        raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        if self.provider.kind == "twilio":
            self._twilio(raw)
        else:
            self._generic(raw)

    def _twilio(self, raw: bytes) -> None:
        expected = "Basic " + base64.b64encode(f"{SID}:{TOKEN}".encode()).decode()
        if self.headers.get("Authorization") != expected:
            self._reply(401, {"code": 20003, "message": "Authenticate", "status": 401}, {})
            return
        if self.path != f"/2010-04-01/Accounts/{SID}/Messages.json":
            self._reply(404, {"code": 20404, "message": "Not found", "status": 404}, {})
            return
        form = dict(parse_qsl(raw.decode()))
        text = {
            "to": form.get("To"),
            "from": form.get("From"),
            "body": form.get("Body"),
            "status_callback": form.get("StatusCallback"),
        }
        self._answer(text, lambda pid: {"sid": pid, "status": "queued", "to": text["to"]})

    def _generic(self, raw: bytes) -> None:
        if self.headers.get("Authorization") != f"Bearer {BEARER}":
            self._reply(401, {"code": "unauthorised", "message": "bad token"}, {})
            return
        body = json.loads(raw)
        text = {
            "to": body.get("to"),
            "from": body.get("from"),
            "body": body.get("text"),
            "reference": body.get("reference"),
            "status_callback": body.get("status_url"),
        }
        self._answer(text, lambda pid: {"id": pid, "status": "queued"})

    def _answer(self, text: dict[str, Any], success: Any) -> None:
        with self.provider.lock:
            self.provider.attempts.append(text)
        planned = self.provider.next_answer(str(text["to"]))
        if planned is not None and planned.status >= 300:
            self._reply(planned.status, planned.body, planned.headers)
            return
        provider_id = self.provider.record(text)
        self._reply(201, success(provider_id), {})


def _handler(provider: Provider) -> type[BaseHTTPRequestHandler]:
    return type("Handler", (ProviderHandler,), {"provider": provider})


@contextmanager
def running(kind: str) -> Iterator[Provider]:
    provider = Provider(kind)
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(provider))
    server.daemon_threads = True
    provider.server = server
    thread = threading.Thread(
        target=server.serve_forever,
        kwargs={"poll_interval": 0.05},
        name=f"fake-{kind}",
        daemon=True,
    )
    thread.start()
    try:
        yield provider
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


# --- callbacks as the providers sign them --------------------------------------------------


def twilio_signature(token: str, url: str, params: dict[str, str]) -> str:
    """Twilio's published algorithm, written out here independently of Accord's."""
    payload = url + "".join(f"{key}{params[key]}" for key in sorted(params))
    mac = hmac.new(token.encode("utf-8"), payload.encode("utf-8"), hashlib.sha1)
    return base64.b64encode(mac.digest()).decode()


def generic_headers(body: bytes, secret: str = SECRET) -> dict[str, str]:
    msg_id = "msg_" + uuid.uuid4().hex
    now = datetime.now(UTC)
    signature = Webhook(secret).sign(msg_id, now, body.decode())
    return {
        "webhook-id": msg_id,
        "webhook-timestamp": str(int(now.timestamp())),
        "webhook-signature": signature,
        "content-type": "application/json",
    }
