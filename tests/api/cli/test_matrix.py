"""``routeplan matrix``: points CSV in, matrices out (.npz or long .csv)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from api.cli import app
from api.settings import get_settings

runner = CliRunner()

POINTS_CSV = """id,lat,lon
casino,43.73940,7.42780
fontvieille,43.73140,7.41900
larvotto,43.74570,7.43480
port,43.73580,7.42330
"""


@pytest.fixture
def monaco_file(shared_data: Path) -> Path:
    path = shared_data / "osm" / "monaco.osm.pbf"
    if not path.is_file():
        pytest.skip(f"Monaco extract not found at {path}")
    return path


@pytest.fixture(autouse=True)
def graph_cache(
    tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Path]:
    """Road graphs go to a temporary cache shared by this module's tests."""
    cache = tmp_path_factory.getbasetemp() / "cli-cache"
    monkeypatch.setenv("ROUTEPLAN_CACHE_DIR", str(cache))
    get_settings.cache_clear()
    yield cache
    get_settings.cache_clear()


def _points(tmp_path: Path, text: str = POINTS_CSV) -> Path:
    path = tmp_path / "points.csv"
    path.write_text(text)
    return path


def test_npz_output(tmp_path: Path, monaco_file: Path) -> None:
    out = tmp_path / "m.npz"
    args = ["matrix", "--provider", "osm", "--osm-file", str(monaco_file)]
    result = runner.invoke(app, [*args, "--points", str(_points(tmp_path)), "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert "4 x 4 osm matrix" in result.output
    assert "query" in result.output and "largest snap distance" in result.output
    assert "graph" in result.output
    data = np.load(out)
    assert sorted(data.files) == ["distances_m", "durations_s", "ids"]
    assert list(data["ids"]) == ["casino", "fontvieille", "larvotto", "port"]
    assert data["durations_s"].shape == (4, 4)
    assert np.all(np.diag(data["distances_m"]) == 0)
    # the second run loads the cached graph
    again = runner.invoke(app, [*args, "--points", str(_points(tmp_path))])
    assert again.exit_code == 0, again.output
    assert "loaded from cache" in again.output


def test_long_csv_output(tmp_path: Path, monaco_file: Path) -> None:
    out = tmp_path / "m.csv"
    result = runner.invoke(
        app,
        ["matrix", "--osm-file", str(monaco_file), "--points", str(_points(tmp_path)),
         "--out", str(out)],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    frame = pd.read_csv(out)
    assert list(frame.columns) == ["from_id", "to_id", "duration_s", "distance_m"]
    assert len(frame) == 16
    row = frame[(frame.from_id == "casino") & (frame.to_id == "port")].iloc[0]
    assert row.distance_m > 300 and row.duration_s > 30


def test_integer_ids_stay_integers(tmp_path: Path) -> None:
    out = tmp_path / "m.npz"
    text = "id,lat,lon\n1,41.15,-8.61\n2,41.16,-8.60\n"
    result = runner.invoke(
        app,
        ["matrix", "--provider", "haversine", "--points", str(_points(tmp_path, text)),
         "--out", str(out)],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert np.load(out)["ids"].dtype.kind == "i"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("id,latitude,lon\n1,41.1,-8.6\n", "lacks column(s) lat"),
        ("id,lat,lon\n1,141.1,-8.6\n", "row 2 (id 1): lat = 141.1 is outside ±90"),
        ("id,lat,lon\n1,abc,-8.6\n", "row 2 (id 1): lat = 'abc' is not a number"),
        ("id,lat,lon\n1,41.1,-8.6\n1,41.2,-8.6\n", "id '1' appears more than once"),
    ],
)
def test_invalid_points_exit_2(tmp_path: Path, text: str, message: str) -> None:
    result = runner.invoke(
        app, ["matrix", "--provider", "haversine", "--points", str(_points(tmp_path, text))]
    )
    assert result.exit_code == 2
    assert message in result.output


def test_far_point_exits_2_naming_it(tmp_path: Path, monaco_file: Path) -> None:
    text = POINTS_CSV + "sea,43.60,7.40\n"
    result = runner.invoke(
        app, ["matrix", "--osm-file", str(monaco_file), "--points", str(_points(tmp_path, text))]
    )
    assert result.exit_code == 2
    assert "location 4 (id sea)" in result.output and "max_snap_m = 500 m" in result.output


def test_missing_osm_file_option_and_bad_out(tmp_path: Path) -> None:
    result = runner.invoke(app, ["matrix", "--points", str(_points(tmp_path))])
    assert result.exit_code == 2
    assert "--osm-file" in result.output
    result = runner.invoke(
        app, ["matrix", "--provider", "haversine", "--points", str(_points(tmp_path)),
              "--out", "m.json"],
    )  # fmt: skip
    assert result.exit_code == 2
    assert "must end in .npz or .csv" in result.output
