"""uvicorn's HTTP protocol (httptools), sending an answer's head and body in one write.

uvicorn writes the status line and headers to the socket as soon as the app starts its answer,
then the body in a second write: two system calls per answer, each of which, on a loopback or
a fast network, hands the client a part to read and wakes it (under load, the process holding
the GIL is then often the one descheduled). Here what the app writes during one turn of the
event loop goes out as one write at the end of that turn: an answer that starts and ends
without waiting for anything (every answer that is not a stream) is one write, one packet.
Nothing waits longer than the turn, and the order of the bytes is unchanged.
"""

from __future__ import annotations

import asyncio
from typing import Any

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol


class _OneWritePerTurn:
    """A transport whose writes within one turn of the loop leave together."""

    def __init__(self, transport: asyncio.Transport, loop: asyncio.AbstractEventLoop) -> None:
        self._transport = transport
        self._loop = loop
        self._pending: list[bytes] = []

    def write(self, data: bytes) -> None:
        if not self._pending:
            self._loop.call_soon(self._flush)
        self._pending.append(data)

    def _flush(self) -> None:
        if not self._pending:
            return
        data, self._pending = b"".join(self._pending), []
        if not self._transport.is_closing():
            self._transport.write(data)

    def close(self) -> None:
        self._flush()  # what was written goes before the close, as it would have
        self._transport.close()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._transport, name)


class OneWriteHttpProtocol(HttpToolsProtocol):
    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        coalescing: Any = _OneWritePerTurn(transport, self.loop)
        super().connection_made(coalescing)
