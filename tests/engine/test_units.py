"""The scaling to solver ticks refuses, naming the field, what it cannot hold exactly."""

from __future__ import annotations

import numpy as np
import pytest

from engine.units import MAX_TICKS, to_cost_ticks, to_distance_ticks, to_time_ticks
from models.errors import InvalidInputError


def test_values_scale_to_exact_ticks() -> None:
    assert to_time_ticks([0.05, 1.25, 315_360_000]).tolist() == [0, 12, 3_153_600_000]
    assert int(to_cost_ticks(1e9)) == 10**15


@pytest.mark.parametrize("bad", [np.inf, np.nan, 1e300, MAX_TICKS])
def test_a_value_beyond_the_ticks_names_the_field_and_its_index(bad: float) -> None:
    with pytest.raises(InvalidInputError) as caught:
        to_distance_ticks([[1.0, 2.0], [3.0, bad]], "matrix.distances_m")
    assert [d["field"] for d in caught.value.details] == ["matrix.distances_m[1][1]"]


def test_a_scalar_is_named_as_given_and_a_function_can_name_elements() -> None:
    with pytest.raises(InvalidInputError, match=r"^vehicles\[0\]\.fixed_cost"):
        to_cost_ticks(1e13, "vehicles[0].fixed_cost")
    with pytest.raises(InvalidInputError) as caught:
        to_time_ticks([1.0, 1e300], lambda at: f"stops[{at[0]}].service_s")
    assert caught.value.details[0]["field"] == "stops[1].service_s"
