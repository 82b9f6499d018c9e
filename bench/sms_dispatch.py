"""Benchmark: one delivery worker's SMS throughput through the generic JSON gateway, against a
plain httpx loop.

Goal: one real `accord.delivery.worker.Worker` (in a process of its own, default batch and
lease settings, `ACCORD_SMS_GATEWAY=generic`) sending an SMS campaign of N texts to a local
HTTP sink that behaves like the generic gateway (answers 200 `{"id", "status": "queued"}`)
reaches at least 0.5x the throughput of a plain `httpx.Client` loop (one keep-alive connection,
in a process of its own) POSTing the same N bodies (byte for byte what the worker sent, as the
sink received them) with the same bearer token to the same sink and reading each answer's id,
measured in the same run: `RESULT sms_dispatch_vs_httpx` = (N / worker seconds) / (N / floor
seconds), goal >= 0.5. N = 20,000 (`--quick`: 2,000).

What the worker's time covers: from "go" until no text is queued or being sent: claiming rows,
the gate's check of each person just before sending (legal window with the rules table loaded,
caps, consent, channel and topic), rendering the template, adding the brand's name and the STOP
line, counting segments, the POST and its answer, and recording every verdict with the
provider's id. The sink is an asyncio HTTP/1.1 keep-alive server in its own process (so it does
not share the GIL with either sender); it records every body, and every run must deliver each
of its N texts exactly once (N distinct `reference`s) with every outbox row `sent` and carrying
the sink's id.

Set-up (not measured): `bench/dispatch.py`'s world (a SQLite file made by
`accord.core.migrate.upgrade`, which loads the shipped legal rules; brand, topic and N people
with marketing granted, set-based), plus for everyone a verified US mobile number
(+1 202 ...), SMS chosen for marketing, the place US, and a time zone where it is midday now
(so the TCPA window, 08:00-21:00 local, is open whenever the benchmark runs). The brand
registers its sending number. Each round's campaign goes through `accord.campaigns.service`:
create -> send -> resolve. Rounds are interleaved (worker, floor, ...); the best of each is kept.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing
import sys
import tempfile
import time
from datetime import UTC, datetime
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

import httpx
from _common import free_port
from _dispatch_workers import settings_for as email_settings_for
from _dispatch_world import World, build_world
from pydantic import SecretStr
from sqlalchemy import bindparam, func, select, text
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from accord.campaigns import service as campaigns
from accord.campaigns.schemas import CampaignCreate
from accord.core.db import Database, UTCDateTime, make_engine, utcnow
from accord.core.settings import Settings, SmsGatewayKind
from accord.delivery.worker import Worker
from accord.outbox.models import OutboxMessage
from accord.sms import numbers

GOAL = 0.5
FULL, QUICK = 20_000, 2_000
BEARER = "bench-sms-token"
SENDER = "+12025550100"
SMS_TEXT = "{{ topic.name }}: new records are in for you, {{ person.first_name }}. See you soon!"


# --- the sink: a generic SMS gateway that answers at once --------------------------------------


class GatewaySink(asyncio.Protocol):
    """HTTP/1.1 keep-alive: each POST's body is kept and answered 200 {"id", "status"}."""

    bodies: list[bytes] = []

    def connection_made(self, transport: Any) -> None:
        self.transport = transport
        self.buffer = b""

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        while True:
            end = self.buffer.find(b"\r\n\r\n")
            if end < 0:
                return
            length = 0
            for line in self.buffer[:end].split(b"\r\n")[1:]:
                name, _, value = line.partition(b":")
                if name.strip().lower() == b"content-length":
                    length = int(value)
            if len(self.buffer) < end + 4 + length:
                return
            body = self.buffer[end + 4 : end + 4 + length]
            self.buffer = self.buffer[end + 4 + length :]
            GatewaySink.bodies.append(body)
            answer = b'{"id":"gw-%d","status":"queued"}' % len(GatewaySink.bodies)
            self.transport.write(
                b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n%s"
                % (len(answer), answer)
            )


def sink_main(conn: Connection, port: int) -> None:
    loop = asyncio.new_event_loop()
    server = loop.run_until_complete(loop.create_server(GatewaySink, "127.0.0.1", port))

    def command() -> None:
        what = conn.recv()
        if what == "take":  # the bodies received since the last "take"
            conn.send(GatewaySink.bodies)
            GatewaySink.bodies = []
        elif what == "stop":
            server.close()
            loop.stop()
            conn.send("stopped")

    loop.add_reader(conn.fileno(), command)
    conn.send("ready")
    loop.run_forever()


# --- the world ---------------------------------------------------------------------------------


def midday_zone(now: datetime) -> str:
    """An IANA zone where it is about noon at `now` (Etc/GMT-5 is UTC+5)."""
    offset = 12 - now.astimezone(UTC).hour
    offset = offset - 24 if offset > 12 else offset
    return "Etc/GMT" + (f"+{-offset}" if offset < 0 else f"-{offset}")


def texting_world(engine: Engine, people: int) -> World:
    world = build_world(engine, people)
    created = utcnow()
    with engine.begin() as conn:
        conn.execute(
            text("UPDATE people SET place_country = 'US', time_zone = :zone"),
            {"zone": midday_zone(created)},
        )
        conn.execute(
            text(
                "INSERT INTO channel_choices (person_id, brand_id, purpose, channel) "
                "SELECT person_id, brand_id, 'marketing', 'sms' FROM relationships"
            )
        )
        conn.execute(
            text(
                "INSERT INTO contact_points (id, person_id, channel, address, "
                "address_normalised, is_primary, verified_at, created_at, region, details, "
                "code_attempts) "
                "SELECT lower(hex(randomblob(16))), id, 'sms', "
                "'+1202' || printf('%07d', rowid), '+1202' || printf('%07d', rowid), 1, "
                ":created, :created, 'US', '{}', 0 FROM people"
            ).bindparams(bindparam("created", type_=UTCDateTime())),
            {"created": created},
        )
    with Session(engine) as session:
        numbers.register(session, world.brand, SENDER)
        session.commit()
    return world


def settings_for(url: str, sink_port: int, var_dir: str) -> Settings:
    return email_settings_for(url, free_port(), var_dir).model_copy(
        update={
            "sms_gateway": SmsGatewayKind.generic,
            "sms_gateway_url": f"http://127.0.0.1:{sink_port}/messages",
            "sms_gateway_token": SecretStr(BEARER),
            "sms_gateway_secret": SecretStr("whsec_" + "MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"),
        }
    )


def new_campaign(engine: Engine, world: World, name: str) -> int:
    with Session(engine) as session:
        made = campaigns.create(
            session,
            world.brand,
            CampaignCreate(name=name, topic_id=world.topic, channel="sms", text=SMS_TEXT),
            member_id=None,
        )
        campaigns.send(session, made)
        campaigns.resolve(session, made, utcnow())
        session.commit()
        queued = session.scalar(
            select(func.count()).where(
                OutboxMessage.campaign_id == made.id, OutboxMessage.state == "queued"
            )
        )
    return int(queued or 0)


# --- the two senders ---------------------------------------------------------------------------


def worker_main(url: str, sink_port: int, var_dir: str, conn: Connection) -> None:
    settings = settings_for(url, sink_port, var_dir)
    worker = Worker(Database.from_settings(settings), settings)
    conn.send("ready")
    conn.recv()  # go
    began = time.perf_counter()
    while True:
        if worker.run_once().total:
            continue
        with worker.db.session() as session:
            left = session.scalar(
                select(func.count()).where(
                    OutboxMessage.state.in_(("queued", "sending")),
                    OutboxMessage.not_before <= utcnow(),
                )
            )
        if not left:
            break
    conn.send(time.perf_counter() - began)


def floor_main(url: str, bodies: list[bytes], conn: Connection) -> None:
    headers = {"Authorization": f"Bearer {BEARER}", "Content-Type": "application/json"}
    with httpx.Client(headers=headers, timeout=10) as client:
        client.post(url, content=b"{}")  # connect, as the worker's client has by its first text
        conn.send("ready")
        conn.recv()  # go
        began = time.perf_counter()
        for body in bodies:
            answer = client.post(url, content=body)
            if answer.status_code != 200 or not answer.json()["id"]:
                raise RuntimeError(f"the sink said {answer.status_code}")
        conn.send(time.perf_counter() - began)


def timed(ctx: Any, target: Any, args: tuple[Any, ...]) -> float:
    parent, child = ctx.Pipe()
    proc = ctx.Process(target=target, args=(*args, child))
    proc.start()
    if not parent.poll(120) or parent.recv() != "ready":
        raise RuntimeError(f"{target.__name__} did not start")
    parent.send("go")
    seconds = float(parent.recv())
    proc.join(30)
    return seconds


def check(engine: Engine, bodies: list[bytes], n: int, what: str) -> None:
    references = {json.loads(b)["reference"] for b in bodies}
    with Session(engine) as session:
        states = dict(
            session.execute(
                select(OutboxMessage.state, func.count())
                .where(OutboxMessage.state != "cancelled")  # earlier rounds'
                .group_by(OutboxMessage.state)
            ).all()
        )
        unmatched = session.scalar(
            select(func.count()).where(
                OutboxMessage.state == "sent", OutboxMessage.provider_ref.is_(None)
            )
        )
    if len(bodies) != n or len(references) != n or set(states) != {"sent"} or unmatched:
        raise AssertionError(
            f"{what}: {len(bodies)} bodies, {len(references)} distinct references, "
            f"outbox {states}, {unmatched} sent rows without the gateway's id (wanted {n})"
        )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--quick", action="store_true", help=f"N = {QUICK:,}")
    parser.add_argument("--people", type=int, help=f"N (default {FULL:,})")
    parser.add_argument("--rounds", type=int, default=2, help="worker/floor rounds (default 2)")
    args = parser.parse_args()
    n = args.people or (QUICK if args.quick else FULL)
    ctx = multiprocessing.get_context("spawn")
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{Path(tmp) / 'sms_dispatch.db'}"
        engine = make_engine(url)
        world = texting_world(engine, n)
        port = free_port()
        sink, child = ctx.Pipe()
        sink_proc = ctx.Process(target=sink_main, args=(child, port))
        sink_proc.start()
        if not sink.poll(30) or sink.recv() != "ready":
            raise RuntimeError("the sink did not start")
        best_worker = best_floor = float("inf")
        try:
            print(f"{n:,} texts a round, {args.rounds} rounds; generic gateway -> local sink")
            for round_no in range(1, args.rounds + 1):
                queued = new_campaign(engine, world, f"Round {round_no}")
                if queued != n:
                    raise AssertionError(f"{queued} texts queued, wanted {n}")
                worker_s = timed(ctx, worker_main, (url, port, tmp))
                sink.send("take")
                bodies: list[bytes] = sink.recv()
                check(engine, bodies, n, f"round {round_no}")
                floor_s = timed(ctx, floor_main, (f"http://127.0.0.1:{port}/messages", bodies))
                sink.send("take")
                floor_count = len(sink.recv())
                if floor_count != n + 1:  # + the connecting request
                    raise AssertionError(f"the floor posted {floor_count - 1}, wanted {n}")
                best_worker, best_floor = min(best_worker, worker_s), min(best_floor, floor_s)
                print(
                    f"  round {round_no}: worker {worker_s:.2f}s ({n / worker_s:,.0f}/s), "
                    f"httpx loop {floor_s:.2f}s ({n / floor_s:,.0f}/s)"
                )
                with engine.begin() as conn:  # the next round's texts go to the same people
                    conn.execute(text("UPDATE outbox SET state = 'cancelled'"))
            ratio = (n / best_worker) / (n / best_floor)
            print(f"RESULT sms_dispatch_vs_httpx {ratio:.3f}")
            print(f"goal >= {GOAL}: {'met' if ratio >= GOAL else 'NOT met'}")
            sys.stdout.flush()
        finally:
            sink.send("stop")
            sink_proc.join(10)
            engine.dispose()


if __name__ == "__main__":
    main()
