"""A routing index: a request tries only the routes whose paths could match it.

Starlette (and FastAPI's router) try every route in turn until one matches; with every domain's
routers included that is a few hundred regular expressions, and FastAPI tries an included
router's routes twice (once to find the router, once to pick its route), which cost an API read
a fifth of its time. The index groups the app's top-level routes (an included router counts as
one, its routes together) by the literal start of their paths: `/api/v1/members/{member_id}`
can only match paths under `/api/v1/members/`, `/healthz` only `/healthz`. A request looks up
its path's segments and hands FastAPI's own router a list of the routes it could match, in
their original order, so the first full match, the first partial one (a 405) and every other
rule are FastAPI's. When none of them matches, the whole app is scanned as before (slash
redirects, catch-alls, the 404).

A route whose path cannot be read (a host route, a catch-all group) is tried for every path.
The index is rebuilt when any router gains or loses a route (counted as FastAPI marks it).
`tests/core/test_route_index.py` compares it with the linear scan over every route of the app.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from functools import partial
from typing import Any

from fastapi import FastAPI
from fastapi.routing import APIRouter
from starlette._utils import get_route_path
from starlette.routing import BaseRoute, Mount, Route, WebSocketRoute
from starlette.types import ASGIApp, Receive, Scope, Send


class _Node:
    __slots__ = ("below", "children", "exact", "here", "under")

    def __init__(self) -> None:
        self.children: dict[str, _Node] = {}
        self.exact: set[int] = set()  # routes matching exactly this path
        self.below: set[int] = set()  # routes that may match this path or any path under it
        # What `candidates` answers for a path that ends here, or goes on under it with no
        # child for its next segment (`_settle`: once per build, not per request).
        self.here: tuple[int, ...] = ()
        self.under: tuple[int, ...] = ()


def _settle(node: _Node, above: frozenset[int]) -> None:
    found = above | node.below
    node.under = tuple(sorted(found))
    node.here = tuple(sorted(found | node.exact))
    for child in node.children.values():
        _settle(child, found)


# Bumped whenever any watched router's routes change (`_watch`): an index built at another
# count is rebuilt before its next request.
_changes = 0


def _changed(mark: Callable[[Any], None], router: Any) -> None:
    global _changes
    mark(router)
    _changes += 1


def _watch(router: Any) -> bool:
    """Count `router`'s changes in `_changes` (FastAPI marks every change of a router's routes
    with `_mark_routes_changed`); False if this FastAPI has no such mark."""
    if "_mark_routes_changed" in vars(router):
        return True
    mark = getattr(type(router), "_mark_routes_changed", None)
    if mark is None:
        return False
    router._mark_routes_changed = partial(_changed, mark, router)
    return True


class _Candidates(APIRouter):
    """FastAPI's router over some of the app's routes. When none matches, the whole app
    decides (its slash redirects, catch-alls and 404), never this partial view."""

    def _iter_low_priority_routes(self) -> Iterator[Any]:
        return iter(())


def _pattern(route: Any) -> str | None:
    """The path pattern a route's regular expression is built from, if it has one."""
    if isinstance(route, Mount):
        return f"{route.path}/{{path:path}}"
    if isinstance(route, Route | WebSocketRoute) or hasattr(route, "path_format"):
        path = getattr(route, "path", None)
        return path if isinstance(path, str) and path.startswith("/") else None
    return None


def _leaves(route: BaseRoute) -> Iterator[str | None]:
    """The path patterns of `route`, or of every route of an included router."""
    contexts = getattr(route, "effective_route_contexts", None)
    if contexts is None:
        yield _pattern(route)
        return
    for context in contexts():
        starlette_route = getattr(context, "starlette_route", None)
        if starlette_route is not None:
            yield _pattern(starlette_route)
        elif getattr(context, "path_regex", None) is not None:
            yield _pattern(context)
        else:  # a group of catch-all frontend routes: no single pattern
            yield None


def _routers(routes: list[BaseRoute]) -> Iterator[Any]:
    """Every router included, at any depth: a route added to one changes the index."""
    for route in routes:
        original = getattr(route, "original_router", None)
        if original is not None:
            yield original
            yield from _routers(original.routes)


class RouteIndex:
    def __init__(self, app: FastAPI) -> None:
        self.router = app.router
        self.full_scan: ASGIApp = self.router.middleware_stack
        self._version: tuple[int, ...] | None = None
        self._routers: list[Any] = []
        self._watched = False
        self._root = _Node()
        self._views: dict[tuple[int, ...], _Candidates] = {}

    def _fresh(self) -> bool:
        version = self._version
        if version is None or version[0] != len(self.router.routes):
            return False
        if self._watched:
            # No router's routes changed since the build (reading each router's version on
            # every request cost more than finding the candidates).
            return version[1] == _changes
        return version[2:] == tuple([getattr(r, "_routes_version", 0) for r in self._routers])

    def build(self) -> None:
        self._routers = [self.router, *_routers(self.router.routes)]
        self._watched = all([_watch(router) for router in self._routers])
        root = _Node()
        for position, route in enumerate(self.router.routes):
            for pattern in _leaves(route):
                _add(root, position, pattern)
        _settle(root, frozenset())
        self._root = root
        self._views = {}
        self._version = (
            len(self.router.routes),
            _changes,
            *(getattr(r, "_routes_version", 0) for r in self._routers),
        )

    def candidates(self, path: str) -> tuple[int, ...] | None:
        """Positions of the top-level routes that could match `path`; None: try them all."""
        if not path.startswith("/"):
            return None
        node = self._root
        for segment in path.split("/")[1:]:
            child = node.children.get(segment)
            if child is None:
                return node.under
            node = child
        return node.here

    def _view(self, positions: tuple[int, ...]) -> _Candidates:
        view = self._views.get(positions)
        if view is None:
            routes = self.router.routes
            view = _Candidates(
                routes=[routes[p] for p in positions],
                redirect_slashes=False,
                default=self.full_scan,
            )
            view.form_limits = getattr(self.router, "form_limits", view.form_limits)
            self._views[positions] = view
        return view

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.full_scan(scope, receive, send)
            return
        if not self._fresh():
            self.build()
        positions = self.candidates(get_route_path(scope))
        if positions is None:
            await self.full_scan(scope, receive, send)
            return
        scope.setdefault("router", self.router)  # url_for must see the whole app
        await self._view(positions).app(scope, receive, send)


def _add(root: _Node, position: int, pattern: str | None) -> None:
    if pattern is None:
        root.below.add(position)
        return
    brace = pattern.find("{")
    if brace < 0:
        node = _node(root, pattern.split("/")[1:])
        node.exact.add(position)
        return
    # The text before the first parameter is literal; its last segment may continue into the
    # parameter ("/t/o/{token}.gif", "/u/{token}"), so only the whole segments before it count.
    node = _node(root, pattern[:brace].split("/")[1:-1])
    node.below.add(position)


def _node(root: _Node, segments: list[str]) -> _Node:
    node = root
    for segment in segments:
        node = node.children.setdefault(segment, _Node())
    return node


def install(app: FastAPI) -> None:
    """Route `app`'s HTTP requests through an index (unless its router has middleware of its
    own, which the index would bypass)."""
    router = app.router
    if router.middleware_stack != router.app:
        return
    router.middleware_stack = RouteIndex(app)
