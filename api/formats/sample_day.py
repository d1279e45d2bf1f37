"""A reproducible sample day in Porto: about 150 stops, 2 depots and a mixed fleet of 12 vans."""

from __future__ import annotations

from datetime import datetime

import numpy as np

from models.routing import RoutingRequest

#: Porto's centre, [lon, lat].
CENTRE = (-8.6110, 41.1496)
DEPOTS = {"north": (-8.6300, 41.1800), "east": (-8.5750, 41.1550)}
HOUR = 3600


def sample_van(large: bool, shift_end_h: int, capacity: tuple[float, float]) -> dict[str, object]:
    """One van of the samples: costs, shift, max 9 h of work and a lunch break."""
    return {
        "capacity": {"weight_kg": capacity[0], "volume_l": capacity[1]},
        "shift": [8 * HOUR, shift_end_h * HOUR],
        "max_duration_s": 9 * HOUR,
        "fixed_cost": 60.0 if large else 40.0,
        "cost_per_km": 0.45 if large else 0.30,
        "cost_per_working_hour": 22.0,
        "breaks": [{"id": "lunch", "time_windows": [[12 * HOUR, 14 * HOUR]], "duration_s": 1800}],
    }


def sample_day(n_stops: int = 150, seed: int = 7, time_limit_s: float = 10.0) -> RoutingRequest:
    """Deliveries with windows, demands and a few refrigerated and optional stops."""
    rng = np.random.default_rng(seed)
    lon = CENTRE[0] + rng.normal(0, 0.025, n_stops)
    lat = CENTRE[1] + rng.normal(0, 0.015, n_stops)
    stops = []
    for i in range(n_stops):
        kind = rng.random()
        if kind < 0.45:
            windows = []  # any time in the day
        elif kind < 0.85:
            begin = int(rng.integers(8, 16)) * HOUR
            windows = [[begin, begin + 2 * HOUR]]
        else:
            windows = [[9 * HOUR, 11 * HOUR], [15 * HOUR, 17 * HOUR]]
        stop = {
            "id": f"S{i + 1:03d}",
            "location": [round(float(lon[i]), 6), round(float(lat[i]), 6)],
            "demand": {
                "weight_kg": float(rng.integers(5, 61)),
                "volume_l": float(rng.integers(10, 201)),
            },
            "service_s": float(rng.integers(3, 9) * 60),
            "time_windows": windows,
        }
        if i % 25 == 3:
            stop["skills"] = ["refrigerated"]
        if i % 15 == 7:
            stop.update(optional=True, drop_penalty=6.0, priority=0)
        elif i % 20 == 0:
            stop["priority"] = 50
        stops.append(stop)

    vehicles = []
    for k in range(12):
        depot = "north" if k % 2 == 0 else "east"
        large = k < 4
        vehicle = {
            "id": f"{'L' if large else 'V'}{k + 1:02d}-{depot}",
            "start": list(DEPOTS[depot]),
            "end": list(DEPOTS[depot]),
            **sample_van(large, 18, (1200.0, 6000.0) if large else (500.0, 2500.0)),
            "speed_factor": 0.9 if large else 1.0,
        }
        if k == 0:
            vehicle["skills"] = ["refrigerated"]
        vehicles.append(vehicle)

    return RoutingRequest.model_validate(
        {
            "stops": stops,
            "vehicles": vehicles,
            "matrix": {"provider": "haversine", "speed_kmh": 28.0, "detour_factor": 1.35},
            "options": {"time_limit_s": time_limit_s, "seed": seed},
            "day_start": datetime(2026, 11, 27, 0, 0).isoformat(),
        }
    )
