"""A dependency that declares its security schemes is documented as one taking `Security`
parameters, without FastAPI running a dependency per scheme."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Depends, FastAPI, Request, Security
from fastapi.security import APIKeyCookie, HTTPBearer

from accord.core.web import openapi

BEARER = HTTPBearer(auto_error=False, scheme_name="Key", description="A key.")
COOKIE = APIKeyCookie(name="c", auto_error=False, scheme_name="Cookie")


def _document(app: FastAPI) -> dict[str, Any]:
    openapi.install(app)
    return app.openapi()


async def with_parameters(
    request: Request,
    _key: Annotated[object, Security(BEARER)],
    _cookie: Annotated[object, Security(COOKIE)],
) -> str:
    return "caller"


@openapi.declares_security(BEARER, COOKIE)
async def declared(request: Request) -> str:
    return "caller"


def test_declared_schemes_are_documented_as_security_parameters() -> None:

    documents = []
    for dependency in (with_parameters, declared):
        app = FastAPI()

        @app.get("/a")
        def a(caller: str = Depends(dependency)) -> str:
            return caller

        @app.post("/b/{x}", dependencies=[Depends(dependency)])
        def b(x: int) -> int:
            return x

        @app.get("/open")
        def unauthenticated() -> str:
            return "open"

        documents.append(_document(app))
    assert documents[0] == documents[1]
    assert documents[1]["paths"]["/a"]["get"]["security"] == [{"Key": []}, {"Cookie": []}]
    assert "security" not in documents[1]["paths"]["/open"]["get"]
    assert set(documents[1]["components"]["securitySchemes"]) == {"Key", "Cookie"}
