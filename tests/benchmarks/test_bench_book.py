"""``routeplan bench book`` with tiny sizes on SQLite: every section runs against a real
server, the oversell rounds all pass and the day's ledger balances."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from typer.testing import CliRunner

from api.cli import app
from benchmarks.book import Sizes, book_database, day_data, order_bodies, run
from tests.postgres import postgres_url

TINY = Sizes(
    capture_orders=20,
    capture_clients=(1, 4),
    reservation_clients=5,
    reservations=20,
    oversell_rounds=2,
    oversell_clients=10,
    oversell_units=4,
    day_orders=60,
    vans_per_site=1,
    allocation_time_limit_s=1.0,
    routing_time_limit_s=0.5,
)


def test_tiny_run_on_sqlite_passes_every_check_and_writes_every_section(tmp_path: Path) -> None:
    bench = run(tmp_path / "out", databases=("sqlite",), sizes=TINY)
    data = json.loads((tmp_path / "out" / "book.json").read_text())
    assert set(data) >= {"quick", "server", "sizes", "passed", "databases"}
    (db,) = data["databases"]
    assert set(db) >= {"database", "capture", "reservations", "oversell", "day"}
    assert db["database"] == "sqlite"

    assert [c["clients"] for c in db["capture"]] == [1, 4]
    for capture in db["capture"]:
        assert capture["rate"]["statuses"] == {"201": 20}, capture
        assert capture["rate"]["p50_ms"] is not None and capture["rate"]["p95_ms"] is not None
    # 5 clients x ceil(20 / 5) reservations of 1 unit, all with stock to spare.
    assert db["reservations"]["rate"]["statuses"] == {"201": 20}

    oversell = db["oversell"]
    assert oversell["rounds"] == 2 and oversell["passed"] == 2 and oversell["failed"] == 0, oversell
    for round_ in oversell["details"]:
        assert (round_["succeeded"], round_["refused"]) == (4, 6), round_
        assert round_["stock"] == {"on_hand": 4, "reserved": 4, "available": 0}

    day = db["day"]
    assert day["orders"] == 60 and day["sites"] == 5 and day["vans"] == 5
    assert day["ledger_balanced"], day["ledger_detail"]
    assert day["orders_allocated"] + day["orders_backordered"] == day["plan_orders"] > 0
    assert day["plan_orders"] == day["orders"] - day["orders_on_hold"] - day["capture_refused"]
    assert day["units_reserved"] > 0
    assert sum(day["shipments_by_mode"].values()) >= day["orders_allocated"]
    assert set(day["in_process_s"]) >= {
        "plan_snapshot",
        "book_plan_request",
        "plan (allocate + route)",
        "save_plan",
    }
    assert "stale_plan" in day["in_process_commit"]
    assert data["passed"] is True and bench.passed

    snippet = (tmp_path / "out" / "book.md").read_text()
    assert "| sqlite | capture | 4 | 20 |" in snippet
    assert "Oversell check" in snippet and "| sqlite | 2 | 2 | 0 | 4/6 ×2 |  |" in snippet


def test_day_data_without_shared_data_is_the_seeded_generator(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ROUTEPLAN_SHARED_DATA", str(tmp_path))  # no olist folder there
    data = day_data(40, 5, seed=3)
    again = day_data(40, 5, seed=3)
    assert data.source.startswith("synthetic (seed 3)")
    assert data.orders.order_id.nunique() == 40
    assert data.orders.equals(again.orders)
    assert set(data.orders.channel) == {"day"} and set(data.orders.payment_status) == {"authorised"}
    assert set(data.stock.sku) <= set(data.orders.sku)
    bodies = order_bodies(data.orders)
    assert len(bodies) == 40
    assert sum(len(b["lines"]) for b in bodies) == len(data.orders)


def test_a_postgres_book_database_is_made_and_dropped(tmp_path: Path) -> None:
    server = postgres_url()
    with book_database("postgres", tmp_path, server) as url:
        name = url.rsplit("/", 1)[-1]
        assert name.startswith("rp_bench_")
        engine = create_engine(url)
        with engine.connect() as conn:
            assert conn.execute(text("select current_database()")).scalar() == name
        engine.dispose()
    admin = create_engine(server)
    with admin.connect() as conn:
        left = conn.execute(
            text("select count(*) from pg_database where datname = :n"), {"n": name}
        ).scalar()
    admin.dispose()
    assert left == 0


def test_an_unknown_database_is_a_usage_error() -> None:
    result = CliRunner().invoke(app, ["bench", "book", "--database", "oracle"])
    assert result.exit_code == 2
    assert "oracle" in result.output
