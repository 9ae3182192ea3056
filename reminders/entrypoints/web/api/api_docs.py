"""The API's OpenAPI document and Swagger UI, served from the fastapi-offline package (no CDN)."""

from __future__ import annotations

import mimetypes
from importlib.resources import files
from typing import Annotated, Any

from fastapi import Depends, FastAPI, HTTPException, Request
from fastapi.openapi.utils import get_openapi
from fastapi.responses import FileResponse, HTMLResponse, JSONResponse, Response
from fastapi.security import HTTPAuthorizationCredentials

from reminders.entrypoints.web.api.bodies import READ_BY_HAND, component_schemas
from reminders.entrypoints.web.deps import (
    ContainerDep,
    LoginRequired,
    bearer,
    docs_reader,
    session_user,
)

# Swagger UI 5 (it reads OpenAPI 3.1, which FastAPI writes; the older swagger-ui-bundle
# package carries 4.x, which cannot). Only its files are used, not its FastAPI subclass.
STATIC = files("fastapi_offline") / "static"
ASSETS = ("swagger-ui.css", "swagger-ui-bundle.js", "favicon.png")

PAGE = """<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>Recovery Reminders API</title>
<link rel="stylesheet" href="/docs/assets/swagger-ui.css">
<link rel="icon" type="image/png" href="/docs/assets/favicon.png">
</head>
<body>
<div id="swagger-ui"></div>
<script src="/docs/assets/swagger-ui-bundle.js"></script>
<script src="/docs/assets/init.js"></script>
</body>
</html>
"""

# Loaded as a file, not inline, so the page keeps the strict `script-src 'self'`.
INIT = """window.ui = SwaggerUIBundle({
  url: "/openapi.json",
  dom_id: "#swagger-ui",
  deepLinking: true,
  persistAuthorization: false,
  presets: [SwaggerUIBundle.presets.apis],
  layout: "BaseLayout"
});
"""


def document(app: FastAPI) -> dict[str, Any]:
    """The OpenAPI 3.1 document, with the bodies routes read themselves among its components
    (so every $ref resolves). Each route names its operation id (a client generator's
    method name; tests/integration/test_openapi_document.py). Built once."""
    if app.openapi_schema is None:
        doc = get_openapi(
            title=app.title,
            version=app.version,
            openapi_version=app.openapi_version,
            description=app.description,
            routes=app.routes,
        )
        schemas = doc.setdefault("components", {}).setdefault("schemas", {})
        for name, schema in component_schemas(READ_BY_HAND).items():
            schemas.setdefault(name, schema)
        app.openapi_schema = doc
    return app.openapi_schema


def docs_page_reader(
    request: Request,
    c: ContainerDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
) -> str:
    """As docs_reader; a browser without a session is sent to sign in, then back here."""
    wants_page = "text/html" in request.headers.get("accept", "")
    if credentials is None and wants_page and session_user(request, c) is None:
        raise LoginRequired("/docs")
    return docs_reader(request, c, credentials)


def add_docs(app: FastAPI) -> None:
    """Mount /openapi.json and /docs for staff or token holders; the assets are public."""
    reader = [Depends(docs_reader)]

    @app.get("/openapi.json", include_in_schema=False, dependencies=reader)
    def openapi() -> JSONResponse:
        return JSONResponse(document(app))

    @app.get("/docs", include_in_schema=False, dependencies=[Depends(docs_page_reader)])
    def docs() -> HTMLResponse:
        return HTMLResponse(PAGE)

    @app.get("/docs/assets/init.js", include_in_schema=False)
    def init_script() -> Response:
        return Response(INIT, media_type="text/javascript")

    @app.get("/docs/assets/{name}", include_in_schema=False)
    def asset(name: str) -> FileResponse:
        if name not in ASSETS:  # a fixed list: no path is ever built from the request
            raise HTTPException(404, "no such file")
        media_type = mimetypes.guess_type(name)[0] or "application/octet-stream"
        return FileResponse(
            str(STATIC / name),
            media_type=media_type,
            headers={"Cache-Control": "public, max-age=86400"},
        )
