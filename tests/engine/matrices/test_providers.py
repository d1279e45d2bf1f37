"""Haversine, Euclidean and explicit matrix providers."""

from __future__ import annotations

import re

import numpy as np
import pytest

from engine.matrices import (
    EuclideanProvider,
    HaversineProvider,
    MatrixError,
    TravelMatrices,
)


def test_haversine_one_degree_of_latitude_is_about_111_km() -> None:
    points = np.array([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0]])
    m = HaversineProvider(speed_kmh=36.0).matrices(points)
    assert m.distances_m[0, 1] == pytest.approx(111_195, rel=1e-3)
    assert m.distances_m[0, 2] == pytest.approx(111_195, rel=1e-3)  # on the equator
    assert np.allclose(m.distances_m, m.distances_m.T)
    assert np.all(np.diag(m.distances_m) == 0)
    assert m.durations_s[0, 1] == pytest.approx(m.distances_m[0, 1] / 10.0)  # 36 km/h = 10 m/s


def test_haversine_detour_factor_scales_distance_and_time() -> None:
    points = np.array([[-8.61, 41.15], [-8.60, 41.16]])
    plain = HaversineProvider().matrices(points)
    longer = HaversineProvider(detour_factor=1.3).matrices(points)
    assert longer.distances_m[0, 1] == pytest.approx(1.3 * plain.distances_m[0, 1])
    assert longer.durations_s[0, 1] == pytest.approx(1.3 * plain.durations_s[0, 1])


def test_euclidean_is_planar_distance_over_speed() -> None:
    m = EuclideanProvider(speed_mps=2.0).matrices(np.array([[0.0, 0.0], [3.0, 4.0]]))
    assert m.distances_m[0, 1] == pytest.approx(5.0)
    assert m.durations_s[1, 0] == pytest.approx(2.5)


@pytest.mark.parametrize(
    ("points", "message"),
    [
        (np.array([[0.0, np.nan]]), "location 0 has non-finite coordinates"),
        (np.array([[200.0, 0.0]]), "location 0 = [200.0, 0.0] is not [lon, lat]"),
        (np.array([[0.0, 0.0, 0.0]]), "shape (n, 2)"),
    ],
)
def test_haversine_rejects_bad_points(points: np.ndarray, message: str) -> None:
    with pytest.raises(MatrixError, match=re.escape(message)):
        HaversineProvider().matrices(points)


@pytest.mark.parametrize(
    ("distances", "durations", "message"),
    [
        (np.zeros((2, 3)), np.zeros((2, 3)), "must be square"),
        (np.array([[0.0, np.inf], [1, 0]]), np.zeros((2, 2)), "not finite"),
        (np.array([[0.0, -1], [1, 0]]), np.zeros((2, 2)), "is negative"),
        (np.zeros((2, 2)), np.zeros((3, 3)), "differ in size"),
    ],
)
def test_travel_matrices_are_validated(
    distances: np.ndarray, durations: np.ndarray, message: str
) -> None:
    with pytest.raises(MatrixError, match=message):
        TravelMatrices(distances, durations)
