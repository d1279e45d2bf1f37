"""``GET /v1/basemap``: the roads of the server's extract in a box, simplified and capped; a
422 naming ``bbox`` for a bad or too large box; an empty, ``available: false`` answer from a
server with no extract."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.api.conftest import MakeClient

#: Central Monaco, and a box around all of it and its neighbours (0.4 degrees a side).
MONACO_BOX = (7.41, 43.725, 7.44, 43.75)
WIDE_BOX = (7.2, 43.55, 7.6, 43.95)


@pytest.fixture
def monaco_client(make_client: MakeClient, monaco_file: Path, tmp_path: Path) -> TestClient:
    return make_client(run_jobs=False, osm_file=str(monaco_file), cache_dir=tmp_path / "cache")


def _get(client: TestClient, bbox: tuple[float, ...] | str) -> Any:
    text = bbox if isinstance(bbox, str) else ",".join(str(x) for x in bbox)
    return client.get("/v1/basemap", params={"bbox": text})


def _overlaps(coordinates: list[list[float]], box: tuple[float, ...]) -> bool:
    lons = [p[0] for p in coordinates]
    lats = [p[1] for p in coordinates]
    return (
        min(lons) <= box[2] and max(lons) >= box[0] and min(lats) <= box[3] and max(lats) >= box[1]
    )


def test_the_roads_in_a_box(monaco_client: TestClient) -> None:
    answer = _get(monaco_client, MONACO_BOX)
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["type"] == "FeatureCollection" and body["available"] is True
    features = body["features"]
    assert len(features) > 100, "central Monaco has more than a hundred road pieces"
    classes = {f["properties"]["class"] for f in features}
    assert {"primary", "residential"} <= classes, classes
    for feature in features:
        geometry = feature["geometry"]
        assert feature["type"] == "Feature" and geometry["type"] == "LineString"
        assert len(geometry["coordinates"]) >= 2
        assert _overlaps(geometry["coordinates"], MONACO_BOX), feature
    assert len(answer.content) < 1_200_000


def test_a_wide_box_leaves_minor_roads_out_and_stays_small(monaco_client: TestClient) -> None:
    near = _get(monaco_client, MONACO_BOX).json()
    wide = _get(monaco_client, WIDE_BOX)
    assert wide.status_code == 200, wide.text
    body = wide.json()
    assert "other" not in body["classes"] and "residential" not in body["classes"]
    assert {f["properties"]["class"] for f in body["features"]} <= set(body["classes"])
    vertices = sum(len(f["geometry"]["coordinates"]) for f in body["features"])
    near_vertices = sum(len(f["geometry"]["coordinates"]) for f in near["features"])
    assert 0 < vertices < near_vertices
    assert len(wide.content) < 1_200_000


@pytest.mark.parametrize(
    ("bbox", "why"),
    [
        ("7.41,43.72,7.44", "4 comma-separated numbers"),
        ("7.41,43.72,7.44,43.75,1", "4 comma-separated numbers"),
        ("west,43.72,7.44,43.75", "4 comma-separated numbers"),
        ("7.44,43.72,7.41,43.75", "below"),
        ("7.41,43.75,7.44,43.72", "below"),
        ("7.41,95,7.44,96", "latitudes"),
        ("nan,43.72,7.44,43.75", "finite"),
        ("", "4 comma-separated numbers"),
    ],
)
def test_a_bad_bbox_is_a_422_naming_it(monaco_client: TestClient, bbox: str, why: str) -> None:
    answer = _get(monaco_client, bbox)
    assert answer.status_code == 422, answer.text
    (detail,) = answer.json()["details"]
    assert detail["field"] == "bbox"
    assert why in detail["message"]
    assert repr(bbox) == detail["value"]


def test_a_box_too_large_is_a_422_naming_the_limit(monaco_client: TestClient) -> None:
    answer = _get(monaco_client, (7.0, 43.5, 8.0, 44.0))
    assert answer.status_code == 422, answer.text
    (detail,) = answer.json()["details"]
    assert detail["field"] == "bbox"
    assert "at most 0.5 degrees a side" in detail["message"]


def test_a_missing_bbox_is_a_422(monaco_client: TestClient) -> None:
    answer = monaco_client.get("/v1/basemap")
    assert answer.status_code == 422
    assert answer.json()["details"][0]["field"] == "bbox"


def test_no_extract_configured_is_an_empty_unavailable_map(make_client: MakeClient) -> None:
    answer = _get(make_client(run_jobs=False), MONACO_BOX)
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["available"] is False and body["features"] == []
    assert "ROUTEPLAN_OSM_FILE" in body["message"]
    # the box is still checked
    assert _get(make_client(run_jobs=False), "1,2,3").status_code == 422


def test_a_missing_extract_file_is_named(make_client: MakeClient, tmp_path: Path) -> None:
    missing = tmp_path / "nowhere.osm.pbf"
    body = _get(make_client(run_jobs=False, osm_file=str(missing)), MONACO_BOX).json()
    assert body["available"] is False and str(missing) in body["message"]


def test_the_spec_documents_the_422_and_an_example(make_client: MakeClient) -> None:
    spec = make_client(run_jobs=False).get("/openapi.json").json()
    operation = spec["paths"]["/v1/basemap"]["get"]
    assert "422" in operation["responses"]
    assert operation["responses"]["200"]["content"]["application/json"]["example"]["features"]
