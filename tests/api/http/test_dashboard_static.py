"""The dashboard's files: ``/`` answers the page without a key, every asset it names is
served from the package, the page reaches nothing outside the server, the vendored libraries
are there at their pinned versions with their licences, and ``pip install`` ships them."""

from __future__ import annotations

import glob
import re
import tomllib
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from tests.api.conftest import MakeClient

ROOT = Path(__file__).resolve().parents[3]
PACKAGE = ROOT / "api" / "http"
STATIC = PACKAGE / "static"
DASHBOARD = STATIC / "dashboard"
#: The pinned libraries: folder -> (what its LICENSE must say, the version the script pins).
VENDORED = {
    "leaflet-1.9.4": ("BSD 2-Clause License", 'LEAFLET_VERSION="1.9.4"'),
    "uplot-1.6.32": ("The MIT License", 'UPLOT_VERSION="1.6.32"'),
}
#: The only absolute URL the page's own code may hold: the SVG namespace (not fetched).
ALLOWED_URLS = {"http://www.w3.org/2000/svg"}


@pytest.fixture
def keyed_client(make_client: MakeClient) -> TestClient:
    """A server that needs an API key for /v1."""
    return make_client(run_jobs=False, api_keys="viewer:read:viewer-secret-0123456789")


def _local_assets(html: str) -> list[str]:
    """The /static/ paths a page names in src= and href=."""
    return re.findall(r'(?:src|href)="(/static/[^"]+)"', html)


def test_the_page_is_served_without_a_key(keyed_client: TestClient) -> None:
    response = keyed_client.get("/")
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/html")
    html = response.text
    assert '<html lang="en">' in html
    assert '<script type="module" src="/static/dashboard/app.js">' in html
    assert "<main" in html and "<nav" in html
    assert keyed_client.get("/v1/plans").status_code == 401  # the data still needs the key


def test_every_asset_the_page_and_its_modules_name_is_served(keyed_client: TestClient) -> None:
    html = keyed_client.get("/").text
    assets = _local_assets(html)
    assert "/static/vendor/leaflet-1.9.4/leaflet.js" in assets
    assert "/static/vendor/uplot-1.6.32/uPlot.iife.min.js" in assets
    modules = sorted(DASHBOARD.glob("*.js"))
    assert {m.name for m in modules} >= {"app.js", "api.js", "map.js", "timeline.js", "views.js"}
    for module in modules:
        for name in re.findall(r'from "\./([\w.-]+\.js)"', module.read_text()):
            assets.append(f"/static/dashboard/{name}")
    for path in sorted(set(assets)):
        response = keyed_client.get(path)
        assert response.status_code == 200, path
        assert len(response.content) > 100, path
        kind = response.headers["content-type"]
        if path.endswith(".js"):
            assert "javascript" in kind, (path, kind)
        if path.endswith(".css"):
            assert kind.startswith("text/css"), (path, kind)
    assert keyed_client.get("/static/dashboard/no-such-file.js").status_code == 404


def test_the_page_reaches_nothing_outside_the_server() -> None:
    for path in sorted(DASHBOARD.iterdir()):
        text = path.read_text()
        urls = set(re.findall(r"https?://[^\s\"'`)<>]+", text))
        assert urls <= ALLOWED_URLS, (path.name, urls - ALLOWED_URLS)
        assert "tileLayer" not in text and "{z}" not in text, path.name


def test_vendored_libraries_are_pinned_with_their_licences() -> None:
    script = (ROOT / "scripts" / "vendor_frontend.sh").read_text()
    for folder, (licence, pin) in VENDORED.items():
        where = STATIC / "vendor" / folder
        assert licence in (where / "LICENSE").read_text(), folder
        assert pin in script, folder
        assert any(where.glob("*.js")) and any(where.glob("*.css")), folder
    assert "Leaflet 1.9.4" in (STATIC / "vendor" / "leaflet-1.9.4" / "leaflet.js").read_text()[:300]
    uplot = (STATIC / "vendor" / "uplot-1.6.32" / "uPlot.iife.min.js").read_text()
    assert "(v1.6.32)" in uplot[:200]


def test_package_data_ships_every_static_file() -> None:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())
    patterns = config["tool"]["setuptools"]["package-data"]["api.http"]
    shipped = set()
    for pattern in patterns:
        for name in glob.glob(str(PACKAGE / pattern), recursive=True):
            if Path(name).is_file():
                shipped.add(Path(name).relative_to(PACKAGE))
    present = {p.relative_to(PACKAGE) for p in STATIC.rglob("*") if p.is_file()}
    assert present, "no static files"
    assert present <= shipped, sorted(str(p) for p in present - shipped)
    assert Path("static/dashboard/index.html") in shipped
    assert Path("static/vendor/leaflet-1.9.4/LICENSE") in shipped


def test_the_page_and_the_static_files_are_not_in_openapi(keyed_client: TestClient) -> None:
    paths = keyed_client.get("/openapi.json").json()["paths"]
    assert "/" not in paths
    assert not [p for p in paths if p.startswith("/static")]
    assert "/v1/plans" in paths and "get" in paths["/v1/plans"]
