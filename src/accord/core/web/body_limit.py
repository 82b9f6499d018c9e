"""Refuses request bodies over the configured size with a 413, before any handler runs.

Used by the web edge (`accord.core.web.edge`): a Content-Length over the limit is refused at
once; a body without one (chunked) is counted as it is read, and reading past the limit raises
`TooLarge`, which the edge answers with the 413 unless an answer has started."""

from __future__ import annotations

import json

from starlette.types import Message, Receive

from accord.core.web.error_body import error_body


class TooLarge(Exception):
    pass


def error(limit: int) -> bytes:
    detail = f"The request body is larger than {limit} bytes."
    return json.dumps(error_body("PayloadTooLarge", detail, "body")).encode()


def refusal(limit: int) -> Message:
    """The 413's start (its body is `error(limit)`)."""
    return {
        "type": "http.response.start",
        "status": 413,
        "headers": [
            (b"content-type", b"application/json"),
            (b"content-length", str(len(error(limit))).encode()),
        ],
    }


def counting(receive: Receive, limit: int) -> Receive:
    """`receive` that raises TooLarge once more than `limit` bytes of body have come."""
    seen = 0

    async def counting_receive() -> Message:
        nonlocal seen
        message = await receive()
        if message["type"] == "http.request":
            seen += len(message.get("body", b""))
            if seen > limit:
                raise TooLarge
        return message

    return counting_receive


async def read_body(receive: Receive) -> bytes | None:
    """The whole request body (bounded by the limit the edge applies); None if the client
    left."""
    body = b""
    more = True
    while more:
        message = await receive()
        if message["type"] != "http.request":
            return None
        body += message.get("body", b"")
        more = message.get("more_body", False)
    return body
