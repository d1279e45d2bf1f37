"""The ``osrm`` matrix provider against a real ``osrm-routed`` (Monaco) and a fake server."""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path

import numpy as np
import pytest

from benchmarks.road_matrices import OsrmUnavailableError, osrm_dataset, osrm_server
from engine.matrices import provider_for
from engine.matrices.osm import OsmProvider
from engine.matrices.osrm import OsrmError, OsrmProvider
from models.matrices import OsrmMatrix

# [lon, lat] in Monaco and the neighbouring French towns.
POINTS = np.array(
    [
        [7.42780, 43.73940],
        [7.41900, 43.73140],
        [7.43480, 43.74570],
        [7.42330, 43.73580],
        [7.42040, 43.73150],
        [7.41570, 43.73590],
        [7.41010, 43.72830],
        [7.43860, 43.74890],
    ]
)


@pytest.fixture(scope="session")
def monaco_dataset(shared_data: Path) -> Path:
    """The MLD dataset of the Monaco extract (built once, cached by extract and wheel hash)."""
    extract = shared_data / "osm" / "monaco.osm.pbf"
    if not extract.is_file():
        pytest.skip(f"Monaco extract not found at {extract}")
    try:
        return osrm_dataset(extract)
    except OsrmUnavailableError as error:
        pytest.skip(f"no local OSRM (osrm-bindings wheel): {error}")


@pytest.fixture(scope="session")
def small_server(monaco_dataset: Path) -> Iterator[str]:
    """osrm-routed with --max-table-size 3: tables above 3 x 3 are refused."""
    try:
        with osrm_server(monaco_dataset, max_table_size=3) as url:
            yield url
    except OsrmUnavailableError as error:
        pytest.skip(f"osrm-routed does not run here: {error}")


@pytest.fixture(scope="session")
def big_server(monaco_dataset: Path) -> Iterator[str]:
    try:
        with osrm_server(monaco_dataset, max_table_size=100) as url:
            yield url
    except OsrmUnavailableError as error:
        pytest.skip(f"osrm-routed does not run here: {error}")


def test_chunked_table_equals_one_request(small_server: str, big_server: str) -> None:
    chunked = OsrmProvider(small_server, max_table_size=3).matrices(POINTS)
    whole = OsrmProvider(big_server, max_table_size=100).matrices(POINTS)
    assert np.array_equal(chunked.durations_s, whole.durations_s)
    assert np.array_equal(chunked.distances_m, whole.distances_m)
    assert np.all(np.diag(whole.durations_s) == 0)
    assert not np.allclose(whole.durations_s, whole.durations_s.T)  # one-way streets


def test_refusal_is_a_clear_error(small_server: str) -> None:
    with pytest.raises(OsrmError, match=r"refused .*TooBig.*--max-table-size"):
        OsrmProvider(small_server, max_table_size=5).matrices(POINTS)


def test_far_location_is_an_error_naming_it(big_server: str) -> None:
    points = np.vstack([POINTS[:2], [[7.40, 43.60]]])
    with pytest.raises(OsrmError, match=r"location 2 = \[7\.4, 43\.6\] is \d+ m from"):
        OsrmProvider(big_server).matrices(points)


def test_close_to_the_osm_provider(
    big_server: str, shared_data: Path, tmp_path_factory: pytest.TempPathFactory
) -> None:
    osrm = OsrmProvider(big_server).matrices(POINTS)
    ours = OsmProvider(
        shared_data / "osm" / "monaco.osm.pbf", cache_dir=tmp_path_factory.mktemp("g")
    ).matrices(POINTS)
    off = ~np.eye(len(POINTS), dtype=bool)
    duration_ratio = np.median(ours.durations_s[off] / osrm.durations_s[off])
    distance_ratio = np.median(ours.distances_m[off] / osrm.distances_m[off])
    assert 0.8 < duration_ratio < 1.2
    assert 0.9 < distance_ratio < 1.1


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_unreachable_server_is_a_clear_error() -> None:
    url = f"http://127.0.0.1:{_free_port()}"
    with pytest.raises(OsrmError, match=rf"OSRM server at {url} is unreachable"):
        OsrmProvider(url, timeout_s=2).matrices(POINTS[:2])


@pytest.fixture
def fake_osrm() -> Iterator[tuple[str, list[tuple[int, dict]]]]:
    """A local HTTP server that answers each request with the next queued (status, body)."""
    answers: list[tuple[int, dict]] = []

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            status, body = answers.pop(0)
            payload = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        def log_message(self, *args: object) -> None:
            pass

    server = HTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}", answers
    finally:
        server.shutdown()
        server.server_close()


def test_null_cell_is_an_error_naming_both_locations(
    fake_osrm: tuple[str, list[tuple[int, dict]]],
) -> None:
    url, answers = fake_osrm
    waypoints = [{"distance": 1.0}, {"distance": 2.0}]
    answers.append(
        (
            200,
            {
                "code": "Ok",
                "durations": [[0, None], [12.5, 0]],
                "distances": [[0, None], [100.0, 0]],
                "sources": waypoints,
                "destinations": waypoints,
            },
        )
    )
    with pytest.raises(OsrmError, match=r"no route from location 0 .* to location 1"):
        OsrmProvider(url).matrices(POINTS[:2])


def test_invalid_query_refusal(fake_osrm: tuple[str, list[tuple[int, dict]]]) -> None:
    url, answers = fake_osrm
    answers.append((400, {"code": "InvalidQuery", "message": "Query string malformed"}))
    with pytest.raises(OsrmError, match=r"refused .*HTTP 400.*InvalidQuery.*malformed"):
        OsrmProvider(url).matrices(POINTS[:2])


def test_spec_and_validation() -> None:
    provider = provider_for(OsrmMatrix(url="http://127.0.0.1:5000", max_table_size=50))
    assert isinstance(provider, OsrmProvider)
    assert provider.max_table_size == 50
    with pytest.raises(ValueError, match="http"):
        OsrmProvider("127.0.0.1:5000")
