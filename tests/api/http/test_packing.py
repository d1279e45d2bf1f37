"""POST /v1/cartons/pack: checked answers, the example, and 422s that name the field."""

from __future__ import annotations

import copy
from typing import Any

from fastapi.testclient import TestClient

from api.http.auth import Role, required_role
from api.http.packing_examples import PACK_REQUEST, PACK_RESULT
from engine.packing import evaluate_packing, pack
from models.packing import PackRequest, PackResult
from tests.api.payloads import assert_error_shape

URL = "/v1/cartons/pack"


def pack_request(**options: Any) -> dict[str, Any]:
    request = copy.deepcopy(PACK_REQUEST)
    request["options"] = {"time_limit_s": 1.0, **options}
    return request


def test_the_example_is_packed_and_passes_the_checker(client: TestClient) -> None:
    request = pack_request(fill_factor=0.85)
    response = client.post(URL, json=request)
    assert response.status_code == 200, response.text
    result = PackResult.model_validate(response.json())
    verdict = evaluate_packing(PackRequest.model_validate(request), result)
    assert verdict.feasible and result.evaluation.feasible, verdict.violations
    # mugs 120 x 90 x 100 mm (1.08 l), teapots 220 x 160 x 180 mm (6.336 l): six mugs
    # (6.48 l) fit the small box's 0.85 x 9 l, teapots fit only the medium box (0.9)
    assert result.cost == 1.5 and result.status == "optimal"
    assert [str(c.type_id) for s in result.shipments for c in s.cartons] == ["box-s", "box-m"]


def _rounded(value: Any) -> Any:
    """``value`` with every float rounded to 9 decimals."""
    if isinstance(value, dict):
        return {k: _rounded(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_rounded(v) for v in value]
    return round(value, 9) if isinstance(value, float) else value


def test_the_documented_result_is_the_engines_answer() -> None:
    result = pack(PackRequest.model_validate(PACK_REQUEST)).model_dump(mode="json")
    documented = PackResult.model_validate(PACK_RESULT).model_dump(mode="json")
    result["solve_time_s"] = documented["solve_time_s"]
    assert _rounded(result) == _rounded(documented)


def test_a_unit_too_big_for_every_carton_is_a_422_naming_the_sku(client: TestClient) -> None:
    request = pack_request()
    request["products"].append(
        {"sku": "sofa", "length_mm": 2000, "width_mm": 900, "height_mm": 800, "weight_kg": 40}
    )
    request["shipments"][0]["lines"].append({"sku": "sofa", "quantity": 1})
    response = client.post(URL, json=request)
    assert response.status_code == 422
    body = response.json()
    assert_error_shape(body, "invalid_input")
    assert body["details"][0]["field"] == "products[sku=sofa]"


def test_bad_fields_are_422s_naming_them(client: TestClient) -> None:
    cases: list[tuple[Any, str]] = [
        (lambda r: r["options"].update(fill_factor=1.5), "options.fill_factor"),
        (lambda r: r["options"].update(fill_factor=0), "options.fill_factor"),
        (lambda r: r["carton_types"][0].update(inner_width_mm=-1), "inner_width_mm"),
        (lambda r: r["products"][1].update(weight_kg="1"), "weight_kg"),
        (lambda r: r["shipments"][0]["lines"][0].update(quantity=0), "quantity"),
        (lambda r: r["shipments"][1]["lines"][0].update(sku="nope"), "shipments[1].lines[0].sku"),
    ]
    for change, field in cases:
        request = pack_request()
        change(request)
        response = client.post(URL, json=request)
        assert response.status_code == 422, (field, response.text)
        body = response.json()
        assert body["code"] == "invalid_input"
        assert field in body["details"][0]["field"], (field, body)


def test_too_many_units_or_too_long_a_search_is_limit_exceeded(client: TestClient) -> None:
    request = pack_request()
    request["shipments"][0]["lines"][0]["quantity"] = 2001
    response = client.post(URL, json=request)
    assert response.status_code == 422
    assert_error_shape(response.json(), "limit_exceeded")
    assert response.json()["details"][0]["field"] == "shipments"
    request = pack_request()
    request["carton_types"] = [{**request["carton_types"][0], "id": f"box-{i}"} for i in range(51)]
    response = client.post(URL, json=request)
    assert response.status_code == 422
    assert response.json()["details"][0]["field"] == "carton_types"
    response = client.post(URL, json=pack_request(time_limit_s=60))  # the test cap is 5 s
    assert response.status_code == 422
    assert response.json()["details"][0]["field"] == "options.time_limit_s"


def test_packing_needs_the_plan_role() -> None:
    assert required_role("POST", "/cartons/pack") == Role.PLAN
