"""An independent check of an answer in VROOM's output shape against its VROOM problem.

It recomputes from the problem alone (never from our request or result): every job once,
skills, capacity loads, time windows, vehicle hours, travel times between consecutive
places, and the cost under VROOM's default cost (1 per second of travel).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from engine.matrices.geometric import haversine_m

#: Our haversine provider's default speed (what a coordinates-only VROOM problem uses).
HAVERSINE_SPEED_MPS = 40.0 / 3.6
#: Rounding slack, in seconds: VROOM's output is in whole seconds.
SLACK_S = 1.5


def _durations(problem: dict[str, Any]) -> tuple[Any, bool]:
    matrices = problem.get("matrices") or {}
    if "car" in matrices:
        return np.asarray(matrices["car"]["durations"], dtype=float), True
    return None, False


def _travel_s(
    problem: dict[str, Any], a: dict[str, Any], b: dict[str, Any], factor: float
) -> float:
    durations, indexed = _durations(problem)
    if indexed:
        return float(durations[a["location_index"], b["location_index"]]) / factor
    points = np.asarray([a["location"], b["location"]], dtype=float)
    return float(haversine_m(points)[0, 1]) / HAVERSINE_SPEED_MPS / factor


def check_vroom_solution(problem: dict[str, Any], solution: dict[str, Any]) -> list[str]:
    """Every broken rule, as a sentence; an empty list means the answer is a valid plan."""
    errors: list[str] = []
    if solution.get("code") != 0:
        return [f"code is {solution.get('code')}, not 0"]
    tasks: dict[tuple[str, Any], dict[str, Any]] = {
        ("job", job["id"]): job for job in problem.get("jobs", [])
    }
    for shipment in problem.get("shipments", []):
        for end in ("pickup", "delivery"):
            tasks[(end, shipment[end]["id"])] = {
                **shipment[end],
                "skills": shipment.get("skills", []),
            }
    where: dict[tuple[str, Any], tuple[Any, int]] = {}
    vehicles = {v["id"]: v for v in problem["vehicles"]}
    seen: list[tuple[str, Any]] = []
    total_cost = 0
    for route in solution["routes"]:
        vehicle = vehicles[route["vehicle"]]
        factor = vehicle.get("speed_factor", 1.0)
        steps = route["steps"]
        kinds = [s["type"] for s in steps]
        if kinds[0] != "start" or kinds[-1] != "end":
            errors.append(f"vehicle {vehicle['id']}: route must go from start to end")
        window = vehicle.get("time_window")
        if window and (steps[0]["arrival"] < window[0] or steps[-1]["arrival"] > window[1]):
            errors.append(f"vehicle {vehicle['id']}: route outside its time window {window}")
        capacity = vehicle.get("capacity")
        load = None
        place: dict[str, Any] | None = None
        ready = steps[0]["arrival"]
        travel_total = 0.0
        on_break_s = 0.0  # breaks taken since the last place
        for position, step in enumerate(steps):
            if step["type"] in ("job", "pickup", "delivery"):
                job = tasks[(step["type"], step["id"])]
                seen.append((step["type"], job["id"]))
                where[(step["type"], job["id"])] = (vehicle["id"], position)
                if not set(job.get("skills", [])) <= set(vehicle.get("skills", [])):
                    errors.append(f"job {job['id']}: vehicle {vehicle['id']} lacks its skills")
                start = step["arrival"] + step["waiting_time"]
                windows = job.get("time_windows") or []
                if windows and not any(a - SLACK_S <= start <= b + SLACK_S for a, b in windows):
                    errors.append(f"job {job['id']}: service starts at {start}, outside {windows}")
                if step["service"] != job.get("service", 0):
                    errors.append(f"job {job['id']}: service {step['service']} != given")
                here = job
            elif step["type"] in ("start", "end"):
                here = {
                    "location": vehicle.get(step["type"]),
                    "location_index": vehicle.get(f"{step['type']}_index"),
                }
                if here["location"] is None and here["location_index"] is None:
                    here = None
            else:  # a break: at the last place or on the way to the next (it moves nowhere)
                here = None
                start = step["arrival"] + step["waiting_time"]
                breaks = {b["id"]: b for b in vehicle.get("breaks", [])}
                windows = breaks[step["id"]].get("time_windows") or []
                if windows and not any(a - SLACK_S <= start <= b + SLACK_S for a, b in windows):
                    errors.append(f"break {step['id']}: starts at {start}, outside {windows}")
                if start + SLACK_S < ready:
                    errors.append(f"break {step['id']}: starts before the last task ended")
                on_break_s += step["service"]
                continue
            if step["type"] != "start" and here is not None and place is not None:
                travel = _travel_s(problem, place, here, factor)
                travel_total += travel
                if step["arrival"] + SLACK_S < ready + travel + on_break_s:
                    errors.append(
                        f"vehicle {vehicle['id']}: arrives at {step['type']} {step.get('id')} at "
                        f"{step['arrival']}, before it can ({ready + travel + on_break_s:.0f})"
                    )
            if step["type"] != "start":
                ready = max(ready, step["arrival"]) + step["waiting_time"] + step["service"]
                on_break_s = 0.0
            if here is not None:
                place = here
            if "load" in step:
                load = step["load"]
                if capacity is not None and any(x > c for x, c in zip(load, capacity, strict=True)):
                    errors.append(f"vehicle {vehicle['id']}: load {load} over capacity {capacity}")
                if any(x < 0 for x in load):
                    errors.append(f"vehicle {vehicle['id']}: negative load {load}")
        costs = vehicle.get("costs", {})
        if not costs and abs(route["cost"] - travel_total) > SLACK_S * len(steps):
            errors.append(
                f"vehicle {vehicle['id']}: cost {route['cost']} is not its travel time "
                f"{travel_total:.0f}"
            )
        if route["cost"] != round(route["cost"]):
            errors.append(f"vehicle {vehicle['id']}: cost is not an integer")
        total_cost += route["cost"]
    unassigned = [(item["type"], item["id"]) for item in solution["unassigned"]]
    if sorted(seen + unassigned, key=str) != sorted(tasks, key=str):
        errors.append(
            f"served {sorted(seen, key=str)} + unassigned {unassigned} != {sorted(tasks, key=str)}"
        )
    for shipment in problem.get("shipments", []):
        p = where.get(("pickup", shipment["pickup"]["id"]))
        d = where.get(("delivery", shipment["delivery"]["id"]))
        if (p is None) != (d is None):
            errors.append(f"shipment {shipment['pickup']['id']}: only one end is served")
        elif p is not None and d is not None and (p[0] != d[0] or p[1] > d[1]):
            errors.append(f"shipment {shipment['pickup']['id']}: not picked up first on one van")
    if solution["summary"]["cost"] != total_cost:
        errors.append(f"summary cost {solution['summary']['cost']} != sum of routes {total_cost}")
    if solution["summary"]["unassigned"] != len(unassigned):
        errors.append("summary.unassigned does not count the unassigned jobs")
    return errors
