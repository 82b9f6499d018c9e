"""Schemathesis over every operation of the OpenAPI document, as one caller.

Checks: no server error, every status documented, the documented content type, and the body
valid against the documented schema. Bounded examples per operation; derandomized, so a run
is reproducible. Used by tests/core/test_api_fuzz.py (and handy from a shell when a route is
added: every operation in the document is covered, nothing to register).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import schemathesis
from fastapi import FastAPI
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from schemathesis.checks import not_a_server_error
from schemathesis.core.result import Err
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]


@dataclass
class Caller:
    """Who calls: headers and cookies sent with every request, real ids for path params."""

    name: str
    headers: dict[str, str] = field(default_factory=dict)
    cookies: dict[str, str] = field(default_factory=dict)
    known_ids: Mapping[str, str] = field(default_factory=dict)


def fuzz(
    app: FastAPI,
    caller: Caller,
    *,
    examples: int,
    skip: Iterable[tuple[str, str]] = (),
    after_each: Callable[[], None] | None = None,
) -> list[str]:
    """Every failure (operation, check, the request to reproduce it); [] when all is well."""
    schema = schemathesis.openapi.from_asgi("/api/openapi.json", app)
    skipped = {(method.upper(), path) for method, path in skip}
    failures: list[str] = []
    for result in schema.get_all_operations():
        if isinstance(result, Err):
            failures.append(f"[{caller.name}] the document does not load: {result.err()}")
            continue
        operation = result.ok()
        if (operation.method.upper(), operation.path) in skipped:
            continue
        names = {p.name for p in operation.path_parameters}
        known = {name: value for name, value in caller.known_ids.items() if name in names}
        strategies = [operation.as_strategy()]
        if known:
            # Half the time the path names a real object of the caller, to get past the 404.
            strategies.append(operation.as_strategy(path_parameters=known))

        @settings(
            max_examples=examples,
            deadline=None,
            derandomize=True,
            database=None,
            phases=[Phase.explicit, Phase.generate],
            suppress_health_check=list(HealthCheck),
        )
        @given(case=st.one_of(strategies))
        def run(case: Any) -> None:
            response = case.call(headers=caller.headers, cookies=caller.cookies)
            if after_each is not None:
                after_each()
            case.validate_response(response, checks=CHECKS, headers=caller.headers)

        try:
            run()
        except (Exception, BaseExceptionGroup) as exc:  # each is reported, the run goes on
            failures.append(f"[{caller.name}] {operation.label}: {exc}")
    return failures
