"""bench/dispatch.py's SMTP sink: a process of its own that counts messages and their Message-IDs.

Not a benchmark itself; imported by bench/dispatch.py (bench/ is on sys.path when it runs).
"""

from __future__ import annotations

import asyncio
import multiprocessing
import re
import threading
from dataclasses import dataclass
from multiprocessing.connection import Connection
from typing import Any, cast

from _common import free_port

DATA_LIMIT = 1 << 22  # the sink's largest message
MID = re.compile(rb"^Message-ID:[ \t]*(\S+)", re.MULTILINE | re.IGNORECASE)

# --- the sink (its own process) --------------------------------------------------------------

SINK = ["aiosmtpd-bulk"]  # --sink
SHARED_SINK = [False]  # --shared-sink


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
