"""Security headers on every answer, and no inline script or style anywhere in the markup."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from accord.app import create_app
from accord.core.settings import Settings
from accord.core.web.security_headers import policy, script_hash
from tests.conftest import RolledBackDatabase

SRC = Path(__file__).resolve().parents[2] / "src" / "accord"
HTML = {"accept": "text/html"}


def assert_secured(response: object, *, https: bool = False) -> None:
    headers = response.headers  # type: ignore[attr-defined]
    csp = headers["content-security-policy"]
    assert "default-src 'self'" in csp
    assert "frame-ancestors 'none'" in csp
    assert "'unsafe-inline'" not in csp and "'unsafe-eval'" not in csp
    assert re.search(r"script-src 'self'(;|$)", csp)
    assert re.search(r"style-src 'self'(;|$)", csp)
    assert headers["x-content-type-options"] == "nosniff"
    assert headers["referrer-policy"] == "same-origin"
    assert ("strict-transport-security" in headers) is https


@pytest.mark.parametrize(
    ("method", "path", "headers", "status"),
    [
        ("GET", "/", HTML, 200),
        ("GET", "/signin", HTML, 200),
        ("GET", "/api/openapi.json", {}, 200),
        ("GET", "/static/accord.css", {}, 200),
        ("GET", "/api/v1/brand", {}, 401),
        ("GET", "/home", HTML, 303),
        ("GET", "/no-such-page", HTML, 404),
        ("GET", "/api/v1/no-such-route", {}, 404),
        ("POST", "/api/v1/people", {}, 422),
    ],
)
def test_every_kind_of_answer_carries_the_headers(
    client: TestClient, method: str, path: str, headers: dict[str, str], status: int
) -> None:
    response = client.request(method, path, headers=headers, follow_redirects=False)
    assert response.status_code == status
    assert_secured(response)


def test_a_refused_oversize_body_carries_them_too(client: TestClient) -> None:
    response = client.post("/api/v1/people", content=b"x" * 2_000_000)
    assert response.status_code == 413
    assert_secured(response)


def test_https_adds_hsts_and_secure_cookies(
    settings: Settings, database: RolledBackDatabase
) -> None:
    secure = settings.model_copy(update={"base_url": "https://accord.example"})
    app: FastAPI = create_app(secure, database=database)
    with TestClient(app, base_url="https://testserver") as client:
        response = client.get("/signin", headers=HTML)
        assert_secured(response, https=True)
        cookie = response.headers["set-cookie"]
        assert "secure" in cookie.lower() and "httponly" in cookie.lower()


def test_a_route_may_allow_its_own_inline_script_by_hash() -> None:
    source = "console.log('hi')"
    allowed = policy(script_hashes=[script_hash(source)])
    assert re.search(r"script-src 'self' 'sha256-[A-Za-z0-9+/=]{44}'", allowed)
    assert "'unsafe-inline'" not in allowed


# What a strict policy refuses: inline <script> (without src) and <style> elements, style=
# attributes, on…= event handlers and javascript: URLs.
INLINE = [
    re.compile(r"<script(?![^>]*\bsrc=)[^>]*>", re.I),
    re.compile(r"<style\b", re.I),
    re.compile(r"""\sstyle\s*=\s*["']""", re.I),
    re.compile(r"""\son[a-z]+\s*=\s*["']""", re.I),
    re.compile(r"javascript:", re.I),
]


def _markup_files() -> list[Path]:
    templates = sorted(SRC.glob("**/templates/**/*.html"))
    # Markup built in Python for pages (charts as SVG): what is handed to templates as Markup.
    builders = [p for p in sorted(SRC.glob("**/*.py")) if "Markup(f" in p.read_text()]
    return templates + builders


def test_no_page_markup_uses_inline_script_or_style() -> None:
    found = [
        f"{path.relative_to(SRC)}: {match.group(0)!r}"
        for path in _markup_files()
        for pattern in INLINE
        for match in pattern.finditer(path.read_text())
    ]
    assert found == []


def test_the_markup_check_finds_inline_code() -> None:
    sample = '<p style="color:red" onclick="x()"><script>1</script><a href="javascript:x">'
    assert sum(1 for pattern in INLINE if pattern.search(sample)) == 4
    assert not any(p.search('<script src="/static/app.js" defer></script>') for p in INLINE)
