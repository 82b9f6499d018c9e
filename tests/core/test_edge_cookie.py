"""The web edge remembers a valid session cookie's check, and still refuses it once expired
(or dated in the future), as itsdangerous would; a forged cookie is never remembered."""

from __future__ import annotations

import time
from base64 import b64encode

import pytest

from accord.core.web.edge import Edge


async def _app(scope: object, receive: object, send: object) -> None:  # never called
    raise AssertionError


def test_a_remembered_cookie_still_expires(monkeypatch: pytest.MonkeyPatch) -> None:
    edge = Edge(
        _app, https=False, max_bytes=1000, secret_key="k" * 32,
        session_cookie="accord_session", max_age=100, sqlite=False,
    )  # fmt: skip
    signed = edge.signer.sign(b64encode(b'{"person_id": "p"}'))
    header = b"theme=dark; accord_session=" + signed
    for _ in range(2):  # checked, then remembered
        assert edge._session_json(header) == '{"person_id": "p"}'
    assert len(edge._checked) == 1
    now = time.time()
    for moved in (101, -10):  # too old, or signed "in the future": refused, as by itsdangerous
        monkeypatch.setattr(time, "time", lambda moved=moved: now + moved)
        assert edge._session_json(header) is None
        with pytest.raises(Exception, match="Signature age"):
            edge.signer.unsign(signed, max_age=100)
    monkeypatch.undo()
    forged = b"accord_session=" + signed[:-3] + b"abc"
    assert edge._session_json(forged) is None
    assert edge._session_json(b"theme=dark") is None
    assert list(edge._checked) == [header]
