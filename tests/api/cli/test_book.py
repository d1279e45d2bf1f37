"""``routeplan orders|stock|sites|plans`` on a SQLite file (``ROUTEPLAN_DATABASE_URL``): set
up a site without HTTP, move stock, import orders in both modes, read them back, and
commit plans (an unknown one, a good one, a stale one) with the CLI's exit codes."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

import api.cli.book  # noqa: F401  (registers the commands, as api/cli/__init__.py should)
from api.cli import app
from api.settings import get_settings
from engine.book.store import BookStore
from tests.engine.book.conftest import plan_from_book

runner = CliRunner()

ORDERS = (
    "order_id,line_id,sku,quantity,lat,lon,payment_status,promised_date,address\n"
    "c1,l1,mug,2,52.36,4.91,paid,2026-12-02,Damrak 1\n"
    "c1,l2,cap,1,52.36,4.91,,,\n"
    "c2,l1,mug,1,52.35,4.92,pending,2026-12-02,\n"
)
BAD_ROW = "c3,l1,mug,many,52.35,4.92,paid,,\n"


@pytest.fixture
def url(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """The database the commands use."""
    database_url = f"sqlite:///{tmp_path / 'book.db'}"
    monkeypatch.setenv("ROUTEPLAN_DATABASE_URL", database_url)
    get_settings.cache_clear()
    yield database_url
    get_settings.cache_clear()


def run(*args: str) -> tuple[int, str, str]:
    result = runner.invoke(app, list(args))
    return result.exit_code, result.stdout, result.stderr


def write(tmp_path: Path, text: str, name: str = "orders.csv") -> str:
    path = tmp_path / name
    path.write_text(text)
    return str(path)


def set_up(tmp_path: Path) -> None:
    """A site with stock of mugs and caps, and the two orders imported."""
    code, _out, err = run("sites", "put", "ams", "--lon", "4.90", "--lat", "52.37")
    assert code == 0, err
    for sku, units in (("mug", 10), ("cap", 4)):
        code, _out, err = run("stock", "move", "ams", sku, str(units), "--kind", "receipt")
        assert code == 0, err
    code, _out, err = run("orders", "import", write(tmp_path, ORDERS))
    assert code == 0, err


def test_sites_put_creates_then_replaces(url: str) -> None:
    code, out, err = run(
        "sites", "put", "ams", "--lon", "4.9", "--lat", "52.37", "--kind", "store",
        "--capacity-orders", "40", "--open", "08:00-18:00", "--channel", "web", "--json",
    )  # fmt: skip
    assert code == 0, err
    site = json.loads(out)
    assert (site["id"], site["kind"], site["capacity_orders"]) == ("ams", "store", 40)
    assert site["location"] == [4.9, 52.37]
    assert site["opening_hours"] == [{"start_s": 8 * 3600.0, "end_s": 18 * 3600.0}]
    assert site["channels"] == ["web"]
    code, out, _err = run("sites", "put", "ams", "--lon", "5.0", "--lat", "52.0")
    assert code == 0 and "replaced site ams" in out
    store = BookStore(url)
    try:
        stored = store.get_site("ams")
    finally:
        store.close()
    assert stored.location == (5.0, 52.0) and stored.kind == "warehouse"


def test_sites_put_refuses_a_bad_latitude(url: str) -> None:
    code, _out, err = run("sites", "put", "ams", "--lon", "4.9", "--lat", "95")
    assert code == 2
    assert "location" in err and "latitude" in err


def test_stock_move_and_show(url: str) -> None:
    assert run("sites", "put", "ams", "--lon", "4.9", "--lat", "52.37")[0] == 0
    code, out, err = run("stock", "move", "ams", "mug", "10", "--kind", "receipt")
    assert code == 0, err
    assert "on hand 10" in out
    code, out, err = run("stock", "move", "ams", "mug", "-3", "--kind", "adjustment")
    assert code == 0, err
    assert "on hand 7" in out
    code, out, err = run("stock", "show", "--site", "ams", "--json")
    assert code == 0, err
    (level,) = json.loads(out)["levels"]
    assert (level["sku"], level["on_hand"], level["available"]) == ("mug", 7, 7)
    code, out, _err = run("stock", "show")
    assert code == 0 and "mug" in out and "7" in out


def test_stock_move_at_an_unknown_site_is_invalid_input(url: str) -> None:
    code, _out, err = run("stock", "move", "nowhere", "mug", "1", "--kind", "receipt")
    assert code == 2
    assert "site_id" in err and "nowhere" in err


def test_a_receipt_of_no_units_is_invalid_input(url: str) -> None:
    code, _out, err = run("stock", "move", "ams", "mug", "0", "--kind", "receipt")
    assert code == 2 and "receipt" in err


def test_orders_import_list_and_show(url: str, tmp_path: Path) -> None:
    set_up(tmp_path)
    code, out, err = run("orders", "list", "--json")
    assert code == 0, err
    orders = {o["id"]: o for o in json.loads(out)["orders"]}
    assert set(orders) == {"c1", "c2"}
    assert orders["c1"]["status"] == "ready" and orders["c1"]["channel"] == "csv"
    assert orders["c2"]["status"] == "on_hold"  # payment pending
    code, out, _err = run("orders", "list", "--status", "on_hold")
    assert code == 0 and "c2" in out and "c1" not in out
    code, out, err = run("orders", "show", "c1", "--history", "--json")
    assert code == 0, err
    shown = json.loads(out)
    assert [(ln["id"], ln["sku"], ln["quantity"]) for ln in shown["order"]["lines"]] == [
        ("l1", "mug", 2),
        ("l2", "cap", 1),
    ]
    assert shown["order"]["address"] == "Damrak 1"
    assert [t["to_status"] for t in shown["history"]["transitions"]] == ["received", "ready"]
    code, out, _err = run("orders", "show", "c1")
    assert code == 0 and "Damrak 1" in out and "cap" in out


def test_orders_show_of_an_unknown_order(url: str) -> None:
    code, _out, err = run("orders", "show", "nope")
    assert code == 1
    assert "not found" in err and "nope" in err


def test_all_or_nothing_import_refuses_the_file(url: str, tmp_path: Path) -> None:
    code, _out, err = run("orders", "import", write(tmp_path, ORDERS + BAD_ROW))
    assert code == 2
    assert "orders.csv row 5 column quantity" in err and "many" in err
    code, out, _err = run("orders", "list", "--json")
    assert json.loads(out)["orders"] == []


def test_per_row_import_stores_the_good_orders(url: str, tmp_path: Path) -> None:
    path = write(tmp_path, ORDERS + BAD_ROW)
    code, out, err = run("orders", "import", path, "--mode", "per_row", "--json")
    assert code == 0, err
    report = json.loads(out)
    assert (report["orders_stored"], report["orders_refused"]) == (2, 1)
    assert [(e["row"], e["column"]) for e in report["errors"]] == [(5, "quantity")]
    code, out, _err = run("orders", "import", path, "--mode", "per_row")
    assert code == 0
    assert "0 stored, 2 already in the book, 1 refused" in out


def test_per_row_import_of_only_bad_rows_exits_2(url: str, tmp_path: Path) -> None:
    path = write(tmp_path, ORDERS.splitlines(keepends=True)[0] + BAD_ROW)
    code, out, _err = run("orders", "import", path, "--mode", "per_row")
    assert code == 2
    assert "0 stored" in out and "many" in out


def test_plans_commit_of_an_unknown_plan(url: str) -> None:
    code, _out, err = run("plans", "commit", "no-such-plan")
    assert code == 1
    assert "no-such-plan" in err and "not found" in err
    code, _out, err = run("plans", "show", "no-such-plan")
    assert code == 1 and "no-such-plan" in err


def test_plans_show_and_commit(url: str, tmp_path: Path) -> None:
    set_up(tmp_path)
    store = BookStore(url)
    try:
        saved, _request = plan_from_book(store)
    finally:
        store.close()
    code, out, err = run("plans", "show", saved.id, "--json")
    assert code == 0, err
    assert json.loads(out)["status"] == "draft"
    code, out, err = run("plans", "commit", saved.id, "--json")
    assert code == 0, err
    result = json.loads(out)
    assert result["status"] == "committed"
    assert {(o["order_id"], o["status"]) for o in result["orders"]} == {("c1", "allocated")}
    code, out, _err = run("stock", "show", "--sku", "mug", "--json")
    assert json.loads(out)["levels"][0]["reserved"] == 2  # c1's two mugs
    code, _out, err = run("plans", "commit", saved.id)
    assert code == 6  # a committed plan is not committed again
    assert "committed" in err


def test_a_stale_plan_exits_6_with_one_line_per_change(url: str, tmp_path: Path) -> None:
    set_up(tmp_path)
    store = BookStore(url)
    try:
        saved, _request = plan_from_book(store)
        store.cancel("c1")
    finally:
        store.close()
    code, _out, err = run("plans", "commit", saved.id)
    assert code == 6
    assert "stale" in err and "c1" in err and "cancelled" in err
    code, out, _err = run("stock", "show", "--sku", "mug", "--json")
    assert json.loads(out)["levels"][0]["reserved"] == 0  # nothing was reserved
