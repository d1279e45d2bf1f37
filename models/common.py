"""Shared building blocks of the contract: bounded numbers, ids, dates, coordinates, windows.

Every number of the contract has a bound that the solvers' integer scaling can hold
(``engine/units.py``: 0.1 s, 0.1 m, 0.001 of a quantity, 1e-6 of a currency unit, all below
2**53 once scaled), checked at validation: a value beyond it is a 422 naming the field.
Numbers are strict at the edge: ``"5"`` or ``true`` is not a number, a number is not a date,
``true`` is not an id.
"""

from __future__ import annotations

import datetime as dt
import numbers
from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, model_validator

#: Ten years of 365 days, in seconds: the largest time or duration.
MAX_SECONDS = 315_360_000
#: 100,000 km, in metres: the largest distance (and planar coordinate).
MAX_METRES = 1e8
#: The largest amount of money: a price, a cost per unit, a penalty.
MAX_MONEY = 1e9
#: The largest quantity: a demand, a capacity, a stock level.
MAX_QUANTITY = 1e9
#: The largest count or index (stops per route, a location index, a priority key...).
MAX_COUNT = 1_000_000_000
#: The longest search, in seconds.
MAX_TIME_LIMIT_S = 3600

#: A finite, non-negative number of seconds (offsets from the day start, or durations).
Seconds = Annotated[
    float,
    Field(
        ge=0,
        le=MAX_SECONDS,
        allow_inf_nan=False,
        strict=True,
        description=f"seconds, 0 to {MAX_SECONDS} (10 years)",
    ),
]
#: A finite, non-negative number of metres.
Metres = Annotated[
    float,
    Field(
        ge=0,
        le=MAX_METRES,
        allow_inf_nan=False,
        strict=True,
        description=f"metres, 0 to {MAX_METRES:.0e}",
    ),
]
#: A finite, non-negative amount of money in the request's currency.
Money = Annotated[
    float,
    Field(
        ge=0,
        le=MAX_MONEY,
        allow_inf_nan=False,
        strict=True,
        description=f"money in the request's currency, 0 to {MAX_MONEY:.0e}",
    ),
]
#: A finite, non-negative quantity of some named unit.
Quantity = Annotated[
    float,
    Field(
        ge=0,
        le=MAX_QUANTITY,
        allow_inf_nan=False,
        strict=True,
        description=f"a quantity, 0 to {MAX_QUANTITY:.0e}",
    ),
]
#: Named quantities, e.g. ``{"weight_kg": 12.5, "volume_l": 40}``.
Quantities = dict[str, Quantity]
#: A non-negative whole number (a count, an index, a priority), never a bool or a string.
Count = Annotated[int, Field(ge=0, le=MAX_COUNT, strict=True)]
#: How long a search may run, in seconds: more than 0, at most an hour, finite.
TimeLimit = Annotated[
    float,
    Field(
        gt=0,
        le=MAX_TIME_LIMIT_S,
        allow_inf_nan=False,
        strict=True,
        description=f"seconds, more than 0 and at most {MAX_TIME_LIMIT_S}",
    ),
]
#: A weight on part of an objective, 0 to 1e6.
Weight = Annotated[float, Field(ge=0, le=1e6, allow_inf_nan=False, strict=True)]


def _plain_id(value: Any) -> Any:
    """Accept a string or an integer as an id; a bool (``true`` is not ``1``) or a float is
    refused."""
    if isinstance(value, bool) or not isinstance(value, str | numbers.Integral):
        raise ValueError(f"an id is a string or an integer, not {type(value).__name__}")
    return value if isinstance(value, str) else int(value)


#: Ids are the caller's own: strings or integers (never a bool or a float), returned as given.
Id = Annotated[str | int, BeforeValidator(_plain_id)]


def _not_a_number(value: Any) -> Any:
    """Refuse numbers (and bools) where a date is expected: 0 is not 1970-01-01."""
    if isinstance(value, bool | int | float):
        raise ValueError("a date is an ISO 8601 string such as 2026-11-27, not a number")
    return value


#: A calendar date, given as an ISO 8601 string (``2026-11-27``), never a number.
Date = Annotated[dt.date, BeforeValidator(_not_a_number)]
#: A date and time, given as an ISO 8601 string (``2026-11-27T08:00:00``), never a number.
DateTime = Annotated[dt.datetime, BeforeValidator(_not_a_number)]


#: A boolean given as ``true`` or ``false``, never a number or a string.
Flag = Annotated[bool, Field(strict=True)]


def _no_repeats(value: Any) -> Any:
    """Refuse a list that names a skill twice (the schema says its items are unique)."""
    if isinstance(value, list | tuple):
        seen: set[Any] = set()
        for item in value:
            if not isinstance(item, str):
                continue  # not a skill name: the set's own validation refuses it
            if item in seen:
                raise ValueError(f"names {item!r} more than once")
            seen.add(item)
    return value


#: A set of skill names, given as a list without repeats.
Skills = Annotated[set[str], BeforeValidator(_no_repeats)]


class StrictModel(BaseModel):
    """Base for every record of the contract: unknown fields are rejected, not ignored."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)


#: A finite float (NaN and infinity are rejected), never a string or a bool.
FiniteFloat = Annotated[float, Field(allow_inf_nan=False, strict=True)]
#: A coordinate: longitude or latitude in degrees, or a planar ``x`` or ``y`` in metres.
Coordinate = Annotated[
    float, Field(ge=-MAX_METRES, le=MAX_METRES, allow_inf_nan=False, strict=True)
]
#: ``[lon, lat]`` for geographic providers, ``[x, y]`` in metres for the Euclidean one.
Coordinates = tuple[Coordinate, Coordinate]


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
