"""A real local HTTP receiver for webhooks: verifies every request with the `standardwebhooks`
package (signature, timestamp tolerance), answers statuses from a script, and keeps what it
received, dropping copies by `webhook-id` as a well-behaved receiver does."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from standardwebhooks.webhooks import Webhook, WebhookVerificationError


@dataclass
class Receiver:
    server: ThreadingHTTPServer
    secret: str = ""
    # Statuses to answer, in order; once used up, 200.
    script: list[int] = field(default_factory=list)
    verified: list[dict[str, Any]] = field(default_factory=list)
    ids: list[str] = field(default_factory=list)
    rejected: list[str] = field(default_factory=list)
    requests: int = 0
    lock: threading.Condition = field(default_factory=threading.Condition)

    @property
    def url(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host!s}:{port}/hooks"

    @property
    def unique(self) -> list[dict[str, Any]]:
        seen: dict[str, dict[str, Any]] = {}
        for webhook_id, payload in zip(self.ids, self.verified, strict=True):
            seen.setdefault(webhook_id, payload)
        return list(seen.values())

    def wait_for(self, count: int, timeout: float = 10.0) -> None:
        deadline = time.monotonic() + timeout
        with self.lock:
            while self.requests < count:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(f"{self.requests} request(s), not {count}")
                self.lock.wait(left)

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def start_receiver() -> Receiver:
    receiver: Receiver

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: Any) -> None:
            pass

        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            headers = {k.lower(): v for k, v in self.headers.items()}
            with receiver.lock:
                status = receiver.script.pop(0) if receiver.script else 200
                try:
                    payload = Webhook(receiver.secret).verify(body, headers)
                except WebhookVerificationError as exc:
                    receiver.rejected.append(str(exc))
                    status = 400
                else:
                    if 200 <= status < 300:
                        receiver.verified.append(payload)
                        receiver.ids.append(headers["webhook-id"])
                receiver.requests += 1
                receiver.lock.notify_all()
            reply = b'{"ok": true}' if status < 300 else b"receiver says no"
            self.send_response(status)
            if status == 429:
                self.send_header("Retry-After", "120")
            self.send_header("Content-Length", str(len(reply)))
            self.end_headers()
            self.wfile.write(reply)

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    receiver = Receiver(server)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return receiver
