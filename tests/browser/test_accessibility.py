"""axe-core on every page of the demo, as a person and as each member role, at 1280 and 390 px
wide: no serious or critical violation.

The pages are found by following links from each home page (the console's, the portal's), so
a page added later is checked without editing this test; each route is checked once per role
(its first address found). axe-core is vendored from the npm registry
(tests/browser/vendor/axe-core-4.14.1, MPL-2.0) and injected into each page.
"""

from __future__ import annotations

import json
import os
import re
import shutil
from collections import deque
from collections.abc import Iterator
from pathlib import Path
from unittest.mock import patch
from urllib.parse import urldefrag, urljoin, urlsplit

import pytest
from playwright.sync_api import Browser, Page

from accord.demo import analytics_seed, data
from accord.demo.seed import seed
from tests.browser.conftest import LiveServer
from tests.browser.test_portal import sign_in

AXE = Path(__file__).parent / "vendor" / "axe-core-4.14.1" / "axe.min.js"
WIDTHS = (1280, 390)
BAD = ("serious", "critical")
SKIP = re.compile(r"^/(api|static|dev|u|auth|invitations|consent/confirm|contacts/verify)(/|$)")
ID = re.compile(r"/([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}|\d+)(?=/|$)")
MEMBERS = {
    "owner": "owner@groove.example",
    "marketer": "marketing@groove.example",
    "analyst": "insights@groove.example",
    "support": "support@velo.example",
}


@pytest.fixture(scope="module")
def demo(live: LiveServer, tmp_path_factory: pytest.TempPathFactory) -> LiveServer:
    """The demo world in the live server's database; CDNOW's 1/10 sample as Groove's history
    when the data set is there (the analytics tabs show their figures then)."""
    sample = analytics_seed.cdnow_dir() / "CDNOW_sample.txt"
    directory = tmp_path_factory.mktemp("cdnow")
    if sample.is_file():
        shutil.copy(sample, directory / analytics_seed.MASTER)
    settings = live.settings
    assert settings is not None
    with (
        patch.dict(os.environ, {"ACCORD_CDNOW_DIR": str(directory)}),
        live.database.transaction() as session,
    ):
        seed(session, settings)
    return live


def route_of(path: str) -> str:
    return ID.sub("/{id}", path)


def pages(page: Page, base: str, start: str) -> list[str]:
    """The first address of every route reachable by links from `start`, as this caller."""
    found: dict[str, str] = {}
    queue, seen = deque([start]), {start}
    while queue:
        address = queue.popleft()
        response = page.context.request.get(base + address, headers={"accept": "text/html"})
        if not response.ok or "text/html" not in response.headers.get("content-type", ""):
            continue
        found.setdefault(route_of(urlsplit(address).path), address)
        for href in re.findall(r'<a [^>]*href="([^"#][^"]*)"', response.text()):
            target = urldefrag(urljoin(base + address, href.replace("&amp;", "&")))[0]
            parts = urlsplit(target)
            if not target.startswith(base) or SKIP.match(parts.path):
                continue
            local = parts.path + (f"?{parts.query}" if parts.query else "")
            if local not in seen and route_of(parts.path) not in found:
                seen.add(local)
                queue.append(local)
    return sorted(found.values())


def violations(page: Page) -> list[str]:
    # Evaluated through the DevTools protocol, which the pages' strict CSP (no inline script)
    # does not govern; a <script> tag added to the page would be refused by it.
    page.evaluate(AXE.read_text(encoding="utf-8") + "\n;true")
    result = page.evaluate(
        "async () => { const r = await axe.run(document, {resultTypes: ['violations']});"
        " return JSON.stringify(r.violations); }"
    )
    found = []
    for v in json.loads(result):
        if v["impact"] in BAD:
            targets = "; ".join(str(n["target"]) for n in v["nodes"][:3])
            found.append(f"{v['id']} ({v['impact']}): {v['help']} at {targets}")
    return found


def check_all(page: Page, base: str, start: str, who: str) -> None:
    addresses = pages(page, base, start)
    assert len(addresses) > 3, f"{who}: only {addresses} found"
    problems = []
    for address in addresses:
        page.set_viewport_size({"width": WIDTHS[0], "height": 900})
        page.goto(base + address)
        for width in WIDTHS:
            page.set_viewport_size({"width": width, "height": 900})
            problems += [f"{who} {address} at {width}px: {v}" for v in violations(page)]
    assert not problems, "\n".join(problems)


@pytest.fixture
def fresh(browser: Browser) -> Iterator[Page]:
    context = browser.new_context()
    context.set_default_timeout(20_000)
    yield context.new_page()
    context.close()


def test_every_portal_page_passes_axe(demo: LiveServer, fresh: Page) -> None:
    check_all(fresh, demo.url, "/", "anonymous")
    sign_in(demo, fresh, "ada@people.example")
    check_all(fresh, demo.url, "/home", "person")


@pytest.mark.parametrize("role", list(MEMBERS))
def test_every_console_page_passes_axe_for_each_role(
    demo: LiveServer, fresh: Page, role: str
) -> None:
    fresh.goto(demo.url + "/console/signin")
    fresh.get_by_label("E-mail address").first.fill(MEMBERS[role])
    fresh.get_by_label("Password", exact=True).fill(data.DEMO_PASSWORD)
    fresh.get_by_role("button", name="Sign in", exact=True).click()
    fresh.wait_for_url(re.compile(r"/console$"))
    check_all(fresh, demo.url, "/console", role)
