"""The API documentation renders with no network beyond Accord itself (no CDN)."""

from __future__ import annotations

from urllib.parse import urlsplit

from playwright.sync_api import Page, Route, expect

from tests.browser.conftest import LiveServer


def test_the_api_docs_render_offline(live: LiveServer, page: Page) -> None:
    ours = urlsplit(live.url).netloc
    elsewhere: list[str] = []

    def only_accord(route: Route) -> None:
        if urlsplit(route.request.url).netloc == ours:
            route.continue_()
        else:  # as if offline: anything not served by Accord fails
            elsewhere.append(route.request.url)
            route.abort()

    page.route("**/*", only_accord)
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.on("console", lambda m: errors.append(m.text))
    page.goto(live.url + "/api/docs")
    # Swagger UI builds the page from the whole OpenAPI document (hundreds of operations):
    # on a loaded machine that takes longer than the default five seconds.
    expect(page.locator(".swagger-ui .info .title")).to_contain_text("Accord", timeout=60_000)
    expect(page.get_by_text("/api/v1/brand").first).to_be_visible()
    assert elsewhere == [] and errors == []
