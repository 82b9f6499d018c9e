"""A route that runs its usual requests without FastAPI's general dependency solver.

For every request FastAPI walks the route's dependency tree again: cache keys, callable checks,
every kind of parameter (query, header, cookie) looked up whether declared or not, the body's
content type parsed with `email.message`, the endpoint's context built for error messages. For a
route that does little else (a person's preference change: bench/preference_write.py) that was
about a tenth of the server's time. A `LeanRoute` is FastAPI's route unchanged (its dependant,
so the OpenAPI document, and its handler) plus a plan made once from the same dependant, which
runs the usual request: a JSON body (`Content-Type: application/json`) and path parameters that
validate, no dependency overrides, no telemetry. It validates them first (that has no effects),
then runs the same dependencies in FastAPI's order (depth first, each once per request), then
the endpoint. Any other request (an invalid body or path, another content type, an empty body)
goes to FastAPI's own handler from the start, so every answer but the usual one, and the order
of answers (a dependency's 401 before a body's 422), is FastAPI's own.

Only what the plan understands is planned: `async def` dependencies that take the request and
other such dependencies, path parameters, one JSON body, and an `async def` endpoint that
returns a `Response`. A route with anything else always runs FastAPI's handler
(`tests/core/test_lean_route.py` holds the preference change to being planned).
"""

from __future__ import annotations

import asyncio
import typing
from collections.abc import Callable, Coroutine
from json import JSONDecodeError
from typing import Any

import fastapi.routing
from fastapi.dependencies.models import Dependant
from fastapi.dependencies.utils import _should_embed_body_fields
from fastapi.params import Form
from fastapi.routing import APIRoute
from fastapi.security.base import SecurityBase
from starlette.requests import Request
from starlette.responses import Response

try:
    from fastapi.telemetry._api import get_telemetry_data
except ImportError:  # pragma: no cover - an older FastAPI has no telemetry to keep
    get_telemetry_data = None  # type: ignore[assignment]

Handler = Callable[[Request], Coroutine[Any, Any, Response]]
_JSON = "application/json"
_MISSING = object()
_VALID = "accord_inputs_valid"  # scope key: the plan validated the body and path parameters


def inputs_valid(request: Request) -> bool:
    """Has a plan validated this request's body and path parameters before its dependencies?

    Then no body or path error can answer it (FastAPI answers a dependency's refusal before
    those): a dependency may leave a check to the endpoint's own first statement, whose refusal
    is then the only answer FastAPI's order would have given (`accord.people.deps.
    person_to_check`)."""
    return bool(request.scope.get(_VALID))


class _Dependency:
    """One planned dependency: its call, where the request goes, its own dependencies."""

    __slots__ = ("call", "needs", "request_name")

    def __init__(
        self, call: Any, request_name: str | None, needs: list[tuple[str | None, _Dependency]]
    ) -> None:
        self.call = call
        self.request_name = request_name
        self.needs = needs


async def _arguments(dependency: _Dependency, request: Request, solved: dict[Any, Any]) -> Any:
    """The arguments of a dependency's call: each dependency's value solved once per request,
    depth first (as FastAPI's dependency cache does)."""
    arguments: dict[str, Any] = {}
    if dependency.request_name is not None:
        arguments[dependency.request_name] = request
    for name, need in dependency.needs:
        value = solved.get(need.call, _MISSING)
        if value is _MISSING:
            value = solved[need.call] = await need.call(**await _arguments(need, request, solved))
        if name is not None:
            arguments[name] = value
    return arguments


def _only_request_and_dependencies(dependant: Dependant) -> bool:
    return not (
        dependant.path_params
        or dependant.query_params
        or dependant.header_params
        or dependant.cookie_params
        or dependant.body_params
        or dependant.websocket_param_name
        or dependant.http_connection_param_name
        or dependant.response_param_name
        or dependant.background_tasks_param_name
        or dependant.security_scopes_param_name
        or dependant.own_oauth_scopes
        or dependant.parent_oauth_scopes
    )


def _plain_async(call: Any) -> bool:
    """A plain `async def` function (no class, partial, generator or security scheme, whose
    handling FastAPI decides otherwise)."""
    return (
        not isinstance(call, SecurityBase)
        and asyncio.iscoroutinefunction(call)
        and getattr(call, "__wrapped__", None) is None
    )


def _plan_dependency(dependant: Dependant) -> _Dependency | None:
    if not (
        _plain_async(dependant.call)
        and _only_request_and_dependencies(dependant)
        and dependant.use_cache
        and dependant.scope is None
        and dependant.concurrency is None
    ):
        return None
    needs = _plan_needs(dependant)
    if needs is None:
        return None
    return _Dependency(dependant.call, dependant.request_param_name, needs)


def _plan_needs(dependant: Dependant) -> list[tuple[str | None, _Dependency]] | None:
    needs: list[tuple[str | None, _Dependency]] = []
    for sub in dependant.dependencies:
        planned = _plan_dependency(sub)
        if planned is None:
            return None
        needs.append((sub.name, planned))
    return needs


def _returns_response(call: Any) -> bool:
    try:
        returned = typing.get_type_hints(call).get("return")
    except Exception:  # an annotation that cannot be resolved: not planned
        return False
    return isinstance(returned, type) and issubclass(returned, Response)


class _Plan:
    """What a usual request runs: the body's field, the path parameters' fields, the endpoint
    with its dependencies."""

    def __init__(self, route: Any) -> None:
        dependant: Dependant = route.dependant
        self.body = dependant.body_params[0]
        self.path = [(field.name, field.alias, field) for field in dependant.path_params]
        self.endpoint = _Dependency(dependant.call, dependant.request_param_name, [])
        self.overrides = route.dependency_overrides_provider

    @staticmethod
    def build(route: Any) -> _Plan | None:
        dependant: Dependant | None = route.dependant
        if dependant is None or get_telemetry_data is None:
            return None
        body = dependant.body_params
        if not (
            len(body) == 1
            and not route._embed_body_fields
            and not _should_embed_body_fields(body)
            and not isinstance(body[0].field_info, Form)
            and not (dependant.query_params or dependant.header_params or dependant.cookie_params)
            and not (
                dependant.websocket_param_name
                or dependant.http_connection_param_name
                or dependant.response_param_name
                or dependant.background_tasks_param_name
                or dependant.security_scopes_param_name
            )
            and all(f.field_info.validation_alias is None for f in dependant.path_params)
            and _plain_async(dependant.call)
            and _returns_response(dependant.call)
            and not getattr(route, "is_sse_stream", False)
            and not getattr(route, "is_json_stream", False)
        ):
            return None
        needs = _plan_needs(dependant)
        if needs is None:
            return None
        plan = _Plan(route)
        plan.endpoint.needs = needs
        return plan

    def usual(self, request: Request) -> bool:
        overrides = self.overrides
        return not (
            (overrides is not None and getattr(overrides, "dependency_overrides", None))
            or get_telemetry_data() is not None
            or request.headers.get("content-type") != _JSON
        )

    async def _inputs(self, request: Request) -> dict[str, Any] | None:
        """The body and path parameters, validated as FastAPI does; None when anything is
        unusual (FastAPI's handler answers those)."""
        body = await request.body()
        if not body:
            return None
        try:
            data = await request.json()
        except JSONDecodeError:
            return None
        values: dict[str, Any] = {}
        value, errors = self.body.validate(data, values, loc=("body",))
        if errors:
            return None
        values[self.body.name] = value
        path_params = request.path_params
        for name, alias, field in self.path:
            value, errors = field.validate(path_params.get(alias), values, loc=("path", alias))
            if errors:
                return None
            values[name] = value
        return values

    async def run(self, request: Request, full: Handler) -> Response:
        values = await self._inputs(request)
        if values is None:
            return await full(request)
        request.scope[_VALID] = True
        endpoint = self.endpoint
        response = await endpoint.call(**await _arguments(endpoint, request, {}), **values)
        if not isinstance(response, Response):
            raise TypeError(f"{endpoint.call.__qualname__} must return a Response")
        return response


class LeanRoute(APIRoute):
    """An APIRoute whose usual requests skip FastAPI's dependency solver (see the module)."""

    def get_route_handler(self) -> Handler:
        full = super().get_route_handler()
        # An included router's copy of the route has its own dependant (its router's
        # dependencies added): FastAPI builds that copy's handler with it set here.
        context = getattr(fastapi.routing, "_effective_route_context_var", None)
        effective = context.get() if context is not None else None
        route = effective if getattr(effective, "original_route", None) is self else self
        plan = _Plan.build(route)
        if plan is None:
            return full

        async def lean(request: Request) -> Response:
            if not plan.usual(request):
                return await full(request)
            return await plan.run(request, full)

        lean.accord_plan = plan  # type: ignore[attr-defined]
        return lean
