"""``routeplan pack``: a request file packed, and a bad sku named."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from api.cli import app
from engine.packing import evaluate_packing
from models.packing import PackRequest, PackResult
from tests.api.http.test_packing import pack_request


def test_the_cli_packs_a_request_file_and_names_a_bad_sku(tmp_path: Path) -> None:
    """``routeplan pack``, on the request of ``POST /v1/cartons/pack``'s tests."""
    runner = CliRunner()
    request_file, out = tmp_path / "request.json", tmp_path / "out" / "result.json"
    request_file.write_text(json.dumps(pack_request()))
    done = runner.invoke(app, ["pack", str(request_file), "--out", str(out)])
    assert done.exit_code == 0, done.output
    result = PackResult.model_validate_json(out.read_text())
    assert evaluate_packing(PackRequest.model_validate(pack_request()), result).feasible
    bad = pack_request()
    bad["shipments"][0]["lines"].append({"sku": "ghost", "quantity": 1})
    request_file.write_text(json.dumps(bad))
    done = runner.invoke(app, ["pack", str(request_file)])
    assert done.exit_code == 2 and "shipments[0].lines[1].sku" in done.output
