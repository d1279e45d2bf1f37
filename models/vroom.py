"""VROOM's JSON input contract, so that VROOM users can send their problems unchanged.

Units as in VROOM: coordinates ``[lon, lat]``, times in seconds (relative or absolute
timestamps), distances in metres, amounts as integer vectors. Keys that VROOM accepts but
routeplan cannot honour yet are rejected with a message that names them, never ignored
silently; keys that only steer VROOM's own search (``steps`` in solving mode, ``options.t``,
``options.x``) are accepted and have no effect. ``options.g`` asks for each route's
``geometry`` (an encoded polyline).
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import AfterValidator, Field

from models.common import MAX_METRES, MAX_MONEY, MAX_QUANTITY, Coordinates, Flag, StrictModel

#: The largest VROOM time: VROOM's own limit (32 bits), so absolute timestamps fit.
MAX_VROOM_SECONDS = 2**32 - 1
#: A non-negative, finite number of seconds (VROOM sends integers; floats are accepted).
VroomSeconds = Annotated[
    float,
    Field(
        ge=0,
        le=MAX_VROOM_SECONDS,
        allow_inf_nan=False,
        strict=True,
        description=f"seconds, 0 to {MAX_VROOM_SECONDS}",
    ),
]
#: An amount vector: one non-negative integer per capacity dimension.
Amount = list[Annotated[int, Field(ge=0, le=int(MAX_QUANTITY), strict=True)]]
#: VROOM ids are unsigned 64-bit integers.
VroomId = Annotated[int, Field(ge=0, le=2**64 - 1, strict=True)]
#: A VROOM cost: finite, non-negative, at most the contract's largest amount of money.
VroomMoney = Annotated[float, Field(ge=0, le=MAX_MONEY, allow_inf_nan=False, strict=True)]
#: A VROOM distance in metres, bounded like every distance of the contract.
VroomMetres = Annotated[float, Field(ge=0, le=MAX_METRES, allow_inf_nan=False, strict=True)]


def _ordered(window: tuple[float, float]) -> tuple[float, float]:
    if window[0] > window[1]:
        raise ValueError(f"a time window is [start, end] with start <= end, got {list(window)}")
    return window


#: An inclusive ``[start, end]`` window in seconds.
VroomWindow = Annotated[tuple[VroomSeconds, VroomSeconds], AfterValidator(_ordered)]


def _not_supported(what: str) -> Any:
    def check(value: Any) -> Any:
        if value:
            raise ValueError(f"{what} is not supported yet")
        return value

    return AfterValidator(check)


class VroomJob(StrictModel):
    """A place to visit once (VROOM's ``job``)."""

    id: VroomId
    description: str | None = None
    location: Coordinates | None = None
    location_index: int | None = Field(None, ge=0, le=2**32 - 1, strict=True)
    setup: VroomSeconds = 0
    service: VroomSeconds = 0
    delivery: Amount | None = None
    pickup: Amount | None = None
    skills: list[VroomId] = Field(default_factory=list)
    priority: int = Field(0, ge=0, le=100, strict=True)
    time_windows: list[VroomWindow] = Field(default_factory=list)
    setup_per_type: Annotated[
        dict[str, VroomSeconds] | None, _not_supported("setup_per_type (per vehicle type)")
    ] = None
    service_per_type: Annotated[
        dict[str, VroomSeconds] | None, _not_supported("service_per_type (per vehicle type)")
    ] = None


class VroomShipmentStep(StrictModel):
    """One end of a shipment."""

    id: VroomId
    description: str | None = None
    location: Coordinates | None = None
    location_index: int | None = Field(None, ge=0, le=2**32 - 1, strict=True)
    setup: VroomSeconds = 0
    service: VroomSeconds = 0
    time_windows: list[VroomWindow] = Field(default_factory=list)


class VroomShipment(StrictModel):
    """A pickup → delivery pair served by one vehicle."""

    pickup: VroomShipmentStep
    delivery: VroomShipmentStep
    amount: Amount | None = None
    skills: list[VroomId] = Field(default_factory=list)
    priority: int = Field(0, ge=0, le=100, strict=True)


class VroomCosts(StrictModel):
    """What a vehicle costs: VROOM's default is 3600 per hour of travel (1 per second)."""

    fixed: VroomMoney = 0
    per_hour: VroomMoney = 3600
    per_km: VroomMoney = 0
    per_task_hour: Annotated[VroomMoney, _not_supported("costs.per_task_hour")] = 0


class VroomBreak(StrictModel):
    """A driver break; it starts in one of its windows and lasts ``service`` seconds."""

    id: VroomId
    time_windows: list[VroomWindow] = Field(default_factory=list)
    service: VroomSeconds = 0
    description: str | None = None
    max_load: Annotated[Amount | None, _not_supported("breaks[].max_load")] = None


class VroomVehicleStep(StrictModel):
    """A step of a user-given route: only used by VROOM's plan mode or as a search hint."""

    type: Literal["start", "job", "pickup", "delivery", "break", "end"]
    id: VroomId | None = None
    service_at: VroomSeconds | None = None
    service_after: VroomSeconds | None = None
    service_before: VroomSeconds | None = None


class VroomVehicle(StrictModel):
    """A vehicle and its working hours."""

    id: VroomId
    profile: str = "car"
    description: str | None = None
    start: Coordinates | None = None
    start_index: int | None = Field(None, ge=0, le=2**32 - 1, strict=True)
    end: Coordinates | None = None
    end_index: int | None = Field(None, ge=0, le=2**32 - 1, strict=True)
    capacity: Amount | None = None
    costs: VroomCosts = Field(default_factory=VroomCosts)
    skills: list[VroomId] = Field(default_factory=list)
    type: str | None = None
    time_window: VroomWindow | None = None
    breaks: list[VroomBreak] = Field(default_factory=list)
    speed_factor: float = Field(1.0, ge=0.01, le=5, allow_inf_nan=False, strict=True)
    max_tasks: int | None = Field(None, ge=0, le=2**32 - 1, strict=True)
    max_travel_time: VroomSeconds | None = None
    max_distance: VroomMetres | None = None
    steps: list[VroomVehicleStep] = Field(
        default_factory=list, description="accepted; has no effect on the search"
    )


class VroomMatrix(StrictModel):
    """Custom matrices of one routing profile."""

    durations: list[list[VroomSeconds]] | None = None
    distances: list[list[VroomMetres]] | None = None
    costs: Annotated[
        list[list[float]] | None,
        _not_supported("matrices.<profile>.costs (a custom cost matrix)"),
    ] = None


class VroomOptions(StrictModel):
    """vroom-express's options; ``l`` is the search time limit in seconds."""

    g: Flag = Field(
        False,
        description="geometry: each route's path as an encoded polyline (straight lines "
        "between the steps' locations; none with custom matrices)",
    )
    c: Annotated[bool, _not_supported("plan mode (options.c)")] = False
    t: int | None = Field(None, ge=1, le=1024, strict=True, description="threads: ignored")
    x: int | None = Field(None, ge=0, le=100, strict=True, description="exploration: ignored")
    l: float | None = Field(  # noqa: E741
        None, gt=0, le=3600, allow_inf_nan=False, strict=True, description="time limit, s"
    )


class VroomProblem(StrictModel):
    """A VROOM problem: jobs, shipments, vehicles and optional custom matrices."""

    jobs: list[VroomJob] = Field(default_factory=list)
    shipments: list[VroomShipment] = Field(default_factory=list)
    vehicles: list[VroomVehicle] = Field(min_length=1)
    matrices: dict[str, VroomMatrix] | None = None
    matrix: list[list[VroomSeconds]] | None = Field(
        None, description="deprecated: the durations of profile 'car'"
    )
    options: VroomOptions = Field(default_factory=VroomOptions)
