"""The API documentation, served by Accord itself. Swagger UI's files (5.x, which reads the
OpenAPI 3.1 that FastAPI writes) come from the fastapi-offline package (PyPI), never from a
CDN, so the docs work offline and tell no third party who reads them. The page starts Swagger
UI from a script file of ours (no inline script: the Content-Security-Policy forbids it)."""

from __future__ import annotations

from importlib.resources import files

from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles

from accord.core.web.templates import render

ASSETS = "/api/docs/assets"
router = APIRouter(include_in_schema=False)


@router.get("/api/docs", response_class=HTMLResponse)
def api_docs(request: Request) -> HTMLResponse:
    return render(request, "api_docs.html", {"assets": ASSETS, "spec": "/api/openapi.json"})


def install(app: FastAPI) -> None:
    # Only the package's static files: its app factory is not used.
    assets = files("fastapi_offline") / "static"
    app.mount(ASSETS, StaticFiles(directory=str(assets)), name="api-docs-assets")
    app.include_router(router)
