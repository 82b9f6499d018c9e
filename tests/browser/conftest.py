"""A live Accord (uvicorn in a thread, its own SQLite file) and Debian's Chromium via Playwright."""

from __future__ import annotations

import shutil
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
import uvicorn
from playwright.sync_api import Browser, Page, sync_playwright

from accord.app import create_app
from accord.core import migrate
from accord.core.db import Database
from accord.core.settings import Settings
from tests.databases import IN_CI, fresh_sqlite_url
from tests.smtp_sink import free_port
from tests.waiting import wait_until

CHROMIUM_CANDIDATES = ("/usr/bin/chromium", "/usr/bin/chromium-browser")


def chromium_path() -> str:
    for candidate in CHROMIUM_CANDIDATES:
        if Path(candidate).exists():
            return candidate
    found = shutil.which("chromium")
    if found:
        return found
    message = "Debian's chromium is not installed (apt-get install chromium)"
    if IN_CI:
        pytest.fail(message + " (CI=true: browser tests must run)", pytrace=False)
    pytest.skip(message)


class LiveServer:
    def __init__(self, url: str, database: Database, settings: Settings | None = None) -> None:
        self.url = url
        self.database = database
        self.settings = settings


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    directory = tmp_path_factory.mktemp("live")
    port = free_port()
    settings = Settings(
        var_dir=directory,
        database_url=fresh_sqlite_url(directory, "live"),
        secret_key="browser-test-secret",  # type: ignore[arg-type]
        base_url=f"http://127.0.0.1:{port}",
    )
    database = Database.from_settings(settings)
    migrate.upgrade(database.engine)
    app = create_app(settings, database=database)
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    wait_until(lambda: server.started, timeout=20, what="the live server to start")
    yield LiveServer(settings.base_url, database, settings)
    server.should_exit = True
    thread.join(timeout=10)
    database.engine.dispose()


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    executable = chromium_path()
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=executable,
            headless=True,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
            ],
        )
        yield launched
        launched.close()


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    """A fresh page; any Content-Security-Policy violation on it fails the test (so every
    browser test also checks that its pages need no inline script or style)."""
    context = browser.new_context()
    context.set_default_timeout(15_000)
    pg = context.new_page()
    refused: list[str] = []
    pg.on(
        "console",
        lambda message: (
            refused.append(f"{pg.url}: {message.text}")
            if "Content Security Policy" in message.text
            else None
        ),
    )
    yield pg
    context.close()
    assert refused == [], "Content-Security-Policy violations:\n" + "\n".join(refused)
