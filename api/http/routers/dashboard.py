"""The dispatcher's dashboard: ``GET /`` answers its page, ``/static/`` its files.

The page (``api/http/static/dashboard/``: plain ES modules, no build step) and the libraries
it uses (``api/http/static/vendor/``: Leaflet and uPlot at pinned versions, with their
licences, vendored by ``scripts/vendor_frontend.sh``) ship inside the package, so it works
offline. The shell needs no API key; the page sends the key on its ``/v1`` calls. Neither is
in OpenAPI (they are not part of the API).
"""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter
from starlette.responses import FileResponse
from starlette.staticfiles import StaticFiles

#: The package's static files: the dashboard and the vendored libraries.
STATIC_DIR = Path(__file__).resolve().parent.parent / "static"
#: The page at ``/``.
INDEX_HTML = STATIC_DIR / "dashboard" / "index.html"
#: Where the static files are served.
STATIC_PATH = "/static"

router = APIRouter(include_in_schema=False)


@router.get("/", response_class=FileResponse)
def dashboard() -> FileResponse:
    """The dashboard's page (it is read again on every load: no long cache)."""
    return FileResponse(INDEX_HTML, media_type="text/html", headers={"Cache-Control": "no-cache"})


def static_files() -> StaticFiles:
    """The app that serves ``STATIC_DIR`` under :data:`STATIC_PATH`."""
    return StaticFiles(directory=STATIC_DIR)
