"""Benchmark: a campaign on e-mail + in-app + webhook against the e-mail-only run of the same
size, per message.

Goal: sending a campaign to N people on three channels at once (`channel_mode: all`: an
e-mail to a local SMTP sink, an in-app message in each inbox, and a `message.deliver` webhook
for the brand's systems, delivered signed over HTTP to a local receiver) takes at most 1/0.7 of
the time per message of the e-mail-only campaign to the same N people in the same run:
`RESULT multichannel_vs_email` = (3N / multichannel seconds) / (N / e-mail seconds), goal
>= 0.7. N = 100,000 (`--quick`: 2,000).

What is timed: from the moment the campaign is resolved into the outbox until every outbox row
is settled and (multichannel) every webhook delivery has succeeded, one real
`accord.delivery.worker.Worker` in a process of its own running its loop's two steps
(`run_once`, then the webhook deliveries' `webhooks.dispatch.run_once`) until both are idle.
The SMTP sink is `bench/dispatch.py`'s (aiosmtpd, in its own process); the webhook receiver is
an HTTP/1.1 keep-alive server in its own process that answers 204 and counts the distinct
`webhook-id`s. Set-up (not measured): `bench/dispatch.py`'s world (a SQLite file), plus every
person's choice of the in-app and webhook channels and a webhook endpoint that is a message
channel. Checks: N e-mails (N distinct Message-IDs), N inbox items, N distinct webhook ids.
"""

from __future__ import annotations

import argparse
import multiprocessing
import sys
import tempfile
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

from _common import free_port
from _dispatch_sink import start_sink
from _dispatch_workers import settings_for
from _dispatch_world import TEXT, build_world
from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from accord.campaigns import service as campaigns
from accord.campaigns.schemas import CampaignCreate
from accord.core.db import Database, make_engine, utcnow
from accord.delivery.worker import Worker
from accord.inbox.models import InboxItem
from accord.outbox.models import OutboxMessage
from accord.webhooks import dispatch as webhook_dispatch
from accord.webhooks import service as webhooks
from accord.webhooks.models import WebhookDelivery

GOAL = 0.7


def receiver_main(conn: Connection, port: int) -> None:
    ids: set[str] = set()
    count = [0]

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args: Any) -> None:
            pass

        def do_POST(self) -> None:
            self.rfile.read(int(self.headers.get("Content-Length", "0")))
            ids.add(self.headers.get("webhook-id", ""))
            count[0] += 1
            self.send_response(204)
            self.send_header("Content-Length", "0")
            self.end_headers()

    server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
    server.daemon_threads = True
    import threading

    threading.Thread(target=server.serve_forever, daemon=True).start()
    conn.send("ready")
    while True:
        command = conn.recv()
        if command == "stats":
            conn.send((count[0], len(ids)))
        elif command == "stop":
            server.shutdown()
            conn.send("stopped")
            return


def worker_main(url: str, smtp_port: int, var_dir: str, conn: Connection) -> None:
    settings = settings_for(url, smtp_port, var_dir)
    worker = Worker(Database.from_settings(settings), settings)
    conn.send("ready")
    conn.recv()  # go
    began = time.perf_counter()
    while True:
        done = worker.run_once()
        hooks = webhook_dispatch.run_once(worker.db, settings, worker.name, limit=200)
        if done.total or hooks:
            continue
        with worker.db.session() as session:
            left = session.scalar(
                select(func.count()).where(
                    OutboxMessage.state.in_(("queued", "sending")),
                    OutboxMessage.not_before <= utcnow(),
                )
            ) or session.scalar(select(func.count()).where(WebhookDelivery.state == "pending"))
        if not left:
            break
        time.sleep(0.01)
    conn.send(time.perf_counter() - began)


def campaign(engine: Any, world: Any, channels: list[str], name: str) -> int:
    with Session(engine) as session:
        made = campaigns.create(
            session,
            world.brand,
            CampaignCreate(
                name=name,
                topic_id=world.topic,
                channels=channels,  # type: ignore[arg-type]
                channel_mode="all",
                subject="{{ topic.name }}: what is new, {{ person.first_name }}",
                text=TEXT,
            ),
            member_id=None,
        )
        campaigns.send(session, made)
        written = campaigns.resolve(session, made, utcnow())
        session.commit()
    return written


def run(ctx: Any, url: str, smtp_port: int, var_dir: str) -> float:
    parent, child = ctx.Pipe()
    proc = ctx.Process(target=worker_main, args=(url, smtp_port, var_dir, child))
    proc.start()
    if not parent.poll(60) or parent.recv() != "ready":
        raise RuntimeError("the worker did not start")
    parent.send("go")
    seconds = float(parent.recv())
    proc.join(30)
    return seconds


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--quick", action="store_true", help="N = 2,000")
    parser.add_argument("--people", type=int, help="N (default 100,000)")
    args = parser.parse_args()
    n = args.people or (2_000 if args.quick else 100_000)
    ctx = multiprocessing.get_context("spawn")
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{Path(tmp) / 'multichannel.db'}"
        engine = make_engine(url)
        world = build_world(engine, n)
        hook_port = free_port()
        parent, child = ctx.Pipe()
        receiver = ctx.Process(target=receiver_main, args=(child, hook_port))
        receiver.start()
        if not parent.poll(30) or parent.recv() != "ready":
            raise RuntimeError("the webhook receiver did not start")
        sink = start_sink(ctx)
        try:
            with engine.begin() as conn:
                for channel in ("inapp", "webhook"):
                    conn.execute(
                        text(
                            "INSERT INTO channel_choices (person_id, brand_id, purpose, channel) "
                            "SELECT person_id, brand_id, 'marketing', :channel FROM relationships"
                        ),
                        {"channel": channel},
                    )
            settings = settings_for(url, sink.port, tmp)
            with Session(engine) as session:
                webhooks.create_endpoint(
                    session,
                    settings,
                    world.brand,
                    url=f"http://127.0.0.1:{hook_port}/hooks",
                    event_types=[],
                    is_channel=True,
                )
                session.commit()
            print(f"world of {n} people; e-mail only, then e-mail + in-app + webhook")
            written = campaign(engine, world, ["email"], "E-mail only")
            email_seconds = run(ctx, url, sink.port, tmp)
            mails = sink.call("stats")[0]
            written_multi = campaign(engine, world, ["email", "inapp", "webhook"], "Three")
            multi_seconds = run(ctx, url, sink.port, tmp)
            with Session(engine) as session:
                items = session.scalar(select(func.count()).select_from(InboxItem))
            parent.send("stats")
            hooks, hook_ids = parent.recv()
            mails_total = sink.call("stats")[0]
            print(
                f"  e-mail only: {written} rows, {mails} mails in {email_seconds:.2f}s "
                f"({written / email_seconds:.0f}/s)"
            )
            print(
                f"  three channels: {written_multi} rows in {multi_seconds:.2f}s "
                f"({written_multi / multi_seconds:.0f}/s): {mails_total - mails} mails, "
                f"{items} inbox items, {hook_ids} webhook ids ({hooks} requests)"
            )
            if not (mails == n and mails_total - mails == n and items == n and hook_ids == n):
                raise AssertionError("not every message was delivered exactly once")
            ratio = (written_multi / multi_seconds) / (written / email_seconds)
            print(f"RESULT multichannel_vs_email {ratio:.3f}")
            print(f"goal >= {GOAL}: {'met' if ratio >= GOAL else 'NOT met'}")
            sys.stdout.flush()
        finally:
            sink.stop()
            parent.send("stop")
            receiver.join(10)
            engine.dispose()


if __name__ == "__main__":
    main()
