"""The through-the-day benchmark on a tiny day (SQLite): every event accepted, the re-plan
and the free re-plan judged feasible, the new orders served, the tables written."""

from __future__ import annotations

import json
from pathlib import Path

from benchmarks.day_bench import Sizes, run


def test_a_tiny_day_runs_every_section(tmp_path: Path) -> None:
    sizes = Sizes(stops=12, vans=2, new_orders=2, routing_time_limit_s=0.3)
    (result,) = run(tmp_path, databases=("sqlite",), sizes=sizes)
    assert result.events is not None
    assert result.events.succeeded == result.events.requests > 0
    assert result.replan_feasible and result.free_feasible
    assert result.new_served == sizes.new_orders
    assert result.webhook_deliveries > 0
    written = json.loads((tmp_path / "day.json").read_text())
    assert written["results"][0]["database"] == "sqlite"
    assert "| sqlite |" in (tmp_path / "day.md").read_text()
