"""A LeanRoute answers exactly as FastAPI's own handler: the usual request through its plan,
anything else through FastAPI, and the order of answers (a dependency's 401 before the body's
422) kept; the preference change is planned; what the plan does not understand is not."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

import pytest
from fastapi import APIRouter, Depends, FastAPI, HTTPException, Request
from fastapi.routing import iter_route_contexts
from fastapi.testclient import TestClient
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy.orm import Session
from starlette.responses import Response

from accord.core.web.lean_route import LeanRoute
from tests.builders import make_brand, make_person, make_topic
from tests.helpers import csrf_of, sign_in_person


def _plan_of(app: Any) -> object | None:
    """The plan inside a route's ASGI app (request_response's closure), if any."""
    seen: set[int] = set()

    def find(obj: Any, depth: int) -> object | None:
        if id(obj) in seen or depth > 6:
            return None
        seen.add(id(obj))
        if hasattr(obj, "accord_plan"):
            return obj.accord_plan
        for cell in getattr(obj, "__closure__", None) or ():
            try:
                value = cell.cell_contents
            except ValueError:
                continue
            if callable(value) and (found := find(value, depth + 1)) is not None:
                return found
        return None

    return find(app, 0)


def _plans(app: FastAPI, path: str) -> dict[str, object | None]:
    return {
        method: _plan_of(context._route_context.app)  # type: ignore[union-attr]
        for context in iter_route_contexts(list(app.routes))
        if getattr(context, "path_format", None) == path
        for method in context.methods or ()
    }


class Body(BaseModel):
    model_config = ConfigDict(extra="forbid")
    n: int = Field(ge=0)


calls: list[str] = []


async def session_like(request: Request) -> str:
    calls.append("session")
    return "S"


async def caller(request: Request, session: Annotated[str, Depends(session_like)]) -> str:
    calls.append("caller")
    if request.headers.get("x-who") is None:
        raise HTTPException(401, "sign in")
    return request.headers["x-who"]


async def endpoint(
    item_id: uuid.UUID,
    data: Body,
    who: Annotated[str, Depends(caller)],
    session: Annotated[str, Depends(session_like)],
    request: Request,
) -> Response:
    calls.append("endpoint")
    return Response(f"{who} {session} {item_id} {data.n} {request.method}", media_type="text/plain")


def _app(route_class: type) -> FastAPI:
    router = APIRouter(prefix="/r")
    router.add_api_route(
        "/items/{item_id}", endpoint, methods=["PATCH"], route_class_override=route_class
    )
    app = FastAPI()
    app.include_router(router, prefix="/api")
    return app


# Fixed, not uuid4(): the parameter ids must be the same in every pytest-xdist worker.
ITEM = "5c445026-dc39-4b4b-8209-5fa8c9457e40"
CASES: list[tuple[str, dict[str, str], bytes]] = [
    (ITEM, {"x-who": "ann", "content-type": "application/json"}, b'{"n": 3}'),  # the usual one
    (ITEM, {"content-type": "application/json"}, b'{"n": 3}'),  # no caller: 401
    (ITEM, {"content-type": "application/json"}, b'{"n": -1}'),  # bad body, no caller: 401
    (ITEM, {"x-who": "ann", "content-type": "application/json"}, b'{"n": -1}'),  # 422
    (ITEM, {"x-who": "ann", "content-type": "application/json"}, b'{"n": 3, "x": 1}'),  # 422
    ("not-a-uuid", {"x-who": "ann", "content-type": "application/json"}, b'{"n": 3}'),  # 422
    ("not-a-uuid", {"content-type": "application/json"}, b'{"n": 3}'),  # 401
    (ITEM, {"x-who": "ann", "content-type": "application/json"}, b'{"n": '),  # bad JSON
    (ITEM, {"content-type": "application/json"}, b'{"n": '),  # bad JSON, no caller
    (ITEM, {"x-who": "ann", "content-type": "application/json"}, b""),  # no body
    (ITEM, {"x-who": "ann", "content-type": "text/plain"}, b'{"n": 3}'),
    (ITEM, {"x-who": "ann"}, b'{"n": 3}'),  # no content type
    (ITEM, {"x-who": "ann", "content-type": "application/merge-patch+json"}, b'{"n": 3}'),
    (ITEM, {"x-who": "ann", "content-type": "application/json; charset=utf-8"}, b'{"n": 3}'),
    (ITEM, {"x-who": "ann", "content-type": "application/json"}, b"null"),
]


@pytest.mark.parametrize(("item", "headers", "body"), CASES)
def test_answers_as_fastapi_does(item: str, headers: dict[str, str], body: bytes) -> None:
    answers = []
    for route_class in (LeanRoute, __import__("fastapi").routing.APIRoute):
        calls.clear()
        with TestClient(_app(route_class)) as client:
            answer = client.patch(f"/api/r/items/{item}", content=body, headers=headers)
        answers.append((answer.status_code, answer.text, list(calls)))
    assert answers[0] == answers[1]


def test_the_usual_request_runs_the_plan_and_overrides_still_count() -> None:
    app = _app(LeanRoute)
    assert _plans(app, "/api/r/items/{item_id}")["PATCH"] is not None
    with TestClient(app) as client:
        calls.clear()
        usual = client.patch(f"/api/r/items/{ITEM}", json={"n": 3}, headers={"x-who": "ann"})
        assert usual.text == f"ann S {ITEM} 3 PATCH" and calls == ["session", "caller", "endpoint"]

        async def someone_else() -> str:
            return "bob"

        app.dependency_overrides[caller] = someone_else
        assert client.patch(f"/api/r/items/{ITEM}", json={"n": 1}).text == f"bob S {ITEM} 1 PATCH"


def sync_dependency() -> str:
    return "x"


def test_what_the_plan_does_not_understand_is_not_planned() -> None:
    async def with_query(q: int, data: Body) -> Response:
        return Response("q")

    async def with_sync(data: Body, x: Annotated[str, Depends(sync_dependency)]) -> Response:
        return Response(x)

    async def returns_model(data: Body) -> Body:
        return data

    router = APIRouter()
    for path, call in (("/q", with_query), ("/s", with_sync), ("/m", returns_model)):
        router.add_api_route(path, call, methods=["POST"], route_class_override=LeanRoute)
    app = FastAPI()
    app.include_router(router)
    for path in ("/q", "/s", "/m"):
        assert _plans(app, path) == {"POST": None}
    with TestClient(app) as client:
        assert client.post("/m", json={"n": 2}).json() == {"n": 2}
        assert client.post("/s", json={"n": 2}).text == "x"


def test_the_preference_change_is_planned(app: FastAPI) -> None:
    plans = _plans(app, "/api/v1/me/relationships/{brand_id}")
    assert plans["PATCH"] is not None and plans["GET"] is None


def test_a_revoked_session_with_a_bad_body_is_a_401(client: TestClient, session: Session) -> None:
    person = make_person(session)
    sign_in_person(client, session, person.email)
    csrf = {"x-csrf-token": csrf_of(client, "/home")}
    brand = make_brand(session)
    topic = make_topic(session, brand=brand)
    client.post("/api/v1/me/relationships", json={"brand": brand.slug}, headers=csrf)
    path = f"/api/v1/me/relationships/{brand.id}"
    good = {"topics": {str(topic.id): True}}
    assert client.patch(path, json={"brand_cap": -1}, headers=csrf).status_code == 422
    assert client.patch(path, json=good, headers=csrf).status_code == 200
    assert client.patch(path, json=good).status_code == 403  # no CSRF token
    kept = dict(client.cookies)
    client.post("/signout", headers=csrf)  # the session's row is revoked: the cookie is void
    client.cookies.clear()
    client.cookies.update(kept)
    for body in ({"brand_cap": -1}, good):
        assert client.patch(path, json=body, headers=csrf).status_code == 401
