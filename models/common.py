"""Shared building blocks of the contract: coordinates, time windows, named quantities."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, model_validator

#: A finite, non-negative number of seconds (offsets from the day start, or durations).
Seconds = Annotated[float, Field(ge=0, allow_inf_nan=False)]
#: A finite, non-negative number of metres.
Metres = Annotated[float, Field(ge=0, allow_inf_nan=False)]
#: A finite, non-negative amount of money in the request's currency.
Money = Annotated[float, Field(ge=0, allow_inf_nan=False)]
#: Named quantities, e.g. ``{"weight_kg": 12.5, "volume_l": 40}``.
Quantities = dict[str, Annotated[float, Field(ge=0, allow_inf_nan=False)]]
#: Ids are the caller's own: strings or integers, returned exactly as given.
Id = str | int


class StrictModel(BaseModel):
    """Base for every record of the contract: unknown fields are rejected, not ignored."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)


#: A finite float (NaN and infinity are rejected).
FiniteFloat = Annotated[float, Field(allow_inf_nan=False)]
#: ``[lon, lat]`` for geographic providers, ``[x, y]`` in metres for the Euclidean one.
Coordinates = tuple[FiniteFloat, FiniteFloat]


class TimeWindow(StrictModel):
    """An inclusive interval ``[start_s, end_s]`` in seconds from the day start.

    Also accepted as a two-element list ``[start, end]``, as in VROOM.
    """

    start_s: Seconds
    end_s: Seconds

    @model_validator(mode="before")
    @classmethod
    def _from_pair(cls, data: Any) -> Any:
        if isinstance(data, list | tuple):
            if len(data) != 2:
                raise ValueError(f"a time window is [start, end], got {list(data)}")
            return {"start_s": data[0], "end_s": data[1]}
        return data

    @model_validator(mode="after")
    def _ordered(self) -> TimeWindow:
        if self.start_s > self.end_s:
            raise ValueError(
                f"time window starts after it ends: start_s={self.start_s} > end_s={self.end_s}"
            )
        return self


def merge_windows(windows: list[TimeWindow]) -> list[TimeWindow]:
    """Sort windows by start and merge the ones that overlap or touch into their union."""
    merged: list[TimeWindow] = []
    for window in sorted(windows, key=lambda w: w.start_s):
        if merged and window.start_s <= merged[-1].end_s:
            last = merged[-1]
            merged[-1] = TimeWindow(start_s=last.start_s, end_s=max(last.end_s, window.end_s))
        else:
            merged.append(window)
    return merged
