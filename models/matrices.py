"""How a request says where its travel distances and durations come from."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, model_validator

from models.common import Metres, Seconds, StrictModel


class HaversineMatrix(StrictModel):
    """Great-circle distances between ``[lon, lat]`` points, driven at a constant speed."""

    provider: Literal["haversine"] = "haversine"
    speed_kmh: float = Field(
        40.0, gt=0, le=300, allow_inf_nan=False, strict=True, description="average driving speed"
    )
    detour_factor: float = Field(
        1.0,
        ge=1.0,
        le=5.0,
        allow_inf_nan=False,
        strict=True,
        description="road distance / straight-line distance",
    )


class EuclideanMatrix(StrictModel):
    """Straight-line distances between planar ``[x, y]`` points given in metres."""

    provider: Literal["euclidean"] = "euclidean"
    speed_mps: float = Field(
        1.0, gt=0, le=100, allow_inf_nan=False, strict=True, description="metres per second"
    )


class ExplicitMatrix(StrictModel):
    """Matrices given by the caller; stops and vehicles refer to rows by ``location_index``.

    ``distances_m`` may be left out, then every distance is 0 (and only time is costed).
    Every cell is bounded like any time or distance of the contract (``models.common``).
    """

    provider: Literal["explicit"] = "explicit"
    durations_s: list[list[Seconds]] = Field(description="seconds from row to column")
    distances_m: list[list[Metres]] | None = Field(None, description="metres from row to column")

    @model_validator(mode="after")
    def _valid(self) -> ExplicitMatrix:
        for name in ("durations_s", "distances_m"):
            rows = getattr(self, name)
            if rows is None:
                continue
            size = len(rows)
            if size == 0:
                raise ValueError(f"{name} is empty")
            for i, row in enumerate(rows):
                if len(row) != size:
                    raise ValueError(
                        f"{name} is not square: row {i} has {len(row)} values, expected {size}"
                    )
        if self.distances_m is not None and len(self.distances_m) != len(self.durations_s):
            raise ValueError(
                f"distances_m is {len(self.distances_m)}x{len(self.distances_m)} but "
                f"durations_s is {len(self.durations_s)}x{len(self.durations_s)}"
            )
        return self

    @property
    def size(self) -> int:
        """Number of locations the matrices cover."""
        return len(self.durations_s)


class OsmMatrix(StrictModel):
    """Car durations and distances on the roads of an OpenStreetMap extract (``.osm.pbf``).

    The road graph is built once and cached on disk, keyed by the file's hash. A location
    farther than ``max_snap_m`` from every road is an error that names it.
    """

    provider: Literal["osm"] = "osm"
    osm_file: str = Field(min_length=1, description="path of the .osm.pbf extract")
    max_snap_m: float = Field(
        500.0,
        gt=0,
        le=100_000,
        allow_inf_nan=False,
        strict=True,
        description="largest allowed distance from a location to a road",
    )


class OsrmMatrix(StrictModel):
    """Durations and distances from an OSRM server's table service."""

    provider: Literal["osrm"] = "osrm"
    url: str = Field(min_length=1, pattern=r"^https?://", description="e.g. http://127.0.0.1:5000")
    profile: str = Field("driving", pattern=r"^[A-Za-z0-9_-]+$")
    max_table_size: int = Field(
        100,
        ge=1,
        le=10_000,
        strict=True,
        description="the server's --max-table-size (locations per block)",
    )
    timeout_s: float = Field(30.0, gt=0, le=3600, allow_inf_nan=False, strict=True)
    max_snap_m: float | None = Field(500.0, gt=0, le=100_000, allow_inf_nan=False, strict=True)


MatrixSpec = Annotated[
    HaversineMatrix | EuclideanMatrix | ExplicitMatrix | OsmMatrix | OsrmMatrix,
    Field(discriminator="provider"),
]
