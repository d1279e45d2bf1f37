"""Errors on the command line: one line per problem on stderr, one exit code per kind of
error (2 invalid input, 3 solver failure, 4 store unavailable, 1 anything else), never a
traceback on the terminal."""

from __future__ import annotations

import json
import logging
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

import api.cli.errors
import api.cli.route
from api.cli import app
from models.errors import SolverError, StoreUnavailableError

runner = CliRunner()

REQUEST = {
    "stops": [{"id": "a", "location": [-8.61, 41.15]}],
    "vehicles": [{"id": "van", "start": [-8.61, 41.155]}],
    "options": {"time_limit_s": 1},
}


def _request_file(tmp_path: Path, data: dict[str, Any] = REQUEST) -> Path:
    path = tmp_path / "request.json"
    path.write_text(json.dumps(data))
    return path


def _lines(text: str) -> list[str]:
    return [line for line in text.splitlines() if line.strip()]


@pytest.fixture
def log_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Where the CLI logs tracebacks during the test."""
    path = tmp_path / "logs" / "cli.log"
    monkeypatch.setattr(api.cli.errors, "log_file", lambda: path)
    return path


def _solve_raising(monkeypatch: pytest.MonkeyPatch, error: Exception) -> None:
    def broken(*_args: Any, **_kwargs: Any) -> Any:
        raise error

    monkeypatch.setattr(api.cli.route, "solve_routes", broken)


def test_invalid_input_exits_2_naming_the_field_value_and_why(tmp_path: Path) -> None:
    data = {**REQUEST, "stops": [{"id": "a", "location": [-8.61, 41.15], "demand": {"kg": -2}}]}
    result = runner.invoke(app, ["route", str(_request_file(tmp_path, data))])
    assert result.exit_code == 2
    assert _lines(result.stderr) == [
        "invalid input: stops[0].demand.kg = -2: Input should be greater than or equal to 0"
    ]
    assert "Traceback" not in result.output


def test_several_problems_print_a_line_each(tmp_path: Path) -> None:
    data = {"stops": [{"id": "a", "location": "here"}], "vehicles": []}
    result = runner.invoke(app, ["route", str(_request_file(tmp_path, data))])
    assert result.exit_code == 2
    assert _lines(result.stderr) == [
        "invalid input: 2 problems",
        "  stops[0].location = 'here': Input should be a valid tuple",
        "  vehicles = []: List should have at least 1 item after validation, not 0",
    ]


def test_a_solver_failure_exits_3(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _solve_raising(monkeypatch, SolverError("the pyvrp backend failed: out of memory"))
    result = runner.invoke(app, ["route", str(_request_file(tmp_path))])
    assert result.exit_code == 3
    assert _lines(result.stderr) == ["solver failure: the pyvrp backend failed: out of memory"]


def test_an_unreachable_store_exits_4(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _solve_raising(monkeypatch, StoreUnavailableError())
    result = runner.invoke(app, ["route", str(_request_file(tmp_path))])
    assert result.exit_code == 4
    assert _lines(result.stderr) == [
        "job store unavailable: the job store is unreachable; retry later"
    ]


def test_an_unexpected_error_exits_1_with_one_line_and_logs_the_traceback(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
    log_file: Path,
) -> None:
    _solve_raising(monkeypatch, RuntimeError("the flux capacitor broke"))
    with caplog.at_level(logging.ERROR):
        result = runner.invoke(app, ["route", str(_request_file(tmp_path))])
    assert result.exit_code == 1
    lines = _lines(result.stderr)
    assert len(lines) == 1
    assert lines[0].startswith("internal error: RuntimeError: the flux capacitor broke")
    assert str(log_file) in lines[0]
    assert "Traceback" not in result.output
    [record] = [r for r in caplog.records if r.name == "api.cli.errors"]
    assert record.exc_info is not None and record.exc_info[0] is RuntimeError
    logged = log_file.read_text()
    assert "Traceback" in logged and "the flux capacitor broke" in logged


def test_usage_errors_help_and_exits_of_commands_stay_typers(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert runner.invoke(app, ["route", "--no-such-option"]).exit_code == 2
    assert runner.invoke(app, ["allocate", "--time-limit", "0"]).exit_code == 2
    help_ = runner.invoke(app, ["route", "--help"])
    assert help_.exit_code == 0 and "Plan routes" in help_.output
    assert runner.invoke(app, []).exit_code == 2  # no command: the help, as click does


def test_the_console_script_exits_2_without_a_traceback(tmp_path: Path) -> None:
    missing = tmp_path / "missing.json"
    done = subprocess.run(
        [sys.executable, "-c", "from api.cli import main; main()", "route", str(missing)],
        capture_output=True,
        text=True,
        cwd=Path(__file__).parents[3],
        timeout=120,
        check=False,
    )
    assert done.returncode == 2, done.stderr
    assert _lines(done.stderr) == [f"invalid input: {missing}: no such file"]
    assert "Traceback" not in done.stdout + done.stderr
