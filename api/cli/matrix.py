"""``routeplan matrix``: travel matrices between the points of a CSV file."""

from __future__ import annotations

import re
import time
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import numpy as np
import numpy.typing as npt
import pandas as pd
import typer

from api.cli.app import app
from api.cli.common import console, fail_invalid
from api.settings import get_settings
from engine.matrices import HaversineProvider, MatrixError, TravelMatrices


class Provider(StrEnum):
    """Where the matrices come from."""

    osm = "osm"
    osrm = "osrm"
    haversine = "haversine"


def read_points(path: Path) -> tuple[npt.NDArray[np.str_] | npt.NDArray[np.int64], np.ndarray]:
    """Ids and ``[lon, lat]`` rows of a points CSV (columns id, lat, lon); exit 2 if invalid."""
    if not path.is_file():
        fail_invalid(f"points: file {str(path)!r} does not exist")
    try:
        frame = pd.read_csv(path, dtype={"id": str}, skipinitialspace=True)
    except (ValueError, pd.errors.ParserError) as error:
        fail_invalid(f"points: {path} is not a readable CSV: {error}")
    frame.columns = [str(c).strip().lower() for c in frame.columns]
    missing = [c for c in ("id", "lat", "lon") if c not in frame.columns]
    if missing:
        fail_invalid(
            f"points: {path} lacks column(s) {', '.join(missing)}; "
            f"it has {', '.join(frame.columns)} (expected id, lat, lon)"
        )
    if frame.empty:
        fail_invalid(f"points: {path} has no rows")
    problems: list[str] = []
    for name, limit in (("lat", 90.0), ("lon", 180.0)):
        values = pd.to_numeric(frame[name], errors="coerce")
        for row in np.flatnonzero(~np.isfinite(values.to_numpy(dtype=float)))[:5]:
            problems.append(
                f"row {row + 2} (id {frame['id'].iloc[row]}): {name} = "
                f"{frame[name].iloc[row]!r} is not a number"
            )
        for row in np.flatnonzero(np.abs(values.to_numpy(dtype=float)) > limit)[:5]:
            problems.append(
                f"row {row + 2} (id {frame['id'].iloc[row]}): {name} = {values.iloc[row]} "
                f"is outside ±{limit:g}"
            )
        frame[name] = values
    ids = frame["id"].fillna("").str.strip()
    for row in np.flatnonzero((ids == "").to_numpy())[:5]:
        problems.append(f"row {row + 2}: id is empty")
    duplicated = ids[ids.duplicated() & (ids != "")]
    if not duplicated.empty:
        problems.append(f"id {duplicated.iloc[0]!r} appears more than once")
    if problems:
        fail_invalid([f"points: {p}" for p in problems])
    if ids.str.fullmatch(r"-?\d{1,18}").all():
        id_array: np.ndarray = ids.astype(np.int64).to_numpy()
    else:
        id_array = ids.to_numpy(dtype=str)
    points = frame[["lon", "lat"]].to_numpy(dtype=np.float64)
    return id_array, points


def write_matrices(out: Path, ids: np.ndarray, matrices: TravelMatrices) -> None:
    """Write ``.npz`` (ids, durations_s, distances_m) or long ``.csv`` (one row per pair)."""
    out.parent.mkdir(parents=True, exist_ok=True)
    if out.suffix.lower() == ".npz":
        np.savez_compressed(
            out, ids=ids, durations_s=matrices.durations_s, distances_m=matrices.distances_m
        )
        return
    n = ids.shape[0]
    frame = pd.DataFrame(
        {
            "from_id": np.repeat(ids, n),
            "to_id": np.tile(ids, n),
            "duration_s": np.round(matrices.durations_s.reshape(-1), 3),
            "distance_m": np.round(matrices.distances_m.reshape(-1), 2),
        }
    )
    frame.to_csv(out, index=False)


@app.command()
def matrix(
    points: Annotated[Path, typer.Option(help="points.csv with columns id, lat, lon")],
    provider: Annotated[Provider, typer.Option(help="where matrices come from")] = Provider.osm,
    osm_file: Annotated[
        Path | None, typer.Option(help="OpenStreetMap extract (.osm.pbf) for --provider osm")
    ] = None,
    url: Annotated[
        str | None, typer.Option(help="OSRM server for --provider osrm, e.g. http://127.0.0.1:5000")
    ] = None,
    out: Annotated[
        Path | None, typer.Option(help="write OUT.npz (arrays) or OUT.csv (one row per pair)")
    ] = None,
    max_snap_m: Annotated[
        float, typer.Option(help="largest allowed distance from a point to a road")
    ] = 500.0,
    max_table_size: Annotated[int, typer.Option(help="OSRM: the server's --max-table-size")] = 100,
) -> None:
    """Durations and distances between every ordered pair of points."""
    if out is not None and out.suffix.lower() not in (".npz", ".csv"):
        fail_invalid(f"out: {str(out)!r} must end in .npz or .csv")
    ids, lonlat = read_points(points)
    build_note = ""
    snap_note = "-"
    try:
        if provider is Provider.osm:
            if osm_file is None:
                fail_invalid("osm-file: --provider osm needs --osm-file FILE.osm.pbf")
            from engine.matrices.osm import OsmProvider

            road = OsmProvider(
                osm_file, max_snap_m=max_snap_m, cache_dir=get_settings().graph_cache_dir()
            )
            with console.status("loading the road graph (built once per extract)"):
                road.load()
            result = road.compute(lonlat)
            matrices = result.matrices
            how = "loaded from cache" if result.graph_from_cache else "built and cached"
            build_note = f"graph {how} in {result.graph_seconds:.2f} s"
            query_s = result.query_seconds
            snap_note = f"{result.max_snap_m:.1f} m"
        else:
            started = time.perf_counter()
            if provider is Provider.osrm:
                if url is None:
                    fail_invalid("url: --provider osrm needs --url http://HOST:PORT")
                from engine.matrices.osrm import OsrmProvider

                matrices = OsrmProvider(
                    url, max_table_size=max_table_size, max_snap_m=max_snap_m
                ).matrices(lonlat)
            else:
                matrices = HaversineProvider().matrices(lonlat)
            query_s = time.perf_counter() - started
    except MatrixError as error:  # name the points by id, not only by position
        message = re.sub(
            r"location (\d+)", lambda m: f"location {m.group(1)} (id {ids[int(m.group(1))]})",
            str(error),
        )  # fmt: skip
        raise MatrixError(message) from error
    n = matrices.size
    console.print(f"{n} x {n} {provider.value} matrix")
    if build_note:
        console.print(f"  {build_note}")
    console.print(f"  query {query_s:.2f} s")
    console.print(f"  largest snap distance {snap_note}")
    if out is not None:
        write_matrices(out, ids, matrices)
        console.print(f"written to {out}")
