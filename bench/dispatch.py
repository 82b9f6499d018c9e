"""Benchmark: the delivery worker's e-mail throughput and memory, against raw smtplib.

Goals:
  (a) One worker's e-mail throughput (the real `accord.delivery.worker.Worker`, SMTP backend,
      default batch and lease settings, in a process of its own) sending N campaign e-mails to
      a local SMTP sink is at least 0.5x that of a raw smtplib loop sending the same N
      messages (byte for byte what the worker sent, captured by the sink) over one connection
      to the same sink (the floor). Measured on SQLite, and on PostgreSQL too.
  (b) With two worker processes on PostgreSQL the throughput is at least 1.6x one worker's.
      Each worker hands its mail to a sink of its own, as each worker host hands mail to its
      own relay (the one-worker run uses the first of the two). One shared sink
      (`--shared-sink`) is a single Python thread that two workers queue behind: it measures
      the sink, not the workers (1.2x on the 2-core machine of 2026-12-04). For reference (not
      a goal) the same messages go out over one and then two raw smtplib connections at once
      (each its own process, one sink): how far the sink and the machine let the floor itself
      scale (`RESULT smtplib_two_connections_vs_one`).
  (c) A worker's peak RSS does not grow with the audience: the worker runs for a few seconds
      with 100,000 and then with 1,000,000 rows queued, and reports VmHWM (peak RSS) from
      /proc/self/status in its own process.

The sink runs in a separate process (so it does not compete with the sender for the GIL) and
records every message's Message-ID: every run must deliver each of its N messages exactly once
(N distinct Message-IDs, N messages), and every outbox row must end up `sent`. The sink is
aiosmtpd offering PIPELINING and taking a message's data in one read (`--sink aiosmtpd-bulk`,
the default; about half the CPU per message of aiosmtpd as shipped, `--sink aiosmtpd`).
`--sink lean` is a minimal asyncio SMTP server (`LeanSMTP`), a quarter of the default's CPU
per message. The sink's cost pulls (a) and (b) apart on a small machine: a cheaper sink makes
the floor faster (smtplib's own cost is small), and leaves more of the CPUs to two workers.

Set-up (not measured): a fresh database (a SQLite file; PostgreSQL databases
`accord_bench_dispatch` and `accord_bench_dispatch_rss`, dropped at the end) made by
`accord.core.migrate.upgrade`; a brand with a postal address and `send_rate_per_second` raised
to 100000 so the shared rate limit does not bind, a marketing topic; N people each with a ledger
head, an active relationship, marketing granted, the e-mail channel and the topic chosen and a
verified primary e-mail address, inserted set-based (brand and global caps raised, since every
round sends another campaign to the same people). Each round's campaign goes through
`accord.campaigns.service`: create -> send -> resolve.

Rounds are interleaved (worker, floor, worker, floor ...); the best of each is kept. Prints
`RESULT dispatch_vs_smtplib <ratio>` (SQLite; `RESULT dispatch_vs_smtplib_postgres` too),
`RESULT dispatch_two_workers_vs_one_postgres <ratio>`, `RESULT worker_rss_mb_100k <mb>` and
`RESULT worker_rss_mb_1m <mb>`. Default N = 20,000; `--quick`: N = 2,000 and the RSS part at
10k/50k rows (named `worker_rss_mb_10k` / `_50k`). `--profile` runs the workers of the last
round of (a) and (b) under cProfile and prints where their time goes.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import io
import multiprocessing
import os
import pstats
import queue
import re
import resource
import smtplib
import sys
import tempfile
import threading
import time
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any, cast

from _common import BENCH_SECRET, PG_ADMIN, free_port, fresh_postgres
from pydantic import SecretStr
from sqlalchemy import Uuid, bindparam, func, select, text
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from accord.brands import service as brands
from accord.brands.schemas import BrandCreate
from accord.campaigns import service as campaigns
from accord.campaigns.models import Campaign
from accord.campaigns.schemas import Audience, CampaignCreate
from accord.core import migrate
from accord.core.db import Database, UTCDateTime, make_engine, utcnow
from accord.core.settings import EmailBackend, Settings
from accord.delivery.worker import Worker
from accord.outbox.models import OutboxMessage
from accord.relationships import topics
from accord.relationships.schemas import TopicCreate
from accord.relationships.vocabulary import Purpose

GOAL_VS_SMTPLIB = 0.5
GOAL_TWO_WORKERS = 1.6
PG_THROUGHPUT = "accord_bench_dispatch"
PG_RSS = "accord_bench_dispatch_rss"
SECRET = "bench-dispatch-secret-key-not-for-production"
DATA_LIMIT = 1 << 22  # the sink's largest message
MID = re.compile(rb"^Message-ID:[ \t]*(\S+)", re.MULTILINE | re.IGNORECASE)
TEXT = (
    "Hello {{ person.name }},\n\n"
    "Here is what is new in {{ topic.name }} at {{ brand.name }} this month. "
    + "We kept it short, as promised, and there is nothing you need to do. " * 8
    + "\n\nQuestions? Write to {{ brand.support_email }}.\n"
)
HTML = (
    "<h1>News for {{ person.first_name }}</h1>"
    + "<p>Here is what is new in {{ topic.name }} at {{ brand.name }} this month.</p>" * 6
)


# --- the sink (its own process) --------------------------------------------------------------


class SinkHandler:
    """Counts messages and distinct Message-IDs; keeps the raw messages when asked to."""

    def __init__(self) -> None:
        self.capture = False
        self.reset()

    def reset(self) -> None:
        self.total = 0
        self.ids: set[bytes] = set()
        self.messages: list[tuple[str, list[str], bytes]] = []

    async def handle_EHLO(
        self, server: Any, session: Any, envelope: Any, hostname: str, responses: list[str]
    ) -> list[str]:
        """aiosmtpd's answer, and PIPELINING (see `sink_server_class`)."""
        session.host_name = hostname
        return [responses[0], "250-PIPELINING", *responses[1:]]

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        content: bytes = envelope.original_content or envelope.content
        return self.record(envelope.mail_from, list(envelope.rcpt_tos), content)

    def record(self, mail_from: str, rcpt_tos: list[str], content: bytes) -> str:
        self.total += 1
        end = content.find(b"\r\n\r\n")
        if end < 0:
            end = content.find(b"\n\n")
        found = MID.search(content, 0, end if end >= 0 else len(content))
        self.ids.add(found.group(1) if found else b"<none:%d>" % self.total)
        if self.capture:
            self.messages.append((mail_from, rcpt_tos, content))
        return "250 OK"


def unstuffed(data: bytes) -> bytes:
    """A message's data as sent after DATA (without the lone-dot line), dot-unstuffed."""
    content = data[1:] if data.startswith(b".") else data
    return content.replace(b"\r\n.", b"\r\n")


class LeanSMTP(asyncio.Protocol):
    """`--sink lean`: a minimal SMTP server as an asyncio protocol, a few times cheaper per
    message than aiosmtpd. It speaks what smtplib and the worker use (EHLO, HELO, MAIL, RCPT,
    DATA, RSET, NOOP, QUIT; PIPELINING: replies to commands that arrived together go out
    together) and records every message through `SinkHandler`, as the aiosmtpd sink does."""

    def __init__(self, handler: SinkHandler) -> None:
        self.handler, self.buffer, self.in_data = handler, b"", False
        self.mail_from, self.rcpt_tos = "", cast(list[str], [])
        self.quitting = False

    def connection_made(self, transport: Any) -> None:
        self.transport = transport
        transport.write(b"220 bench-sink ESMTP\r\n")

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        out: list[bytes] = []
        while not self.quitting:
            reply = self._end_of_data() if self.in_data else self._command()
            if reply is None:  # the rest has not arrived yet
                break
            out.append(reply)
        if out:
            self.transport.write(b"".join(o + b"\r\n" for o in out))
        if self.quitting:
            self.transport.close()

    def _end_of_data(self) -> bytes | None:
        """Once a message's terminating CRLF.CRLF is in: the message recorded, its reply."""
        if self.buffer.startswith(b".\r\n"):
            end, content = 0, b""
        else:
            end = self.buffer.find(b"\r\n.\r\n")
            if end < 0:
                return None
            end += 2
            content = unstuffed(self.buffer[:end])
        self.buffer, self.in_data = self.buffer[end + 3 :], False
        reply = self.handler.record(self.mail_from, self.rcpt_tos, content).encode()
        self.rcpt_tos = []
        return reply

    def _command(self) -> bytes | None:
        """Once a command's line is in: the command done, its reply."""
        end = self.buffer.find(b"\r\n")
        if end < 0:
            return None
        line, self.buffer = self.buffer[:end], self.buffer[end + 2 :]
        verb = line[:4].upper()
        address = line[line.find(b"<") + 1 : line.find(b">")].decode()
        if verb == b"EHLO":
            return b"250-bench-sink\r\n250-PIPELINING\r\n250-SIZE 33554432\r\n250 8BITMIME"
        if verb == b"MAIL":
            self.mail_from, self.rcpt_tos = address, []
            return b"250 OK"
        if verb == b"RCPT":
            self.rcpt_tos.append(address)
            return b"250 OK"
        if verb == b"DATA":
            self.in_data = bool(self.rcpt_tos)
            return b"354 End data with <CR><LF>.<CR><LF>" if self.in_data else b"503 no RCPT"
        if verb == b"QUIT":
            self.quitting = True
            return b"221 Bye"
        return b"250 OK" if verb in (b"HELO", b"RSET", b"NOOP") else b"500 unknown command"


def lean_server(handler: SinkHandler, port: int) -> Any:
    """LeanSMTP on 127.0.0.1:port in a thread of its own; returns a function that stops it."""
    loop = asyncio.new_event_loop()
    server = loop.run_until_complete(
        loop.create_server(lambda: LeanSMTP(handler), "127.0.0.1", port)
    )
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()

    def stop() -> None:
        loop.call_soon_threadsafe(server.close)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(10)

    return stop


async def read_message(reader: asyncio.StreamReader) -> bytes:
    """A message's data, up to the line that is a lone dot, dot-unstuffed."""
    data = b""
    while True:
        data += await reader.readuntil(b".\r\n")
        if data == b".\r\n" or data.endswith(b"\r\n.\r\n"):
            return unstuffed(data[:-3])


def sink_server_class(bulk: bool) -> type:
    """aiosmtpd's SMTP server offering PIPELINING (RFC 2920; aiosmtpd reads commands from a
    stream in order, so it already serves pipelined commands correctly, it only does not say
    so), its replies to commands that arrived together written together. With `bulk` it takes
    a message's data in one read up to the terminating `CRLF.CRLF` instead of one awaited read
    per line (about half the sink's CPU per message). What it records is the same: the
    envelope and the data, dot-unstuffed, as aiosmtpd's own DATA command makes them."""
    from aiosmtpd.smtp import SMTP

    class SinkSMTP(SMTP):  # type: ignore[misc]
        # aiosmtpd's stream reader is made with this limit (1001, its DATA line limit): it
        # pauses the socket at twice that. The bulk read below needs room for a whole message.
        line_length_limit = DATA_LIMIT if bulk else SMTP.line_length_limit

        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            self.replies: list[bytes] = []

        async def push(self, status: Any) -> None:
            """A reply waits while the next command has already arrived, and goes out with
            the replies to the commands after it when none is left (RFC 2920 4: a server
            should not flush its output while more input is waiting). To a client that
            waits for each reply (smtplib), every reply goes out at once, as aiosmtpd's own."""
            if isinstance(status, str):
                status = status.encode("utf-8" if self.enable_SMTPUTF8 else "ascii")
            self.replies.append(status + b"\r\n")
            waiting = self._reader._buffer  # type: ignore[attr-defined]  # what is read, not used
            if b"\n" not in waiting or status.startswith(b"221"):
                self._writer.write(b"".join(self.replies))
                self.replies.clear()

        async def bulk_DATA(self, arg: str) -> None:
            if await self.check_helo_needed():
                return
            assert self.envelope is not None
            if not self.envelope.rcpt_tos:
                await self.push("503 Error: need RCPT command")
                return
            if arg:
                await self.push("501 Syntax: DATA")
                return
            await self.push("354 End data with <CR><LF>.<CR><LF>")
            content = await read_message(self._reader)
            self.envelope.content = self.envelope.original_content = content
            status = await self._call_handler_hook("DATA")
            self._set_post_data_state()
            await self.push(status)

    if bulk:
        SinkSMTP.smtp_DATA = SinkSMTP.bulk_DATA  # type: ignore[method-assign]
    return SinkSMTP


def sink_main(conn: Connection, port: int, kind: str = "aiosmtpd-bulk") -> None:
    """Serve SMTP on 127.0.0.1:port; answer the parent's commands over `conn`."""
    from aiosmtpd.controller import Controller

    server = sink_server_class(bulk=kind == "aiosmtpd-bulk")

    class SinkController(Controller):  # type: ignore[misc]
        def factory(self) -> Any:
            return server(self.handler, **self.SMTP_kwargs)

    handler = SinkHandler()
    if kind == "lean":
        stop = lean_server(handler, port)
    else:
        controller = SinkController(handler, hostname="127.0.0.1", port=port)
        controller.start()
        stop = controller.stop
    conn.send("ready")
    try:
        while True:
            command, arg = conn.recv()
            if command == "reset":
                handler.reset()
                handler.capture = bool(arg)
                conn.send("ok")
            elif command == "stats":
                conn.send((handler.total, len(handler.ids)))
            elif command == "ids":
                conn.send(handler.ids)
            elif command == "take":
                conn.send(handler.messages)
                handler.messages = []
            elif command == "stop":
                break
    finally:
        stop()


@dataclass
class Sink:
    conn: Connection
    process: multiprocessing.process.BaseProcess
    port: int

    def call(self, command: str, arg: object = None) -> Any:
        self.conn.send((command, arg))
        return self.conn.recv()

    def stop(self) -> None:
        if self.process.is_alive():
            self.conn.send(("stop", None))
            self.process.join(10)
        if self.process.is_alive():
            self.process.terminate()
            self.process.join(10)


def start_sink(ctx: multiprocessing.context.SpawnContext) -> Sink:
    port = free_port()
    parent, child = ctx.Pipe()
    process = ctx.Process(target=sink_main, args=(child, port, SINK[0]), name="bench-smtp-sink")
    process.start()
    if not parent.poll(30) or parent.recv() != "ready":
        raise RuntimeError("the SMTP sink did not start")
    return Sink(parent, process, port)


# --- the worker (its own process) ------------------------------------------------------------


def vm_status(field: str) -> float:
    """A /proc/self/status field (VmRSS, VmHWM) in MB."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def settings_for(url: str, smtp_port: int, var_dir: str) -> Settings:
    return Settings(
        database_url=url,
        var_dir=Path(var_dir),
        secret_key=SecretStr(SECRET),
        base_url="https://accord.bench.example",
        email_backend=EmailBackend.smtp,
        smtp_host="127.0.0.1",
        smtp_port=smtp_port,
    )


# Diagnostics only (--what-if): variations of src/, tried in the worker process alone.
WHAT_IFS = {
    "no-write-turns": "the SQLite worker does not look for connections waiting for the write"
    " lock (what fairness to web requests costs it)",
    "chunk-20": "worker.CHUNK = 20 (a transaction per 20 messages instead of 100)",
    "no-journal": "no hand-over journal (what writing each hand-over down costs; a crash may"
    " then re-send a whole chunk)",
}
WHAT_IF: list[str] = []
SINK = ["aiosmtpd-bulk"]  # --sink
SHARED_SINK = [False]  # --shared-sink


def _never(*args: object, **kwargs: object) -> bool:
    return False


def _none(*args: object, **kwargs: object) -> None:
    return None


def apply_what_if(names: list[str]) -> None:
    from accord.core import write_turns
    from accord.delivery import journal as journal_module
    from accord.delivery import worker as worker_module

    if "no-write-turns" in names:
        write_turns.let_waiters_in = _never
        write_turns.someone_waits = _never
    if "chunk-20" in names:
        worker_module.CHUNK = 20
    if "no-journal" in names:
        journal_module.open_for = _none


def worker_main(
    url: str,
    smtp_port: int,
    var_dir: str,
    signals: tuple[Any, Any, Any],
    seconds: float | None,
    profile_to: str | None,
    what_if: list[str],
) -> None:
    """Build a real Worker, wait for the start signal, then drain the outbox (or run for
    `seconds`), and report what it sent, its own wall and CPU time and its memory."""
    apply_what_if(what_if)
    settings = settings_for(url, smtp_port, var_dir)
    worker = Worker(Database.from_settings(settings), settings)
    with worker.db.session() as session:  # connect and warm up before the clock starts
        session.scalar(select(func.count()).select_from(OutboxMessage).limit(1))
    rss_ready = vm_status("VmRSS")
    ready, start, results = signals
    ready.put(os.getpid())
    start.wait()
    profiler = cProfile.Profile() if profile_to else None
    cpu0, began = os.times(), time.perf_counter()
    if profiler is not None:
        profiler.enable()
    sent = 0
    while True:
        done = worker.run_once()
        sent += done.sent
        if seconds is not None:
            if time.perf_counter() - began >= seconds:
                break
            continue
        if done.sent + done.skipped + done.deferred + done.failed:
            continue
        with worker.db.session() as session:  # nothing claimed: finished, or rows on lease
            left = session.scalar(
                select(func.count()).where(
                    OutboxMessage.state.in_(("queued", "sending")),
                    OutboxMessage.not_before <= utcnow(),
                )
            )
        if not left:
            break
        time.sleep(0.02)
    elapsed = time.perf_counter() - began
    if profiler is not None and profile_to is not None:
        profiler.disable()
        profiler.dump_stats(profile_to.replace("{pid}", str(os.getpid())))
    cpu1 = os.times()
    results.put(
        {
            "sent": sent,
            "elapsed": elapsed,
            "cpu": (cpu1.user - cpu0.user) + (cpu1.system - cpu0.system),
            "rss_ready_mb": rss_ready,
            "rss_mb": vm_status("VmRSS"),
            "hwm_mb": vm_status("VmHWM"),
            "maxrss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        }
    )


def cpu_jiffies() -> tuple[int, int]:
    """(busy, total) jiffies of the whole machine, from /proc/stat."""
    fields = [int(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = fields[3] + (fields[4] if len(fields) > 4 else 0)
    return sum(fields) - idle, sum(fields)


def process_ticks(pid: int | None = None, name: str | None = None) -> int:
    """CPU clock ticks (user + system) used by process `pid`, or by every process called
    `name` (e.g. the PostgreSQL server's); 0 where /proc cannot be read."""
    pids = [pid] if pid is not None else [int(d) for d in os.listdir("/proc") if d.isdigit()]
    total = 0
    for p in pids:
        try:
            stat = Path(f"/proc/{p}/stat").read_text()
        except OSError:
            continue
        comm, rest = stat[stat.index("(") + 1 : stat.rindex(")")], stat[stat.rindex(")") + 2 :]
        if name is not None and comm != name:
            continue
        fields = rest.split()
        total += int(fields[11]) + int(fields[12])  # utime, stime
    return total


@dataclass
class Run:
    seconds: float  # parent's wall clock from the start signal to the last worker's report
    workers: list[dict[str, Any]]
    machine_busy: float  # share of all CPUs busy meanwhile (every process, ours or not)
    sink_cpu: float  # the sink processes' CPU, in cores
    postgres_cpu: float  # all postgres server processes' CPU, in cores

    def cpu_summary(self) -> str:
        workers = " + ".join(f"{w['cpu'] / w['elapsed']:.0%}" for w in self.workers)
        return (
            f"CPU: worker(s) {workers}, sink {self.sink_cpu:.0%}, postgres "
            f"{self.postgres_cpu:.0%} of a core; machine {self.machine_busy:.0%} busy "
            f"on {os.cpu_count()} CPUs"
        )

    @property
    def sent(self) -> int:
        return sum(int(w["sent"]) for w in self.workers)


def _await_ready(ready: Any, procs: list[Any]) -> None:
    """Each worker imports, connects and says so before the clock starts."""
    waiting = len(procs)
    while waiting:
        try:
            ready.get(timeout=1)
            waiting -= 1
        except queue.Empty:
            if not all(p.is_alive() for p in procs):
                raise RuntimeError("a worker died while starting") from None


def _collect(results: Any, procs: list[Any]) -> list[dict[str, Any]]:
    """Every worker's report; a worker that died reports nothing: do not wait 30 minutes."""
    reports: list[dict[str, Any]] = []
    deadline = time.monotonic() + 1800
    while len(reports) < len(procs):
        try:
            reports.append(results.get(timeout=1))
        except queue.Empty:
            dead = [p.name for p in procs if p.exitcode not in (None, 0)]
            if dead or time.monotonic() > deadline:
                raise RuntimeError(f"worker(s) failed: {dead or 'timeout'}") from None
    return reports


def _join(procs: list[Any]) -> None:
    for proc in procs:
        proc.join(30)
        if proc.is_alive():
            proc.terminate()
            proc.join(10)


def run_workers(
    ctx: multiprocessing.context.SpawnContext,
    count: int,
    url: str,
    sinks: list[Sink],
    var_dir: str,
    *,
    seconds: float | None = None,
    profile_to: str | None = None,
) -> Run:
    start, ready, results = ctx.Event(), ctx.Queue(), ctx.Queue()
    procs = [
        ctx.Process(
            target=worker_main,
            args=(
                url,
                sinks[i % len(sinks)].port,
                var_dir,
                (ready, start, results),
                seconds,
                profile_to,
                WHAT_IF,
            ),
            name=f"bench-worker-{i}",
        )
        for i in range(count)
    ]
    for proc in procs:
        proc.start()
    _await_ready(ready, procs)
    busy0, total0 = cpu_jiffies()
    sink0, pg0 = _sink_ticks(sinks), process_ticks(name="postgres")
    began = time.perf_counter()
    start.set()
    try:
        reports = _collect(results, procs)
        ended = time.perf_counter()
        busy1, total1 = cpu_jiffies()
        sink1, pg1 = _sink_ticks(sinks), process_ticks(name="postgres")
    finally:
        _join(procs)
    for proc in procs:
        if proc.exitcode != 0:
            raise RuntimeError(f"{proc.name} exited with {proc.exitcode}")
    hz, wall = os.sysconf("SC_CLK_TCK"), ended - began
    return Run(
        wall,
        reports,
        (busy1 - busy0) / max(1, total1 - total0),
        (sink1 - sink0) / hz / wall,
        (pg1 - pg0) / hz / wall,
    )


# --- the world -------------------------------------------------------------------------------

PEOPLE_SQL = [
    "INSERT INTO people (id, email, display_name, time_zone, locale, created_at) "
    "SELECT id, 'd' || n || '@people.example', 'Person ' || n, 'UTC', 'en', :created "
    "FROM bench_ids ORDER BY id",
    "INSERT INTO ledger_heads (subject_id, seq, hash) "
    "SELECT id, 1, :hash FROM bench_ids ORDER BY id",
    "INSERT INTO relationships (id, person_id, brand_id, state, origin, brand_cap, shared, "
    "updated_at, created_at) "
    "SELECT {newid}, id, :brand, 'active', 'portal', 1000, "
    "CASE WHEN n <= :small THEN {small} ELSE {big} END, :created, :created "
    "FROM bench_ids ORDER BY id",
    "INSERT INTO purpose_grants (person_id, brand_id, purpose, status, updated_at) "
    "SELECT id, :brand, 'marketing', 'granted', :created FROM bench_ids ORDER BY id",
    "INSERT INTO channel_choices (person_id, brand_id, purpose, channel) "
    "SELECT id, :brand, 'marketing', 'email' FROM bench_ids ORDER BY id",
    "INSERT INTO topic_choices (person_id, topic_id, brand_id) "
    "SELECT id, :topic, :brand FROM bench_ids ORDER BY id",
    "INSERT INTO global_preferences (person_id, global_cap, do_not_contact) "
    "SELECT id, 1000, {false} FROM bench_ids ORDER BY id",
    "INSERT INTO contact_points (id, person_id, channel, address, address_normalised, "
    "is_primary, verified_at, created_at, details, code_attempts) "
    "SELECT {newid}, id, 'email', 'd' || n || '@people.example', 'd' || n || '@people.example', "
    "{true}, :created, :created, {json}, 0 FROM bench_ids ORDER BY id",
]


@dataclass(frozen=True)
class World:
    brand: uuid.UUID
    topic: uuid.UUID


def build_world(engine: Engine, people: int, small: int = 0) -> World:
    """Brand and topic through the services; the people set-based. The first `small` people
    share {"cohort": "small"} with the brand (an audience filter), the others "big"."""
    migrate.upgrade(engine)
    with Session(engine) as session:
        brand = brands.create_brand(
            session,
            BrandCreate(
                name="Bench Records",
                slug="bench",
                sender_name="Bench Records",
                sender_email="news@bench.example",
                support_email="help@bench.example",
                postal_address="1 Bench Street, 1000 Benchville",
            ),
            secret=BENCH_SECRET,
        )
        brand.send_rate_per_second = 100_000
        topic = topics.create(
            session,
            brand.id,
            TopicCreate(
                slug="jazz",
                name="Jazz news",
                description="New releases and concerts, about once a month.",
                purpose=Purpose.marketing,
            ),
        )
        world = World(brand.id, topic.id)
        session.commit()
    pg = engine.dialect.name == "postgresql"
    words = {
        "newid": "gen_random_uuid()" if pg else "lower(hex(randomblob(16)))",
        "json": "'{}'::json" if pg else "'{}'",
        "small": """'{"cohort": "small"}'""" + ("::json" if pg else ""),
        "big": """'{"cohort": "big"}'""" + ("::json" if pg else ""),
        "true": "TRUE" if pg else "1",
        "false": "FALSE" if pg else "0",
    }
    params: dict[str, Any] = {
        "brand": world.brand,
        "topic": world.topic,
        "small": small,
        "hash": "0" * 64,
        "created": utcnow() - timedelta(days=30),
    }
    with engine.begin() as conn:
        if pg:
            conn.execute(text("SET LOCAL synchronous_commit = off"))
            conn.execute(text("CREATE UNLOGGED TABLE bench_ids (n bigint PRIMARY KEY, id uuid)"))
            conn.execute(
                text(
                    "INSERT INTO bench_ids SELECT n, gen_random_uuid() "
                    "FROM generate_series(1, :people) n"
                ),
                {"people": people},
            )
        else:
            conn.execute(text("PRAGMA cache_size = -500000"))
            conn.execute(text("CREATE TABLE bench_ids (n INTEGER PRIMARY KEY, id CHAR(32))"))
            conn.execute(
                text(
                    "WITH RECURSIVE s(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM s "
                    "WHERE n < :people) "
                    "INSERT INTO bench_ids SELECT n, lower(hex(randomblob(16))) FROM s"
                ),
                {"people": people},
            )
        for sql in PEOPLE_SQL:
            statement = text(sql.format(**words))
            used = {k: v for k, v in params.items() if re.search(rf":{k}\b", sql)}
            binds = [
                bindparam(k, type_=Uuid() if isinstance(v, uuid.UUID) else UTCDateTime())
                for k, v in used.items()
                if isinstance(v, uuid.UUID | datetime)
            ]
            conn.execute(statement.bindparams(*binds), used)
        conn.execute(text("DROP TABLE bench_ids"))
    if pg:
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(text("VACUUM ANALYZE"))
    return world


def new_campaign(engine: Engine, world: World, name: str, cohort: str | None = None) -> int:
    """create -> send -> resolve through the campaign service; the number of rows queued."""
    audience = Audience(kind="filter", filter={"cohort": cohort}) if cohort else Audience()
    with Session(engine) as session:
        campaign = campaigns.create(
            session,
            world.brand,
            CampaignCreate(
                name=name,
                topic_id=world.topic,
                subject="{{ topic.name }}: what is new, {{ person.first_name }}",
                text=TEXT,
                html=HTML,
                audience=audience,
            ),
            member_id=None,
        )
        campaigns.send(session, campaign)
        written = campaigns.resolve(session, campaign, utcnow())
        session.commit()
        queued = session.scalar(
            select(func.count()).where(
                OutboxMessage.campaign_id == campaign.id, OutboxMessage.state == "queued"
            )
        )
    if written != queued:  # seen on PostgreSQL: the rowcount of the ORM INSERT ... SELECT is -1
        print(f"  note: resolve() returned {written}, but {queued} rows were queued")
    return int(queued or 0)


def cancel_campaigns(engine: Engine) -> None:
    with Session(engine) as session:
        for campaign in session.scalars(select(Campaign).where(Campaign.state == "sending")):
            campaigns.cancel(session, campaign)
        session.commit()


def outbox_states(engine: Engine) -> dict[str, int]:
    with Session(engine) as session:
        rows = session.execute(
            select(OutboxMessage.state, func.count()).group_by(OutboxMessage.state)
        ).all()
    return {state: count for state, count in rows}


# --- measurements ----------------------------------------------------------------------------


def _sink_ticks(sinks: list[Sink]) -> int:
    return sum(process_ticks(sink.process.pid) for sink in sinks)


def check_delivery(sinks: list[Sink], engine: Engine, expected: int, what: str) -> None:
    """Every message delivered exactly once, across all the sinks: N messages and N distinct
    Message-IDs in their union (a message sent to two sinks counts once in the union)."""
    total = sum(sink.call("stats")[0] for sink in sinks)
    distinct = len(set().union(*(sink.call("ids") for sink in sinks)))
    states = outbox_states(engine)
    open_rows = sum(states.get(s, 0) for s in ("queued", "sending", "deferred"))
    if total != expected or distinct != expected or open_rows:
        raise AssertionError(
            f"{what}: the sink got {total} messages with {distinct} distinct Message-IDs, "
            f"{expected} expected; outbox {states}"
        )


def floor_send(sink: Sink, messages: list[tuple[str, list[str], bytes]]) -> tuple[float, str]:
    """The floor: the same messages, raw smtplib, one connection. (seconds, CPU summary)"""
    sink0, cpu0 = process_ticks(sink.process.pid), os.times()
    start = time.perf_counter()
    smtp = smtplib.SMTP("127.0.0.1", sink.port, timeout=30)
    for mail_from, rcpt_tos, content in messages:
        smtp.sendmail(mail_from, rcpt_tos, content)
    smtp.quit()
    wall = time.perf_counter() - start
    sink1, cpu1 = process_ticks(sink.process.pid), os.times()
    client = (cpu1.user - cpu0.user + cpu1.system - cpu0.system) / wall
    sink_cpu = (sink1 - sink0) / os.sysconf("SC_CLK_TCK") / wall
    return wall, f"CPU: smtplib {client:.0%}, sink {sink_cpu:.0%} of a core"


def floor_client(
    port: int, messages: list[tuple[str, list[str], bytes]], start: Any, done: Any
) -> None:
    """One raw smtplib connection (its own process), connected before the start signal."""
    smtp = smtplib.SMTP("127.0.0.1", port, timeout=30)
    start.wait()
    for mail_from, rcpt_tos, content in messages:
        smtp.sendmail(mail_from, rcpt_tos, content)
    smtp.quit()
    done.put(os.getpid())


def floor_parallel(
    ctx: multiprocessing.context.SpawnContext,
    sink: Sink,
    messages: list[tuple[str, list[str], bytes]],
    connections: int,
) -> float:
    """The same messages split over `connections` raw smtplib processes at once: msg/s."""
    start, done = ctx.Event(), ctx.Queue()
    shares = [messages[i::connections] for i in range(connections)]
    procs = [
        ctx.Process(target=floor_client, args=(sink.port, share, start, done)) for share in shares
    ]
    for proc in procs:
        proc.start()
    time.sleep(1)  # each has started and connected
    began = time.perf_counter()
    start.set()
    for _ in procs:
        done.get(timeout=600)
    wall = time.perf_counter() - began
    for proc in procs:
        proc.join(30)
    return len(messages) / wall


def throughput_vs_smtplib(
    ctx: multiprocessing.context.SpawnContext,
    backend: str,
    url: str,
    n: int,
    rounds: int,
    workdir: Path,
    profile: bool,
) -> float:
    engine = _engine(url)
    sink = start_sink(ctx)
    try:
        started = time.perf_counter()
        world = build_world(engine, n)
        print(f"{backend}: {n} people built in {time.perf_counter() - started:.1f}s")
        worker_rates, floor_rates = [], []
        for r in range(rounds):
            started = time.perf_counter()
            queued = new_campaign(engine, world, f"Round {r + 1}")
            if queued != n:
                raise AssertionError(f"resolve queued {queued} rows, {n} expected")
            resolved = time.perf_counter() - started
            sink.call("reset", True)
            prof = str(workdir / "worker.prof") if profile and r == rounds - 1 else None
            run = run_workers(ctx, 1, url, [sink], str(workdir / "var"), profile_to=prof)
            check_delivery([sink], engine, n, f"{backend} round {r + 1}")
            messages = sink.call("take")
            sink.call("reset", False)
            floor, floor_cpu = floor_send(sink, messages)
            total, _ = sink.call("stats")
            if total != n:
                raise AssertionError(f"floor: the sink got {total} of {n} messages")
            size = sum(len(m[2]) for m in messages) / len(messages)
            worker_rates.append(n / run.seconds)
            floor_rates.append(n / floor)
            print(
                f"  round {r + 1}: resolve {resolved:.1f}s; worker {n / run.seconds:7.0f} msg/s "
                f"({run.seconds:.2f}s; {run.cpu_summary()}); "
                f"smtplib {n / floor:7.0f} msg/s ({floor:.2f}s; {floor_cpu}); "
                f"{size:.0f} bytes/message; "
                f"{n} delivered exactly once"
            )
            sys.stdout.flush()
            if prof is not None:
                print_profile(prof)
        ratio = max(worker_rates) / max(floor_rates)
        print(f"  best: worker {max(worker_rates):.0f} msg/s, smtplib {max(floor_rates):.0f} msg/s")
        return ratio
    finally:
        sink.stop()
        engine.dispose()


def print_profiles(workdir: Path, count: int) -> None:
    for path in sorted(workdir.glob(f"worker-{count}-*.prof")):
        print(f"  --- {count} worker(s): {path.name} ---")
        print_profile(str(path), limit=25)


def two_workers_vs_one(
    ctx: multiprocessing.context.SpawnContext,
    url: str,
    n: int,
    rounds: int,
    workdir: Path,
    profile: bool = False,
) -> float:
    """Two workers against one on PostgreSQL. Each worker hands its mail to a sink of its
    own, as each worker host would to its own relay (`--shared-sink`: both to one sink, whose
    single thread then caps what two workers can hand over)."""
    engine = _engine(url)
    sinks = [start_sink(ctx) for _ in range(1 if SHARED_SINK[0] else 2)]
    first = sinks[0]
    try:
        started = time.perf_counter()
        world = build_world(engine, n)
        print(f"postgres: {n} people built in {time.perf_counter() - started:.1f}s")
        rates: dict[int, list[float]] = {1: [], 2: []}
        floors: dict[int, list[float]] = {1: [], 2: []}
        for r in range(rounds):
            for count in (1, 2):
                queued = new_campaign(engine, world, f"Round {r + 1} x{count}")
                if queued != n:
                    raise AssertionError(f"resolve queued {queued} rows, {n} expected")
                used = sinks[:count]
                for sink in used:
                    sink.call("reset", count == 1)
                prof = None
                if profile and r == rounds - 1:
                    prof = str(workdir / f"worker-{count}-{{pid}}.prof")
                run = run_workers(ctx, count, url, used, str(workdir / "var"), profile_to=prof)
                check_delivery(used, engine, n, f"{count} worker(s), round {r + 1}")
                rates[count].append(n / run.seconds)
                split = " + ".join(str(w["sent"]) for w in run.workers)
                print(
                    f"  round {r + 1}, {count} worker(s): {n / run.seconds:7.0f} msg/s "
                    f"({run.seconds:.2f}s; sent {split}; {run.cpu_summary()}); "
                    f"{n} delivered exactly once"
                )
                if count == 1:
                    messages = first.call("take")
                sys.stdout.flush()
                if prof is not None:
                    print_profiles(workdir, count)
            # Reference, not a goal: how the floor itself scales from one connection to two
            # against one single-process sink on this machine.
            for connections in (1, 2):
                first.call("reset", False)
                floors[connections].append(floor_parallel(ctx, first, messages, connections))
            print(
                f"  round {r + 1}, raw smtplib: {floors[1][-1]:7.0f} msg/s over one connection, "
                f"{floors[2][-1]:7.0f} over two"
            )
        result("smtplib_two_connections_vs_one", f"{max(floors[2]) / max(floors[1]):.3f}")
        return max(rates[2]) / max(rates[1])
    finally:
        for sink in sinks:
            sink.stop()
        engine.dispose()


def size_label(n: int) -> str:
    if n >= 1_000_000 and n % 1_000_000 == 0:
        return f"{n // 1_000_000}m"
    return f"{n // 1000}k" if n % 1000 == 0 else str(n)


def rss_by_queue(
    ctx: multiprocessing.context.SpawnContext,
    url: str,
    sizes: tuple[int, int],
    seconds: float,
    workdir: Path,
) -> None:
    small, big = sizes
    engine = _engine(url)
    sink = start_sink(ctx)
    try:
        started = time.perf_counter()
        world = build_world(engine, big, small=small)
        print(f"rss: {big} people built in {time.perf_counter() - started:.1f}s")
        for size, cohort in ((small, "small"), (big, None)):
            cancel_campaigns(engine)
            started = time.perf_counter()
            queued = new_campaign(engine, world, f"RSS {size}", cohort)
            if queued != size:
                raise AssertionError(f"resolve queued {queued} rows, {size} expected")
            resolved = time.perf_counter() - started
            sink.call("reset", False)
            run = run_workers(ctx, 1, url, [sink], str(workdir / "var"), seconds=seconds)
            w = run.workers[0]
            total, distinct = sink.call("stats")
            if total != distinct or total != w["sent"]:
                raise AssertionError(f"rss run: {total} messages, {distinct} distinct ids")
            print(
                f"  {queued} rows queued (resolve {resolved:.1f}s): the worker sent {w['sent']} "
                f"in {w['elapsed']:.1f}s; RSS when ready {w['rss_ready_mb']:.1f} MB, at the end "
                f"{w['rss_mb']:.1f} MB, peak (VmHWM) {w['hwm_mb']:.1f} MB"
            )
            result(f"worker_rss_mb_{size_label(size)}", f"{w['hwm_mb']:.1f}")
            sys.stdout.flush()
    finally:
        sink.stop()
        engine.dispose()


def result(name: str, value: str) -> None:
    print(f"RESULT {name}{'_whatif' if WHAT_IF else ''} {value}")
    sys.stdout.flush()


def print_profile(path: str, limit: int = 30) -> None:
    out = io.StringIO()
    stats = pstats.Stats(path, stream=out)
    stats.strip_dirs().sort_stats("cumulative").print_stats(limit)
    stats.sort_stats("tottime").print_stats(limit)
    print("  --- the worker under cProfile (last round) ---")
    print("\n".join("  " + line for line in out.getvalue().splitlines() if line.strip()))


def _engine(url: str) -> Engine:
    return make_engine(url)


def drop_postgres(name: str) -> None:
    import psycopg

    with psycopg.connect(PG_ADMIN, autocommit=True, connect_timeout=3) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--quick", action="store_true", help="N = 2,000; RSS at 10k and 50k")
    parser.add_argument("--messages", type=int, help="N (default 20,000)")
    parser.add_argument("--rounds", type=int, help="interleaved rounds (default 3; quick 1)")
    parser.add_argument(
        "--parts", default="a,b,c", help="which goals to measure: a, b, c (comma-separated)"
    )
    parser.add_argument(
        "--backend",
        choices=["sqlite", "postgres", "both"],
        help="database(s) for (a) (default both; quick: sqlite); (b) and (c) use PostgreSQL",
    )
    parser.add_argument(
        "--rss-sizes", help="rows queued for (c), e.g. 100000,1000000 (quick: 10000,50000)"
    )
    parser.add_argument("--rss-seconds", type=float, help="worker run per size (5; quick 2)")
    parser.add_argument(
        "--profile", action="store_true", help="cProfile the worker(s) in (a) and (b)"
    )
    parser.add_argument(
        "--what-if",
        default="",
        help="diagnostics: try proposed src/ changes in the worker processes only\n"
        + "\n".join(f"  {k}: {v}" for k, v in WHAT_IFS.items())
        + "\n(comma-separated; RESULT names then end in _whatif)",
    )
    parser.add_argument(
        "--sink",
        choices=["aiosmtpd-bulk", "aiosmtpd", "lean"],
        default="aiosmtpd-bulk",
        help="the SMTP sink: aiosmtpd-bulk (default), aiosmtpd (as shipped, its own DATA), or\n"
        "lean (a minimal asyncio SMTP server)",
    )
    parser.add_argument(
        "--shared-sink",
        action="store_true",
        help="(b): both workers hand over to one sink (default: a sink per worker)",
    )
    args = parser.parse_args()
    SINK[0] = args.sink
    SHARED_SINK[0] = args.shared_sink
    WHAT_IF.extend(x for x in args.what_if.split(",") if x)
    unknown = set(WHAT_IF) - set(WHAT_IFS)
    if unknown:
        parser.error(f"unknown --what-if: {', '.join(sorted(unknown))}")
    if WHAT_IF:
        print(f"what-if (NOT Accord as shipped): {', '.join(WHAT_IFS[k] for k in WHAT_IF)}")
    n = args.messages or (2_000 if args.quick else 20_000)
    rounds = args.rounds or (1 if args.quick else 3)
    backend = args.backend or ("sqlite" if args.quick else "both")
    sizes = (10_000, 50_000) if args.quick else (100_000, 1_000_000)
    if args.rss_sizes:
        a, b = (int(x) for x in args.rss_sizes.split(","))
        sizes = (a, b)
    seconds = args.rss_seconds or (2.0 if args.quick else 5.0)
    parts = set(args.parts.split(","))
    ctx = multiprocessing.get_context("spawn")
    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        a_postgres = "a" in parts and backend in ("postgres", "both")
        if "a" in parts and backend in ("sqlite", "both"):
            url = f"sqlite:///{workdir / 'dispatch.db'}"
            ratio = throughput_vs_smtplib(ctx, "sqlite", url, n, rounds, workdir, args.profile)
            result("dispatch_vs_smtplib", f"{ratio:.3f}")
            print(f"goal >= {GOAL_VS_SMTPLIB}: {'met' if ratio >= GOAL_VS_SMTPLIB else 'NOT met'}")
            sys.stdout.flush()
        if a_postgres or "b" in parts:
            on_postgres(ctx, n, rounds, workdir, args.profile, a_postgres, "b" in parts)
        if "c" in parts:
            rss_on_postgres_or_sqlite(ctx, sizes, seconds, workdir)


def on_postgres(
    ctx: multiprocessing.context.SpawnContext,
    n: int,
    rounds: int,
    workdir: Path,
    profile: bool,
    part_a: bool,
    part_b: bool,
) -> None:
    """(a) on PostgreSQL and (b), each on a fresh database."""
    pg_url = fresh_postgres(PG_THROUGHPUT)
    if pg_url is None:
        print("postgres: not reachable, skipped")
        return
    try:
        if part_a:
            ratio = throughput_vs_smtplib(ctx, "postgres", pg_url, n, rounds, workdir, profile)
            result("dispatch_vs_smtplib_postgres", f"{ratio:.3f}")
            sys.stdout.flush()
        if part_a and part_b:
            drop_postgres(PG_THROUGHPUT)
            pg_url = fresh_postgres(PG_THROUGHPUT)
            assert pg_url is not None
        if part_b:
            ratio = two_workers_vs_one(ctx, pg_url, n, rounds, workdir, profile)
            result("dispatch_two_workers_vs_one_postgres", f"{ratio:.3f}")
            met = ratio >= GOAL_TWO_WORKERS
            print(f"goal >= {GOAL_TWO_WORKERS}: {'met' if met else 'NOT met'}")
            sys.stdout.flush()
    finally:
        drop_postgres(PG_THROUGHPUT)


def rss_on_postgres_or_sqlite(
    ctx: multiprocessing.context.SpawnContext,
    sizes: tuple[int, int],
    seconds: float,
    workdir: Path,
) -> None:
    """(c) on PostgreSQL, or on SQLite where PostgreSQL is not reachable."""
    found = fresh_postgres(PG_RSS)
    if found is None:
        print("rss: postgres not reachable, measured on SQLite")
    rss_url = found or f"sqlite:///{workdir / 'rss.db'}"
    try:
        rss_by_queue(ctx, rss_url, sizes, seconds, workdir)
    finally:
        if found is not None:
            drop_postgres(PG_RSS)


if __name__ == "__main__":
    main()
