"""Pick and pack over HTTP: the catalogue, a committed plan's pick list (compared with the
plan's own shipment lines), cartons checked against the sizes put here, labels (PDF page size
and PNG pixels), the picked and packed marks with the key's name as actor, and the errors."""

from __future__ import annotations

import io
import itertools
from collections import Counter
from typing import Any

import pytest
from fastapi.testclient import TestClient
from PIL import Image

from api.http import picking_examples as ex
from models.picking import (
    PackIn,
    PackOutcome,
    PickList,
    ProductList,
    ProductSize,
    ProductSizeIn,
    ShipmentMark,
    SiteBins,
    SiteCartons,
)
from tests.api.conftest import MakeClient
from tests.api.formats.test_labels import pdf_pages
from tests.api.http.test_book_plans import book_plan, capture_and_pay, stock_up
from tests.api.payloads import assert_error_shape

ORDER_IDS = ["o-1", "o-2", "o-3"]
SIZES = {
    "kettle": {"length_mm": 250, "width_mm": 200, "height_mm": 200, "weight_kg": 1.5},
    "toaster": {"length_mm": 300, "width_mm": 180, "height_mm": 200, "weight_kg": 2.5},
}
CARTONS = [
    {
        "id": "M",
        "inner_length_mm": 320,
        "inner_width_mm": 260,
        "inner_height_mm": 220,
        "max_weight_kg": 8,
        "cost": 0.8,
        "tare_weight_kg": 0.2,
    },
    {
        "id": "XL",
        "inner_length_mm": 600,
        "inner_width_mm": 400,
        "inner_height_mm": 300,
        "max_weight_kg": 20,
        "cost": 1.6,
        "tare_weight_kg": 0.5,
    },
]
KEY = "floor:admin:ffffffffffffffff"


@pytest.fixture
def floor(make_client: MakeClient) -> TestClient:
    """A client whose calls carry the admin key named ``floor``."""
    client = make_client(api_keys=KEY)
    client.headers.update({"Authorization": "Bearer ffffffffffffffff"})
    return client


def _catalogue(client: TestClient) -> None:
    for sku, size in SIZES.items():
        put = client.put(f"/v1/products/{sku}", json=size)
        assert put.status_code == 201, put.text
    assert client.put("/v1/products/kettle", json=SIZES["kettle"]).status_code == 200
    assert client.put("/v1/sites/wh-1/cartons", json=CARTONS).status_code == 200
    bins = client.put("/v1/sites/wh-1/bins", json={"toaster": "R-2", "kettle": "R-10"})
    assert bins.status_code == 200, bins.text
    assert [b["sku"] for b in bins.json()["bins"]] == ["toaster", "kettle"]  # R-2 < R-10


def _committed(client: TestClient) -> dict[str, Any]:
    stock_up(client, {"kettle": 10, "toaster": 5})
    capture_and_pay(client, ORDER_IDS)
    plan = book_plan(client)
    draft = client.get(f"/v1/plans/{plan['id']}/sites/wh-1/picklist")
    assert draft.status_code == 409
    assert_error_shape(draft.json(), "invalid_transition")
    assert client.post(f"/v1/plans/{plan['id']}/commit").status_code == 200
    stored: dict[str, Any] = client.get(f"/v1/plans/{plan['id']}").json()
    return stored


def _fits(size: dict[str, float], carton: dict[str, Any]) -> bool:
    box = (carton["inner_length_mm"], carton["inner_width_mm"], carton["inner_height_mm"])
    edges = (size["length_mm"], size["width_mm"], size["height_mm"])
    return any(
        all(e <= b for e, b in zip(t, box, strict=True)) for t in itertools.permutations(edges)
    )


def _check_cartons(outcome: dict[str, Any], plan: dict[str, Any]) -> None:
    types = {c["id"]: c for c in CARTONS}
    for shipment in outcome["shipments"]:
        order_id, site_id = shipment["shipment_id"].split("@")
        (planned,) = [
            s for s in plan["shipments"] if s["order_id"] == order_id and s["site_id"] == site_id
        ]
        wanted: Counter[str] = Counter()
        for line in planned["lines"]:
            wanted[line["sku"]] += line["quantity"]
        packed: Counter[str] = Counter()
        for carton in shipment["cartons"]:
            kind = types[carton["type_id"]]
            inner = kind["inner_length_mm"] * kind["inner_width_mm"] * kind["inner_height_mm"]
            volume = sum(
                SIZES[i["sku"]]["length_mm"]
                * SIZES[i["sku"]]["width_mm"]
                * SIZES[i["sku"]]["height_mm"]
                * i["quantity"]
                for i in carton["items"]
            )
            weight = sum(SIZES[i["sku"]]["weight_kg"] * i["quantity"] for i in carton["items"])
            assert volume <= inner
            assert weight + kind["tare_weight_kg"] <= kind["max_weight_kg"]
            assert all(_fits(SIZES[i["sku"]], kind) for i in carton["items"])
            for item in carton["items"]:
                packed[item["sku"]] += item["quantity"]
        assert packed == wanted
        (cost,) = [
            s["cost_total"]
            for s in plan["allocation"]["shipments"]
            if s["order_id"] == order_id and s["site_id"] == site_id
        ]
        carton_cost = sum(types[c["type_id"]]["cost"] for c in shipment["cartons"])
        assert shipment["carton_cost"] == pytest.approx(carton_cost)
        assert shipment["total_cost"] == pytest.approx(cost + carton_cost)


def test_pick_pack_label_and_mark(floor: TestClient) -> None:
    client = floor
    plan = _committed(client)
    _catalogue(client)
    listed = client.get(f"/v1/plans/{plan['id']}/sites/wh-1/picklist")
    assert listed.status_code == 200, listed.text
    groups = listed.json()["groups"]
    lines = Counter(
        (line["order_id"], line["line_id"], line["sku"], line["units"])
        for g in groups
        for s in g["stops"]
        for line in s["lines"]
    )
    assert lines == Counter(
        (s["order_id"], line["line_id"], line["sku"], line["quantity"])
        for s in plan["shipments"]
        for line in s["lines"]
    )
    (van,) = groups
    route = client.get(f"/v1/routes/{van['route_id']}").json()
    order_of_visit = [s["stop_id"] for s in route["stops"] if s["order_id"]]
    assert [s["shipment_id"] for s in van["stops"]] == order_of_visit[::-1]

    packed = client.post(f"/v1/plans/{plan['id']}/sites/wh-1/pack", json={"time_limit_s": 1})
    assert packed.status_code == 200, packed.text
    _check_cartons(packed.json(), plan)

    first = van["stops"][-1]["shipment_id"]  # the first stop of the route
    pdf = client.get(f"/v1/plans/{plan['id']}/shipments/{first}/labels")
    assert pdf.status_code == 200 and pdf.headers["content-type"] == "application/pdf"
    boxes, texts = pdf_pages(pdf.content)
    (mine,) = [s for s in packed.json()["shipments"] if s["shipment_id"] == first]
    assert len(boxes) == len(mine["cartons"])
    assert all(b[2] == pytest.approx(283.46, abs=0.01) for b in boxes)
    assert all(b[3] == pytest.approx(425.20, abs=0.01) for b in boxes)
    assert mine["cartons"][0]["tracking_code"] in texts[0].split(" | ")
    assert "STOP 1" in texts[0]
    png = client.get(f"/v1/plans/{plan['id']}/shipments/{first}/labels", params={"format": "png"})
    assert png.status_code == 200 and png.headers["content-type"] == "image/png"
    assert Image.open(io.BytesIO(png.content)).size == (799, 1199)
    beyond = client.get(f"/v1/plans/{plan['id']}/shipments/{first}/labels", params={"carton": 99})
    assert beyond.status_code == 422

    for shipment in [s["shipment_id"] for s in van["stops"]]:
        picked = client.post(f"/v1/plans/{plan['id']}/shipments/{shipment}/picked")
        assert picked.status_code == 200, picked.text
        assert picked.json()["order_status"] == "picking"
        done = client.post(f"/v1/plans/{plan['id']}/shipments/{shipment}/packed")
        assert done.status_code == 200 and done.json()["order_status"] == "packed"
    again = client.post(f"/v1/plans/{plan['id']}/shipments/{first}/packed")
    assert again.status_code == 409
    assert_error_shape(again.json(), "invalid_transition")
    repack = client.post(f"/v1/plans/{plan['id']}/sites/wh-1/pack", json={"time_limit_s": 1})
    assert repack.status_code == 409
    history = client.get(f"/v1/orders/{first.split('@')[0]}/history").json()["transitions"]
    assert [(t["to_status"], t["actor"]) for t in history[-2:]] == [
        ("picking", "floor"),
        ("packed", "floor"),
    ]
    assert client.post(f"/v1/routes/{van['route_id']}/dispatch").status_code == 200


def test_catalogue_reads_and_errors(client: TestClient) -> None:
    stock_up(client, {"kettle": 1})
    _catalogue(client)
    assert ProductSize.model_validate(client.get("/v1/products/kettle").json()).length_mm == 250
    listed = ProductList.model_validate(client.get("/v1/products").json())
    assert [p.sku for p in listed.products] == ["kettle", "toaster"]
    assert client.get("/v1/products/nope").status_code == 404
    cartons = SiteCartons.model_validate(client.get("/v1/sites/wh-1/cartons").json())
    assert [c.id for c in cartons.carton_types] == ["M", "XL"]
    as_list = [{"sku": "kettle", "bin_location": "A-1"}]
    assert client.put("/v1/sites/wh-1/bins", json=as_list).status_code == 200
    bins = SiteBins.model_validate(client.get("/v1/sites/wh-1/bins").json())
    assert [(b.sku, b.bin_location) for b in bins.bins] == [("kettle", "A-1")]

    bad = client.put("/v1/products/kettle", json={**SIZES["kettle"], "length_mm": -1})
    assert bad.status_code == 422
    assert_error_shape(bad.json(), "invalid_input")
    twice = client.put("/v1/sites/wh-1/cartons", json=[CARTONS[0], CARTONS[0]])
    assert twice.status_code == 422 and twice.json()["details"][0]["field"] == "[1].id"
    assert client.put("/v1/sites/nowhere/cartons", json=CARTONS).status_code == 404
    assert client.get("/v1/sites/nowhere/bins").status_code == 404
    assert client.put("/v1/sites/wh-1/bins", json={"kettle": "?bad"}).status_code == 422
    assert client.get("/v1/plans/nope/sites/wh-1/picklist").status_code == 404
    assert client.post("/v1/plans/nope/sites/wh-1/pack").status_code == 404
    assert client.post("/v1/plans/nope/shipments/a@b/picked").status_code == 404
    assert client.get("/v1/plans/nope/shipments/a@b/labels").status_code == 404


def test_a_site_without_cartons_or_sizes_is_a_422(client: TestClient) -> None:
    plan = _committed(client)
    url = f"/v1/plans/{plan['id']}/sites/wh-1/pack"
    no_types = client.post(url)
    assert no_types.status_code == 422
    assert no_types.json()["details"][0]["field"] == "carton_types"
    assert client.put("/v1/sites/wh-1/cartons", json=CARTONS).status_code == 200
    no_sizes = client.post(url)
    assert no_sizes.status_code == 422
    assert {d["field"] for d in no_sizes.json()["details"]} == {
        "products[sku=kettle]",
        "products[sku=toaster]",
    }
    big = {**SIZES["kettle"], "length_mm": 900}
    for sku, size in {**SIZES, "kettle": big}.items():
        client.put(f"/v1/products/{sku}", json=size)
    too_big = client.post(url)
    assert too_big.status_code == 422
    assert too_big.json()["details"][0]["field"] == "products[sku=kettle]"
    assert too_big.json()["details"][0]["shipment_id"].endswith("@wh-1")
    shipment = plan["shipments"][0]
    unpacked = client.get(f"/v1/plans/{plan['id']}/shipments/{shipment['order_id']}@wh-1/labels")
    assert unpacked.status_code == 409
    slow = client.post(url, json={"time_limit_s": 50})
    assert slow.status_code == 422 and slow.json()["code"] == "limit_exceeded"


def test_the_examples_parse_as_their_models() -> None:
    ProductSizeIn.model_validate(ex.PRODUCT_IN)
    ProductSize.model_validate(ex.PRODUCT)
    ProductList.model_validate(ex.PRODUCTS)
    SiteCartons.model_validate(ex.SITE_CARTONS)
    SiteBins.model_validate(ex.SITE_BINS)
    PickList.model_validate(ex.PICK_LIST)
    PackIn.model_validate(ex.PACK_IN)
    PackOutcome.model_validate(ex.PACK_OUTCOME)
    ShipmentMark.model_validate(ex.SHIPMENT_MARK)
