"""Days of the analytics: UTC dates, the ranges a caller asks for and their checks."""

from __future__ import annotations

import datetime as dt

from engine.db import aware
from models.errors import InvalidInputError

#: The longest range one call covers.
MAX_RANGE_DAYS = 1096
#: The days a caller may name.
FIRST_DAY = dt.date(1970, 1, 1)
LAST_DAY = dt.date(2999, 12, 31)


def day_of(value: dt.datetime) -> dt.date:
    """The UTC date of a time read from the book (naive: stored in UTC)."""
    moment = aware(value)
    assert moment is not None
    return moment.astimezone(dt.UTC).date()


def days(first: dt.date, last: dt.date) -> list[dt.date]:
    """Every day from ``first`` to ``last``, both included."""
    return [first + dt.timedelta(days=k) for k in range((last - first).days + 1)]


def start_of(day: dt.date) -> dt.datetime:
    """Midnight UTC at the start of ``day``."""
    return dt.datetime(day.year, day.month, day.day, tzinfo=dt.UTC)


def check_day(field: str, day: dt.date | None) -> None:
    """422 naming ``field`` for a day before :data:`FIRST_DAY` or after :data:`LAST_DAY`."""
    if day is not None and not FIRST_DAY <= day <= LAST_DAY:
        raise InvalidInputError.for_field(
            field, day.isoformat(), f"is not between {FIRST_DAY} and {LAST_DAY}"
        )


def check_range(first: dt.date | None, last: dt.date | None) -> None:
    """422 naming the field for a day out of bounds, ``from`` when the range ends before it
    starts, ``to`` when it is longer than :data:`MAX_RANGE_DAYS`."""
    check_day("from", first)
    check_day("to", last)
    if first is None or last is None:
        return
    if first > last:
        raise InvalidInputError.for_field("from", first.isoformat(), f"is after to ({last})")
    if (last - first).days + 1 > MAX_RANGE_DAYS:
        raise InvalidInputError.for_field(
            "to", last.isoformat(), f"the range from {first} is longer than {MAX_RANGE_DAYS} days"
        )


def in_range(day: dt.date, first: dt.date | None, last: dt.date | None) -> bool:
    """Whether ``day`` is within the range (an open end holds every day)."""
    return (first is None or day >= first) and (last is None or day <= last)
