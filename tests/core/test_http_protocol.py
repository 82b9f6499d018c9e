"""The served HTTP protocol sends an answer's head and body in one write, and otherwise
answers as uvicorn's own: plain and streamed answers, keep-alive, and a closing HTTP/1.0 client."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import AsyncIterator, Iterator

import httpx
import pytest
import uvicorn
from fastapi import FastAPI
from fastapi.responses import StreamingResponse

from accord.core.web.http_protocol import OneWriteHttpProtocol


def _app() -> FastAPI:
    app = FastAPI()

    @app.get("/plain")
    async def plain() -> dict[str, str]:
        return {"hello": "there"}

    @app.get("/stream")
    async def stream() -> StreamingResponse:
        async def parts() -> AsyncIterator[bytes]:
            for n in range(3):
                yield f"part{n};".encode()

        return StreamingResponse(parts(), media_type="text/plain")

    return app


@pytest.fixture(scope="module")
def base() -> Iterator[str]:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    config = uvicorn.Config(
        _app(), host="127.0.0.1", port=port, http=OneWriteHttpProtocol, log_level="warning"
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.05)
    assert server.started
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(10)


def test_answers_plain_and_streamed_on_one_kept_alive_connection(base: str) -> None:
    with httpx.Client(base_url=base) as client:
        for _ in range(3):
            assert client.get("/plain").json() == {"hello": "there"}
            assert client.get("/stream").text == "part0;part1;part2;"
            assert client.get("/missing").status_code == 404


def test_head_and_body_arrive_together(base: str) -> None:
    host, port = base.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port))) as sock:
        sock.sendall(b"GET /plain HTTP/1.1\r\nHost: x\r\n\r\n")
        first = sock.recv(65536)  # one write of a small answer is one segment on loopback
    assert first.startswith(b"HTTP/1.1 200 OK\r\n")
    assert first.endswith(b'\r\n\r\n{"hello":"there"}')


def test_an_http_1_0_client_gets_the_answer_then_the_close(base: str) -> None:
    host, port = base.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port))) as sock:
        sock.sendall(b"GET /plain HTTP/1.0\r\n\r\n")
        received = b""
        while chunk := sock.recv(65536):
            received += chunk
    assert received.startswith(b"HTTP/1.1 200 OK\r\n")
    assert received.endswith(b'{"hello":"there"}')
