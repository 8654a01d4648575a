"""The built-in dashboard page at /dashboard: handwritten HTML, CSS and script served from ``page/``."""

from __future__ import annotations

from pathlib import Path

from starlette.requests import Request
from starlette.responses import FileResponse
from starlette.routing import BaseRoute, Mount, Route
from starlette.staticfiles import StaticFiles

PAGE_DIRECTORY = Path(__file__).parent / "page"
PAGE_PATH = "/dashboard"
# The page runs its own files only: no inline script or style, no other origin; it calls /graphql
# over HTTP and WebSocket on its own origin, and is never framed.
CONTENT_SECURITY_POLICY = (
    "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self' data:; "
    "base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
)
PAGE_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-cache",
}


async def dashboard_page(request: Request) -> FileResponse:
    return FileResponse(PAGE_DIRECTORY / "index.html", headers=PAGE_HEADERS)


def dashboard_routes() -> list[BaseRoute]:
    """The page at /dashboard and its script and style under /dashboard/static/."""
    return [
        Route(PAGE_PATH, dashboard_page),
        Mount(f"{PAGE_PATH}/static", app=StaticFiles(directory=PAGE_DIRECTORY)),
    ]
