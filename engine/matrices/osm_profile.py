"""A car profile for OpenStreetMap tags, in the spirit of OSRM's ``car.lua``.

Ways get a speed per direction (0 = not allowed that way); nodes may block passage (barriers,
access tags) or add a fixed delay (traffic signals, stop and give-way signs, gates).
What is modelled and what is not is listed in ``docs`` of :mod:`engine.matrices.osm`.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

#: Speeds by ``highway`` value in km/h (OSRM car profile).
HIGHWAY_SPEEDS_KMH: dict[str, float] = {
    "motorway": 90,
    "motorway_link": 45,
    "trunk": 85,
    "trunk_link": 40,
    "primary": 65,
    "primary_link": 30,
    "secondary": 55,
    "secondary_link": 25,
    "tertiary": 40,
    "tertiary_link": 20,
    "unclassified": 25,
    "residential": 25,
    "living_street": 10,
    "service": 15,
}
#: Speed of a way that is not a car road by type but explicitly open to cars.
DEFAULT_SPEED_KMH = 10.0
#: A signed ``maxspeed`` is driven at this fraction on average.
MAXSPEED_FACTOR = 0.8

ACCESS_HIERARCHY = ("motorcar", "motor_vehicle", "vehicle", "access")
ACCESS_ALLOWED = frozenset(
    {"yes", "motorcar", "motor_vehicle", "vehicle", "permissive", "designated", "hov"}
)
#: Values that close a way or node to cars. OSRM's ``restricted`` values that delivery vans may
#: use (destination, delivery, customers) are allowed here; private and permit-only roads are not.
ACCESS_DENIED = frozenset(
    {
        "no",
        "agricultural",
        "forestry",
        "emergency",
        "psv",
        "taxi",
        "share_taxi",
        "minibus",
        "bus",
        "foot",
        "emergency_vehicle",
        "restricted",
        "military",
        "official",
        "private",
        "permit",
        "residents",
    }
)
AVOID_HIGHWAYS = frozenset({"steps", "construction", "proposed"})
CONSTRUCTION_OK = frozenset({"no", "widening", "minor"})
SURFACE_MAX_KMH: dict[str, float] = {
    "cement": 80,
    "compacted": 80,
    "fine_gravel": 80,
    "paving_stones": 60,
    "metal": 60,
    "bricks": 60,
    "grass": 40,
    "wood": 40,
    "sett": 40,
    "grass_paver": 40,
    "gravel": 40,
    "unpaved": 40,
    "ground": 40,
    "dirt": 40,
    "pebblestone": 40,
    "tartan": 40,
    "cobblestone": 30,
    "clay": 30,
    "earth": 20,
    "stone": 20,
    "rocky": 20,
    "sand": 20,
    "mud": 10,
}
TRACKTYPE_MAX_KMH: dict[str, float] = {
    "grade1": 60,
    "grade2": 40,
    "grade3": 30,
    "grade4": 25,
    "grade5": 20,
}
SMOOTHNESS_MAX_KMH: dict[str, float] = {
    "intermediate": 80,
    "bad": 40,
    "very_bad": 20,
    "horrible": 10,
    "very_horrible": 5,
    "impassable": 0,
}
#: Implicit limits such as ``PT:urban`` (the last part after the colon).
MAXSPEED_IMPLICIT_KMH: dict[str, float] = {
    "urban": 50,
    "rural": 90,
    "trunk": 110,
    "motorway": 130,
    "living_street": 10,
}
BARRIERS_OPEN = frozenset(
    {
        "cattle_grid",
        "border_control",
        "toll_booth",
        "sally_port",
        "no",
        "entrance",
        "height_restrictor",
        "arch",
    }
)
#: Seconds lost at a node by what stands there.
BARRIER_DELAY_S: dict[str, float] = {"gate": 60.0, "lift_gate": 60.0}
HIGHWAY_NODE_DELAY_S: dict[str, float] = {"traffic_signals": 2.0, "stop": 2.0, "give_way": 1.0}

_NUMBER = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(mph|km/h|kmh|kph|knots)?\s*$", re.IGNORECASE)


def _first(value: str | None) -> str | None:
    """The first value of a ``;``-separated list, stripped."""
    if value is None:
        return None
    return value.split(";")[0].strip()


def parse_maxspeed_kmh(value: str | None) -> float:
    """A ``maxspeed`` value in km/h: numbers, ``mph``, ``CC:urban`` style and ``none``; 0 if not."""
    value = _first(value)
    if not value:
        return 0.0
    match = _NUMBER.match(value)
    if match:
        speed = float(match.group(1))
        unit = (match.group(2) or "").lower()
        if unit == "mph":
            return speed * 1.609344
        if unit == "knots":
            return speed * 1.852
        return speed
    lowered = value.lower()
    if lowered == "none":
        return 140.0
    if lowered == "walk":
        return 5.0
    kind = lowered.rsplit(":", 1)[-1]
    return MAXSPEED_IMPLICIT_KMH.get(kind, 0.0)


def _access(tags: Mapping[str, str], suffix: str = "") -> str | None:
    """The most specific access value for cars (``motorcar`` before ``access``)."""
    for key in ACCESS_HIERARCHY:
        value = tags.get(key + suffix)
        if value is not None:
            parts = [part.strip() for part in value.split(";")]
            allowed = [p for p in parts if p in ACCESS_ALLOWED]
            return allowed[0] if allowed else parts[0]
    return None


def _oneway(tags: Mapping[str, str], highway: str) -> int:
    """1 forward only, -1 backward only, 0 both ways."""
    value = None
    for key in ("oneway:motorcar", "oneway:motor_vehicle", "oneway:vehicle", "oneway"):
        if key in tags:
            value = tags[key]
            break
    if value == "-1":
        return -1
    if value in ("yes", "1", "true"):
        return 1
    if value != "no" and (
        highway == "motorway" or tags.get("junction") in ("roundabout", "circular")
    ):
        return 1
    return 0


def way_speeds_kmh(tags: Mapping[str, str]) -> tuple[float, float] | None:
    """Forward and backward speeds of a way for a car in km/h; None if cars can't use it at all.

    A speed of 0 means that direction is closed (one-way street).
    """
    highway = tags.get("highway")
    if not highway or highway in AVOID_HIGHWAYS:
        return None
    if tags.get("area") == "yes" or tags.get("oneway") == "reversible":
        return None
    if tags.get("impassable") == "yes" or tags.get("status") == "impassable":
        return None
    construction = tags.get("construction")
    if construction is not None and construction not in CONSTRUCTION_OK:
        return None
    if tags.get("service") == "emergency_access":
        return None

    access = _access(tags)
    if access in ACCESS_DENIED:
        forward_open = _access(tags, ":forward") in ACCESS_ALLOWED
        backward_open = _access(tags, ":backward") in ACCESS_ALLOWED
        if not (forward_open or backward_open):
            return None

    speed = HIGHWAY_SPEEDS_KMH.get(highway)
    if speed is None:
        if access is None or access in ACCESS_DENIED:
            return None
        speed = DEFAULT_SPEED_KMH
    forward_kmh = backward_kmh = float(speed)

    maxspeed = parse_maxspeed_kmh(tags.get("maxspeed:advisory") or tags.get("maxspeed"))
    forward_max = parse_maxspeed_kmh(tags.get("maxspeed:forward")) or maxspeed
    backward_max = parse_maxspeed_kmh(tags.get("maxspeed:backward")) or maxspeed
    if forward_max > 0:
        forward_kmh = forward_max * MAXSPEED_FACTOR
    if backward_max > 0:
        backward_kmh = backward_max * MAXSPEED_FACTOR

    for table, key in (
        (SURFACE_MAX_KMH, "surface"),
        (TRACKTYPE_MAX_KMH, "tracktype"),
        (SMOOTHNESS_MAX_KMH, "smoothness"),
    ):
        cap = table.get(tags.get(key, ""))
        if cap is not None:
            forward_kmh = min(forward_kmh, cap)
            backward_kmh = min(backward_kmh, cap)

    oneway = _oneway(tags, highway)
    if oneway == 1:
        backward_kmh = 0.0
    elif oneway == -1:
        forward_kmh = 0.0
    if access in ACCESS_DENIED:
        if _access(tags, ":forward") not in ACCESS_ALLOWED:
            forward_kmh = 0.0
        if _access(tags, ":backward") not in ACCESS_ALLOWED:
            backward_kmh = 0.0
    if forward_kmh <= 0 and backward_kmh <= 0:
        return None
    return forward_kmh, backward_kmh


def node_rule(tags: Mapping[str, str]) -> tuple[bool, float]:
    """Whether a node blocks cars, and the seconds lost passing it."""
    access = _access(tags)
    if access is not None and access in ACCESS_DENIED:
        return True, 0.0
    delay_s = HIGHWAY_NODE_DELAY_S.get(tags.get("highway", ""), 0.0)
    barrier = tags.get("barrier")
    if barrier is None or access is not None:
        return False, delay_s
    if barrier in BARRIER_DELAY_S:
        return False, delay_s + BARRIER_DELAY_S[barrier]
    if barrier in BARRIERS_OPEN:
        return False, delay_s
    if barrier == "bollard" and tags.get("bollard") == "rising":
        return False, delay_s
    if barrier == "kerb" and (
        tags.get("kerb") in ("lowered", "flush") or tags.get("highway") == "crossing"
    ):
        return False, delay_s
    return True, 0.0
