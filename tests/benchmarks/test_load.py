"""The load benchmark's client against a real server, for a couple of seconds, few clients."""

from __future__ import annotations

import csv
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from api.cli.app import app
from benchmarks import aio
from benchmarks.load import (
    LoadRun,
    LoadServer,
    Tally,
    drive,
    percentile,
    routes_body,
    warm_up,
    write_results,
)

CLIENTS = 3


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LoadServer]:
    work_dir = tmp_path_factory.mktemp("load")
    with LoadServer(f"sqlite:///{work_dir / 'jobs.db'}", work_dir) as started:
        warm_up(started.url, "async", routes_body())  # the solve workers and a job child
        yield started


def _check_counts(tally: Tally) -> None:
    """The counts of one run add up, and no answer is a server error."""
    assert tally.statuses, "no answer at all"
    assert all(status < 500 for status in tally.statuses), tally.statuses
    assert tally.server_errors == 0 and tally.transport_errors == 0
    assert tally.answered == sum(tally.statuses.values())
    assert 0 <= tally.unfinished <= CLIENTS  # at most one request in flight per client
    assert len(tally.solve_latencies_s) == tally.solves > 0
    assert len(tally.busy_latencies_s) <= tally.statuses[429]
    assert tally.health_statuses and set(tally.health_statuses) == {200}
    assert len(tally.health_latencies_s) == sum(tally.health_statuses.values())


def test_sync_clients_count_every_answer(server: LoadServer) -> None:
    tally = aio.run(drive(server.url, "sync", CLIENTS, duration_s=2.0))
    _check_counts(tally)
    assert tally.solves == tally.statuses[200]  # a sync solve is an answer 200
    assert set(tally.statuses) <= {200, 429}


def test_async_clients_count_jobs_and_polls(server: LoadServer) -> None:
    tally = aio.run(drive(server.url, "async", CLIENTS, duration_s=3.0, poll_s=0.2))
    _check_counts(tally)
    assert tally.solves == tally.job_outcomes["succeeded"]
    assert sum(tally.job_outcomes.values()) <= tally.statuses[202]  # each job submitted once
    assert set(tally.statuses) <= {200, 202, 429}


def test_results_and_summary_carry_every_run(tmp_path: Path) -> None:
    tally = Tally(sent=5, solves=3, solve_latencies_s=[0.1, 0.2, 0.3])
    tally.statuses.update({200: 3, 429: 1, 503: 1})
    tally.health_latencies_s += [0.01, 0.02]
    tally.health_statuses[200] += 2
    runs = [
        LoadRun("sqlite", "sync", 20, 2.0, tally, 100 * 2**20),
        LoadRun("sqlite", "sync", 50, 2.0, tally, None),
    ]
    write_results(tmp_path, runs)
    rows = list(csv.DictReader((tmp_path / "results.csv").open()))
    assert [row["clients"] for row in rows] == ["20", "50"]
    assert rows[0]["statuses"] == "200:3 429:1 503:1" and rows[0]["server_errors"] == "1"
    assert rows[0]["solves_per_s"] == "1.50" and rows[0]["peak_rss_mb"] == "100"
    assert rows[0]["latency_p50_ms"] == "200.0" and rows[0]["latency_p95_ms"] == "300.0"
    summary = (tmp_path / "summary.md").read_text()
    assert "at 50 clients within 20% of 20 clients (ratio 1.00): **met**" in summary
    assert "at 200 clients within 20% of 20 clients: **not run**" in summary
    assert "no server or transport errors (2): **NOT met**" in summary


def test_percentile_is_nearest_rank() -> None:
    assert percentile([], 95) is None
    assert percentile([3.0, 1.0, 2.0], 50) == 2.0
    assert percentile([float(i) for i in range(1, 101)], 95) == 95.0
    assert percentile([1.0], 95) == 1.0


def test_bench_load_command_runs_and_writes_its_files(tmp_path: Path) -> None:
    args = ["bench", "load", "--out", str(tmp_path), "--database", "sqlite", "--mode", "sync"]
    result = CliRunner().invoke(app, [*args, "--clients", "2", "--duration-s", "1"])
    assert result.exit_code == 0, result.output
    rows = list(csv.DictReader((tmp_path / "results.csv").open()))
    assert [(row["database"], row["mode"], row["clients"]) for row in rows] == [
        ("sqlite", "sync", "2")
    ]
    assert int(rows[0]["solves"]) > 0 and rows[0]["server_errors"] == "0"
    assert "Load benchmark" in (tmp_path / "summary.md").read_text()


def test_bench_load_refuses_an_unknown_database(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        app, ["bench", "load", "--out", str(tmp_path), "--database", "oracle"]
    )
    assert result.exit_code == 2
    assert "oracle" in result.output
