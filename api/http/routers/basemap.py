"""``GET /v1/basemap``: the roads of the server's OSM extract in a box, as light GeoJSON lines
for the dashboard's map (drawn under the routes; no tiles, no other host)."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field

from api.http.deps import API_KEY_SECURITY, SettingsDep
from api.http.errors import error_responses
from api.http.examples import json_example
from engine.matrices.base import MatrixError
from engine.matrices.osm_basemap import (
    MAX_BBOX_DEG,
    BasemapError,
    BBox,
    basemap,
    basemap_graph,
    check_bbox,
)
from models.errors import InvalidInputError

router = APIRouter(prefix="/basemap", tags=["basemap"], dependencies=API_KEY_SECURITY)

BBOX_DESCRIPTION = (
    f"min_lon,min_lat,max_lon,max_lat (WGS84 degrees), at most {MAX_BBOX_DEG:g} degrees a side"
)

EXAMPLE: dict[str, Any] = {
    "type": "FeatureCollection",
    "available": True,
    "bbox": [7.41, 43.72, 7.44, 43.75],
    "classes": ["motorway", "primary", "secondary", "tertiary", "residential", "other"],
    "tolerance_deg": 3e-05,
    "features": [
        {
            "type": "Feature",
            "properties": {"class": "primary"},
            "geometry": {
                "type": "LineString",
                "coordinates": [[7.42055, 43.73161], [7.42101, 43.73204], [7.42163, 43.7324]],
            },
        }
    ],
}


class RoadProperties(BaseModel):
    """What a road line is."""

    model_config = ConfigDict(populate_by_name=True)
    road_class: str = Field(
        alias="class",
        description="motorway (and trunk), primary, secondary, tertiary, residential "
        "(and unclassified, living streets) or other (service roads...)",
    )


class LineString(BaseModel):
    """A GeoJSON LineString of ``[lon, lat]`` points."""

    type: Literal["LineString"]
    coordinates: list[list[float]] = Field(min_length=2)


class RoadFeature(BaseModel):
    """One road line."""

    type: Literal["Feature"]
    properties: RoadProperties
    geometry: LineString


class Basemap(BaseModel):
    """The roads in a box, simplified to its scale (GeoJSON, with three members of ours)."""

    type: Literal["FeatureCollection"]
    available: bool = Field(
        description="false when the server has no usable OSM extract: no features then"
    )
    message: str | None = Field(None, description="why there is no base map")
    bbox: list[float] = Field(min_length=4, max_length=4)
    classes: list[str] = Field(
        description="the road classes drawn: a big box leaves the minor ones out"
    )
    tolerance_deg: float = Field(description="the simplification's grid, in degrees")
    features: list[RoadFeature]


def parse_bbox(text: str) -> BBox:
    """``min_lon,min_lat,max_lon,max_lat`` as numbers; a 422 naming ``bbox`` if it is not a box
    within the limit."""
    parts = text.split(",")
    if len(parts) != 4:
        raise InvalidInputError.for_field(
            "bbox", text, f"must be 4 comma-separated numbers, not {len(parts)}"
        )
    try:
        numbers = [float(part) for part in parts]
    except ValueError:
        raise InvalidInputError.for_field(
            "bbox", text, "must be 4 comma-separated numbers: min_lon,min_lat,max_lon,max_lat"
        ) from None
    box = (numbers[0], numbers[1], numbers[2], numbers[3])
    try:
        check_bbox(box)
    except BasemapError as error:
        raise InvalidInputError.for_field("bbox", text, f"is not usable: {error}") from None
    return box


@router.get(
    "",
    response_model=Basemap,
    summary="The roads of the server's OSM extract in a box (GeoJSON)",
    responses={200: json_example(EXAMPLE), **error_responses(401, 403, 422)},
)
def get_basemap(
    settings: SettingsDep,
    bbox: Annotated[
        str,
        Query(
            description=BBOX_DESCRIPTION,
            max_length=200,
            examples=["7.41,43.72,7.44,43.75"],
        ),
    ],
) -> JSONResponse:
    """The car roads of the extract the server is configured with (``ROUTEPLAN_OSM_FILE``)
    inside ``bbox``, as GeoJSON LineStrings with ``properties.class``, simplified to the box's
    scale (about 1/1000 of its larger side) and at most about 1 MB: a box wider than 6 km
    leaves out service roads, wider than 20 km residential streets too, and any class that
    would make the answer too big. A box larger than the limit is a 422 naming ``bbox``. A
    server with no extract (or one it cannot read) answers an empty collection with
    ``available: false`` and a ``message`` (the dashboard then draws no base map)."""
    box = parse_bbox(bbox)
    osm_file = settings.osm_file_path()
    if osm_file is None:
        return _unavailable(box, "this server has no OSM extract configured (ROUTEPLAN_OSM_FILE)")
    if not osm_file.is_file():
        return _unavailable(box, f"the server's OSM extract {osm_file} does not exist")
    try:
        graph = basemap_graph(osm_file, settings.graph_cache_dir())
    except MatrixError as error:
        return _unavailable(box, str(error))
    except OSError as error:  # unreadable extract or cache: no base map, not a 500
        return _unavailable(box, f"the server cannot read its OSM extract {osm_file}: {error}")
    return JSONResponse({"available": True, **basemap(graph, box)})


def _unavailable(box: BBox, why: str) -> JSONResponse:
    """The empty answer of a server with no base map."""
    body = Basemap(
        type="FeatureCollection",
        available=False,
        message=f"no base map: {why}",
        bbox=list(box),
        classes=[],
        tolerance_deg=0.0,
        features=[],
    )
    return JSONResponse(body.model_dump(mode="json", by_alias=True))
