"""The routing index picks exactly the route FastAPI's linear scan picks, for every route of the
app, every method, and paths that match nothing or only after a slash redirect."""

from __future__ import annotations

import re
import uuid
from typing import Any

import pytest
from fastapi import APIRouter, FastAPI
from fastapi.routing import iter_route_contexts
from fastapi.testclient import TestClient
from starlette.routing import Match, Mount

from accord.app import create_app
from accord.core.settings import Settings
from accord.core.web.route_index import RouteIndex
from tests.conftest import RolledBackDatabase

# A method only turns a path's full match into a partial one (405): these cover both.
METHODS = ("GET", "POST", "DELETE")
_PARAM = re.compile(r"{([a-zA-Z_][a-zA-Z0-9_]*)(:[a-zA-Z_][a-zA-Z0-9_]*)?}")
_SAMPLES = {":int": "7", ":float": "1.5", ":path": "a/b.css", ":uuid": str(uuid.uuid4())}


def _concrete(pattern: str) -> str:
    return _PARAM.sub(lambda m: _SAMPLES.get(m.group(2) or "", "x-1"), pattern)


def _patterns(app: FastAPI) -> set[str]:
    found = set()
    for context in iter_route_contexts(app.router.routes):
        route = context.route
        path = context.path
        if isinstance(route, Mount) or isinstance(getattr(context, "starlette_route", None), Mount):
            path = f"{path}/{{path:path}}"
        if isinstance(path, str) and path.startswith("/"):
            found.add(path)
    return found


def _paths(app: FastAPI) -> list[str]:
    paths = set()
    for pattern in _patterns(app):
        path = _concrete(pattern)
        paths |= {path, path + "/", path.rstrip("/") or "/", path + "/extra", path + "x"}
        paths.add(path.rsplit("/", 1)[0] or "/")
    paths |= {"/", "/nothing-here", "/api", "/api/", "/api/v1", "/api/v1/", "/api/v2/brand", "//"}
    return sorted(paths)


def _scope(path: str, method: str) -> dict[str, Any]:
    return {
        "type": "http",
        "method": method,
        "path": path,
        "root_path": "",
        "headers": [],
        "query_string": b"",
    }


def _linear(routes: list[Any], scope: dict[str, Any]) -> tuple[Match, int | None]:
    """What Starlette's and FastAPI's routers do: the first full match, else the first partial."""
    partial = None
    for position, route in enumerate(routes):
        match, _ = route.matches(dict(scope))
        if match == Match.FULL:
            return match, position
        if match == Match.PARTIAL and partial is None:
            partial = position
    return (Match.PARTIAL, partial) if partial is not None else (Match.NONE, None)


@pytest.fixture
def indexed(app: FastAPI) -> RouteIndex:
    index = app.router.middleware_stack
    assert isinstance(index, RouteIndex)
    index.build()
    return index


def test_every_path_and_method_resolves_as_the_linear_scan(
    app: FastAPI, indexed: RouteIndex
) -> None:
    routes = app.router.routes
    paths = _paths(app)
    assert len(paths) > 500
    for path in paths:
        positions = indexed.candidates(path)
        assert positions is not None
        # Every route the index leaves out matches nothing here, whatever the method...
        for position in set(range(len(routes))) - set(positions):
            assert routes[position].matches(_scope(path, "GET"))[0] == Match.NONE, path
        for method in METHODS:
            scope = _scope(path, method)
            # ...so the first full (or partial) match among the candidates is the app's.
            expected = _linear(routes, scope)
            got = _linear([routes[p] for p in positions], scope)
            assert (got[0], positions[got[1]] if got[1] is not None else None) == expected


def test_answers_are_those_of_the_linear_scan(
    settings: Settings, database: RolledBackDatabase, app: FastAPI
) -> None:
    """Through the whole app: a 405 and its Allow header, a slash redirect, a 404, a static
    file, a page and an API error, with and without the index."""
    plain = create_app(settings, database=database)
    plain.router.middleware_stack = plain.router.app  # FastAPI's own linear scan
    requests = [
        ("GET", "/healthz"),
        ("DELETE", "/healthz"),
        ("GET", "/api/v1/brand"),
        ("PUT", "/api/v1/brand"),
        ("GET", "/api/v1/brand/"),
        ("GET", "/api/v1/members/not-a-uuid"),
        ("POST", "/api/v1/nothing"),
        ("GET", "/static/does-not-exist.css"),
        ("GET", "/nothing-here"),
        ("GET", "/signin"),
        ("GET", "/signin/"),
        ("DELETE", "/signin"),
    ]
    with TestClient(app) as indexed_client, TestClient(plain) as plain_client:
        for method, path in requests:
            a = indexed_client.request(method, path, follow_redirects=False)
            b = plain_client.request(method, path, follow_redirects=False)
            assert (a.status_code, a.headers.get("allow"), a.headers.get("location")) == (
                b.status_code,
                b.headers.get("allow"),
                b.headers.get("location"),
            ), (method, path)
            assert a.content == b.content or a.status_code in (200, 303), (method, path)


def test_a_route_added_later_is_found() -> None:
    app = FastAPI()
    router = APIRouter()

    @router.get("/a")
    def a() -> dict[str, str]:
        return {"at": "a"}

    app.include_router(router, prefix="/x")
    from accord.core.web import route_index

    route_index.install(app)
    client = TestClient(app)
    assert client.get("/x/a").json() == {"at": "a"}

    @router.get("/b")
    def b() -> dict[str, str]:
        return {"at": "b"}

    assert client.get("/x/b").json() == {"at": "b"}

    @app.get("/c/{name}")
    def c(name: str) -> dict[str, str]:
        return {"at": name}

    assert client.get("/c/d").json() == {"at": "d"}
    assert client.post("/c/d").status_code == 405
    assert client.get("/x/a/").status_code == 200  # redirected to /x/a
