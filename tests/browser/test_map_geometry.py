"""The map on the roads: a Monaco day planned on the ``osm`` provider with ``geometry`` through a
real server configured with the extract; each route is drawn on its road path (more vertices
than stops), the extract's roads are drawn under the routes, stops at one place stay apart,
and the page's polyline decoder and route colours hold (checked in the browser)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import pytest

from engine.matrices.osm import OsmProvider
from engine.routing.geometry import decode_polyline
from tests.browser.conftest import _serve
from tests.browser.days import Json, routes_of, store_plan, visit_ids
from tests.browser.pages import open_plan, screenshot
from tests.servers import RealServer

#: The site (near the port) and the box the orders are drawn in, [lon, lat].
SITE = [7.4225, 43.7355]
BOX = ((7.413, 43.728), (7.437, 43.745))
#: Two orders at one address: their stops must both stay visible.
SHARED_ADDRESS = [7.4260, 43.7395]


@pytest.fixture(scope="module")
def osm_server(
    browser: Any, monaco_file: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[RealServer]:
    """A real server whose extract is Monaco's, with the ``osm`` provider open over HTTP."""
    folder = tmp_path_factory.mktemp("osm-server")
    env = {
        "ROUTEPLAN_OSM_FILE": str(monaco_file),
        "ROUTEPLAN_API_MATRIX_PROVIDERS": "haversine,euclidean,explicit,osm",
        "ROUTEPLAN_CACHE_DIR": str(folder / "cache"),
    }
    yield from _serve(folder, env)


def monaco_day(osm_file: Path, cache_dir: Path, n_orders: int = 14) -> Json:
    """``n_orders`` one-parcel orders in Monaco (two at one address; the others at random
    places within 30 m of a road, not at sea), three vans, routed on the extract's roads with
    each route's geometry."""
    rng = np.random.default_rng(3)
    (west, south), (east, north) = BOX
    drawn = np.stack(
        [rng.uniform(west, east, 20 * n_orders), rng.uniform(south, north, 20 * n_orders)], axis=1
    )
    provider = OsmProvider(osm_file, max_snap_m=5000, cache_dir=cache_dir, workers=1)
    near = drawn[provider.snap(drawn).distance_m < 30][: n_orders - 2]
    assert near.shape[0] == n_orders - 2
    places = [[round(float(x), 6) for x in p] for p in near] + [SHARED_ADDRESS, SHARED_ADDRESS]
    return {
        "plan_date": "2026-12-03",
        "day_start": "2026-12-03T00:00:00",
        "sites": [{"id": "port", "location": SITE}],
        "stock": [{"site_id": "port", "sku": "parcel", "on_hand": 100}],
        "orders": [
            {"id": f"M{i:02d}", "location": p, "lines": [{"id": 1, "sku": "parcel", "quantity": 1}]}
            for i, p in enumerate(places)
        ],
        "products": [{"sku": "parcel", "weight_kg": 2.0, "volume_l": 5}],
        "fleet": [
            {
                "id": f"van-{k + 1}",
                "site_id": "port",
                "capacity": {"weight_kg": 400},
                "shift": [8 * 3600, 20 * 3600],
                "max_stops": 6,
            }
            for k in range(3)
        ],
        "allocation_options": {"time_limit_s": 1.0},
        "options": {
            "routing_time_limit_s": 1.0,
            "parallel": False,
            # no "geometry": a plan on road matrices carries its routes' paths by default
            "matrix": {"provider": "osm", "osm_file": str(osm_file)},
        },
    }


def _vertices(d: str) -> int:
    """Points of an SVG path's ``d`` (Leaflet writes ``M x y L x y ...``)."""
    return sum(d.count(c) for c in "ML")


def test_routes_follow_the_roads_over_the_base_map(
    page: Any, osm_server: RealServer, monaco_file: Path, tmp_path: Path, page_errors: list[str]
) -> None:
    day = monaco_day(monaco_file, tmp_path / "graphs")
    with httpx.Client(base_url=osm_server.url, timeout=120) as http:
        plan = store_plan(http, day)
    routes = routes_of(plan)
    assert len(routes) >= 2, plan["unassigned"][:3]
    for route in routes:
        assert route["geometry"], "the stored plan carries each route's geometry"
        assert len(decode_polyline(route["geometry"])) > len(route["steps"])
    open_plan(page, osm_server.url, plan["id"])
    page.wait_for_selector('[data-testid="map"] path.basemap-road', timeout=20_000)
    map_box = '[data-testid="map"]'
    paths = page.locator(f"{map_box} path.route-path")
    assert paths.count() == len(routes)
    stops = {str(r["vehicle_id"]): len(visit_ids(r)) for r in routes}
    for k in range(paths.count()):
        path = paths.nth(k)
        assert path.get_attribute("data-road") == "yes"
        drawn = _vertices(path.get_attribute("d") or "")
        vehicle = path.get_attribute("data-vehicle-id") or ""
        assert drawn > stops[vehicle] + 2, (vehicle, drawn, stops[vehicle])
    roads = page.locator(f"{map_box} path.basemap-road")
    assert roads.count() >= 3, "the base map draws its road classes"
    assert int(page.locator(map_box).first.get_attribute("data-basemap") or 0) > 100
    # the base map is under the routes: its pane is below the overlay pane
    below = page.evaluate(
        """() => {
        const base = document.querySelector('.leaflet-basemap-pane');
        const over = document.querySelector('.leaflet-overlay-pane');
        return Number(getComputedStyle(base).zIndex) < Number(getComputedStyle(over).zIndex);
    }"""
    )
    assert below is True
    screenshot(page, "map-geometry", map_box)
    _check_shared_address(page)
    assert not page_errors, page_errors


def _check_shared_address(page: Any) -> None:
    """The two stops at one address are both on screen, apart, and each opens its popup."""
    together = page.locator('.stop-marker[title*="stops here"]')
    assert together.count() >= 2
    boxes = [together.nth(k).bounding_box() for k in range(together.count())]
    centres = {(round(b["x"] + b["width"] / 2), round(b["y"] + b["height"] / 2)) for b in boxes}
    assert len(centres) == together.count(), f"markers on top of each other: {boxes}"
    for k in range(together.count()):
        title = together.nth(k).get_attribute("title") or ""
        stop_id = title.split(": ")[1].split(" (")[0]
        together.nth(k).click()
        page.locator(".leaflet-popup-content", has_text=stop_id).wait_for(timeout=5_000)


def test_the_page_decodes_polylines_and_keeps_colours_apart(
    page: Any, osm_server: RealServer
) -> None:
    page.goto(osm_server.url)
    got = page.evaluate(
        """async () => {
        const m = await import('/static/dashboard/map.js');
        const colours = Array.from({ length: 48 }, (_, k) => m.colourOf(k));
        return {
            decoded: m.decodePolyline('_p~iF~ps|U_ulLnnqC_mqNvxq`@'),
            colours,
            contrast: Math.min(...colours.map((c) => m.contrastWithWhite(c))),
            white: m.contrastWithWhite('#ffffff'),
            black: m.contrastWithWhite('#000000'),
        };
    }"""
    )
    # Google's example (lat, lng pairs)
    want = [38.5, -120.2, 40.7, -120.95, 43.252, -126.453]
    assert [x for point in got["decoded"] for x in point] == pytest.approx(want)
    assert got["white"] == pytest.approx(1.0) and got["black"] == pytest.approx(21.0)
    assert got["contrast"] >= 4.5
    rgb = np.array([[int(c[i : i + 2], 16) for i in (1, 3, 5)] for c in got["colours"]])
    gaps = np.sqrt(((rgb[:, None, :] - rgb[None, :, :]) ** 2).sum(axis=2))
    np.fill_diagonal(gaps, np.inf)
    assert gaps.min() > 20, "two route colours of 48 are nearly the same"
