"""POST /v1/vroom on VROOM's own examples: valid plans, checked independently."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.vroom_check import check_vroom_solution


def _example(shared_data: Path, n: int) -> tuple[dict[str, Any], dict[str, Any]]:
    folder = shared_data / "vroom"
    if not (folder / f"example_{n}.json").is_file():
        pytest.skip(f"VROOM examples not found in {folder}")
    problem = json.loads((folder / f"example_{n}.json").read_text())
    problem.setdefault("options", {})["l"] = 0.5
    return problem, json.loads((folder / f"example_{n}_sol.json").read_text())


def _solve(client: TestClient, problem: dict[str, Any]) -> dict[str, Any]:
    response = client.post("/v1/vroom", json=problem)
    assert response.status_code == 200, response.text
    answer = response.json()
    assert check_vroom_solution(problem, answer) == []
    assert answer["evaluation"]["feasible"]
    return answer


def test_example_2_uses_its_matrix_and_matches_the_published_cost(
    client: TestClient, shared_data: Path
) -> None:
    problem, published = _example(shared_data, 2)
    answer = _solve(client, problem)
    assert answer["summary"]["cost"] == published["summary"]["cost"] == 5461
    assert set(answer) >= {"code", "summary", "routes", "unassigned"}
    step_keys = {"type", "arrival", "duration", "setup", "service", "waiting_time", "violations"}
    assert all(step_keys <= set(step) for step in answer["routes"][0]["steps"])


def test_example_3_with_coordinates_uses_haversine(client: TestClient, shared_data: Path) -> None:
    problem, _ = _example(shared_data, 3)
    answer = _solve(client, problem)
    assert answer["summary"]["routes"] == 2
    assert {u["reason"] for u in answer["unassigned"]} <= {
        "no_room_in_plan",
        "demand_exceeds_capacity",
    }


def test_example_1_with_a_shipment_gets_a_valid_plan(client: TestClient, shared_data: Path) -> None:
    problem, _ = _example(shared_data, 1)
    answer = _solve(client, problem)
    served = {(s["type"], s.get("id")) for r in answer["routes"] for s in r["steps"]}
    left = {(u["type"], u["id"]) for u in answer["unassigned"]}
    assert {("pickup", 4), ("delivery", 3)} <= served | left
    assert all(u["reason"] for u in answer["unassigned"])


def test_example_1_without_its_shipment_is_planned(client: TestClient, shared_data: Path) -> None:
    problem, _ = _example(shared_data, 1)
    del problem["shipments"]
    answer = _solve(client, problem)
    assert answer["unassigned"] == []


def test_inconsistent_amounts_name_the_job(client: TestClient) -> None:
    problem = {
        "vehicles": [{"id": 1, "start": [2.3, 48.8], "capacity": [4]}],
        "jobs": [{"id": 1, "location": [2.3, 48.9], "delivery": [1, 2]}],
    }
    response = client.post("/v1/vroom", json=problem)
    assert response.status_code == 422
    assert response.json()["details"][0]["field"] == "jobs[0].delivery"


def test_time_limit_over_the_sync_cap_is_refused(client: TestClient) -> None:
    problem = {"vehicles": [{"id": 1, "start": [2.3, 48.8]}], "options": {"l": 600}}
    response = client.post("/v1/vroom", json=problem)
    assert response.status_code == 422
    assert response.json()["details"][0]["field"] == "options.l"
