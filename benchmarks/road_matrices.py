"""Road-matrix benchmark: speed of the ``osm`` provider and its accuracy against OSRM.

    python -m benchmarks.road_matrices            # 1000 points on Porto
    python -m benchmarks.road_matrices --quick    # 200 points, one query repeat

It also holds the helpers that run a local OSRM (``osrm-routed``) from the ``osrm-bindings``
wheel, which the OSRM provider's tests use: :func:`osrm_binaries`, :func:`osrm_dataset` and
:func:`osrm_server`. The wheel is fetched with pip (cp312 only, but its programs are
self-contained) and the MLD dataset is built with the wheel's own ``car.lua``; both are cached
under ``ROUTEPLAN_CACHE_DIR`` (see :mod:`benchmarks.paths`), keyed by wheel and extract hash.
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import zipfile
from collections.abc import Iterator
from pathlib import Path

import httpx
import numpy as np
import numpy.typing as npt

from benchmarks.paths import cache_dir, shared_data_dir
from engine.matrices.osm_graph import RoadGraph

OSRM_WHEEL = "osrm-bindings"
OSRM_PROGRAMS = ("osrm-extract", "osrm-partition", "osrm-customize", "osrm-routed")


class OsrmUnavailableError(RuntimeError):
    """A local OSRM cannot be had here (no wheel, or its programs do not run)."""


def _cache_root() -> Path:
    return cache_dir() / "osrm"


def osrm_binaries(cache_root: Path | None = None) -> tuple[Path, Path]:
    """The folder of the ``osrm-*`` programs and the car profile, fetching the wheel once."""
    root = (cache_root or _cache_root()) / "wheel"
    marker = root / "unpacked"
    if not marker.is_file():
        root.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory(dir=root) as download:
            command = [
                sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary=:all:",
                "--python-version", "3.12", "--platform", "manylinux_2_28_x86_64",
                "--dest", download, OSRM_WHEEL,
            ]  # fmt: skip
            done = subprocess.run(command, capture_output=True, text=True, timeout=600)
            wheels = list(Path(download).glob("*.whl"))
            if done.returncode != 0 or not wheels:
                raise OsrmUnavailableError(
                    f"pip could not download {OSRM_WHEEL}: {done.stderr.strip()[-300:]}"
                )
            with zipfile.ZipFile(wheels[0]) as archive:
                archive.extractall(root / "files")
            marker.write_text(wheels[0].name)
    files = root / "files"
    bin_dirs = [p.parent for p in files.rglob("osrm-routed")]
    profiles = list(files.rglob("profiles/car.lua"))
    if not bin_dirs or not profiles:
        raise OsrmUnavailableError(f"the {OSRM_WHEEL} wheel has no osrm-routed or car.lua")
    for program in OSRM_PROGRAMS:
        path = bin_dirs[0] / program
        path.chmod(0o755)
    return bin_dirs[0], profiles[0]


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def osrm_dataset(osm_file: Path, cache_root: Path | None = None) -> Path:
    """The ``.osrm`` base path of an MLD dataset for ``osm_file`` (car profile), built once."""
    bin_dir, profile = osrm_binaries(cache_root)
    wheel = ((cache_root or _cache_root()) / "wheel" / "unpacked").read_text().strip()
    key = hashlib.sha256(f"{_sha256(osm_file)}|{wheel}".encode()).hexdigest()[:20]
    folder = (cache_root or _cache_root()) / "data" / key
    base = folder / "map.osrm"
    if (folder / "built").is_file():
        return base
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    (folder / "map.osm.pbf").symlink_to(osm_file.resolve())
    steps = [
        [str(bin_dir / "osrm-extract"), "-p", str(profile), str(folder / "map.osm.pbf")],
        [str(bin_dir / "osrm-partition"), str(base)],
        [str(bin_dir / "osrm-customize"), str(base)],
    ]
    for step in steps:
        try:
            done = subprocess.run(step, capture_output=True, text=True, timeout=900, cwd=folder)
        except OSError as error:
            raise OsrmUnavailableError(
                f"{Path(step[0]).name} does not run here: {error}"
            ) from error
        if done.returncode != 0:
            raise OsrmUnavailableError(
                f"{Path(step[0]).name} failed ({done.returncode}): {done.stderr.strip()[-300:]}"
            )
    (folder / "built").write_text("ok")
    return base


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextlib.contextmanager
def osrm_server(
    dataset: Path, max_table_size: int = 100, cache_root: Path | None = None
) -> Iterator[str]:
    """Run ``osrm-routed --algorithm mld`` on 127.0.0.1 and yield its URL; stopped on exit."""
    bin_dir, _ = osrm_binaries(cache_root)
    port = _free_port()
    command = [
        str(bin_dir / "osrm-routed"), "--algorithm", "mld", "-i", "127.0.0.1", "-p", str(port),
        "--max-table-size", str(max_table_size), str(dataset),
    ]  # fmt: skip
    with tempfile.TemporaryFile() as log:
        process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT)
        url = f"http://127.0.0.1:{port}"
        try:
            deadline = time.monotonic() + 30
            while True:
                if process.poll() is not None:
                    log.seek(0)
                    tail = log.read().decode(errors="replace")[-300:]
                    raise OsrmUnavailableError(f"osrm-routed exited ({process.returncode}): {tail}")
                with contextlib.suppress(httpx.HTTPError):
                    if httpx.get(f"{url}/nearest/v1/driving/0,0", timeout=1).status_code:
                        break
                if time.monotonic() > deadline:
                    raise OsrmUnavailableError("osrm-routed did not start listening within 30 s")
                time.sleep(0.1)
            yield url
        finally:
            process.terminate()
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def sample_points(graph: RoadGraph, count: int, seed: int = 7) -> npt.NDArray[np.float64]:
    """``count`` ``[lon, lat]`` points near roads: random road pieces, jittered ~30 m."""
    rng = np.random.default_rng(seed)
    length = graph.seg_len_cm.astype(np.float64)
    segments = rng.choice(length.shape[0], size=count, replace=False, p=length / length.sum())
    t = rng.random(count)
    lon = graph.seg_lon[segments, 0] + t * (graph.seg_lon[segments, 1] - graph.seg_lon[segments, 0])
    lat = graph.seg_lat[segments, 0] + t * (graph.seg_lat[segments, 1] - graph.seg_lat[segments, 0])
    jitter = rng.normal(0.0, 30.0, size=(count, 2))
    lat = lat + jitter[:, 1] / 111_195.0
    lon = lon + jitter[:, 0] / (111_195.0 * np.cos(np.radians(lat)))
    return np.round(np.stack([lon, lat], axis=1), 6)


def _ratios(ours: npt.NDArray[np.float64], theirs: npt.NDArray[np.float64]) -> list[float]:
    mask = ~np.eye(ours.shape[0], dtype=bool) & (theirs > 0)
    ratio = ours[mask] / theirs[mask]
    return [float(x) for x in np.percentile(ratio, [5, 50, 95])]


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark and print a Markdown summary."""
    from engine.matrices.osm import OsmProvider
    from engine.matrices.osrm import OsrmProvider

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="200 points, one repeat")
    parser.add_argument("--points", type=int, default=None, help="number of points")
    parser.add_argument("--repeats", type=int, default=None, help="query repeats")
    parser.add_argument("--osm-file", type=Path, default=None, help="default: Porto extract")
    parser.add_argument("--workers", type=int, default=None, help="processes for the query")
    parser.add_argument("--no-osrm", action="store_true", help="skip the OSRM comparison")
    args = parser.parse_args(argv)
    count = args.points or (200 if args.quick else 1000)
    repeats = args.repeats or (1 if args.quick else 3)
    osm_file = args.osm_file or shared_data_dir() / "osm/porto_portugal.osm.pbf"
    if not osm_file.is_file():
        print(f"extract not found: {osm_file}", file=sys.stderr)
        return 2

    with tempfile.TemporaryDirectory() as cache:
        started = time.perf_counter()
        OsmProvider(osm_file, cache_dir=Path(cache)).load()
        build_s = time.perf_counter() - started
        provider = OsmProvider(osm_file, cache_dir=Path(cache), workers=args.workers)
        started = time.perf_counter()
        graph = provider.load()
        load_s = time.perf_counter() - started
        points = sample_points(graph, count)
        query_s: list[float] = []
        result = None
        for _ in range(repeats):
            started = time.perf_counter()
            result = provider.compute(points)
            query_s.append(time.perf_counter() - started)
    assert result is not None
    print(f"## {osm_file.name}: {count} x {count} points")
    print(
        f"- graph: {graph.node_count} junctions, {graph.chain_count} chains, "
        f"{int(graph.stats[0])} road nodes"
    )
    print(f"- build (parse + graph + cache write): {build_s:.2f} s")
    print(f"- cached load (graph + snap index): {load_s:.2f} s")
    runs = ", ".join(f"{s:.2f}" for s in query_s)
    print(f"- query (snap + durations + distances): {runs} s (median {np.median(query_s):.2f} s)")
    print(f"- largest snap distance: {result.max_snap_m:.1f} m")
    load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    print(f"- machine: {os.cpu_count()} CPUs, load average {load} (other work slows the query)")

    if args.no_osrm:
        return 0
    try:
        dataset = osrm_dataset(osm_file)
        with osrm_server(dataset, max_table_size=count) as url:
            started = time.perf_counter()
            osrm = OsrmProvider(url, max_table_size=count, timeout_s=600).matrices(points)
            osrm_s = time.perf_counter() - started
    except OsrmUnavailableError as error:
        print(f"- OSRM comparison skipped: {error}")
        return 0
    duration = _ratios(result.matrices.durations_s, osrm.durations_s)
    distance = _ratios(result.matrices.distances_m, osrm.distances_m)
    print(f"- OSRM MLD table over HTTP: {osrm_s:.2f} s")
    print("- ratio osm / OSRM (p5, median, p95):")
    print(f"  - duration: {duration[0]:.3f}, {duration[1]:.3f}, {duration[2]:.3f}")
    print(f"  - distance: {distance[0]:.3f}, {distance[1]:.3f}, {distance[2]:.3f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
