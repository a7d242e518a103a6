from hypothesis import given
from hypothesis import strategies as st

from refuge.placement.geo import distance_km, nearest_km, valid_point
from tests.placement.oracle import chord_distance_km

lat = st.floats(-90, 90, allow_nan=False)
lon = st.floats(-180, 180, allow_nan=False)
points = st.tuples(lat, lon)


def test_known_distances_between_cities():
    # Moscow - Vologda (about 410 km by air), Bishkek - Osh (about 300 km), Moscow - Prague.
    assert 400 < distance_km((55.7558, 37.6173), (59.2239, 39.8843)) < 420
    assert 290 < distance_km((42.8746, 74.5698), (40.5283, 72.7985)) < 310
    assert 1650 < distance_km((55.7558, 37.6173), (50.0755, 14.4378)) < 1690


@given(points, points)
def test_distance_is_symmetric_and_agrees_with_the_chord_formula(a, b):
    d = distance_km(a, b)
    assert abs(d - distance_km(b, a)) < 1e-6
    assert abs(d - chord_distance_km(a, b)) < 1e-3
    assert 0 <= d <= 20016


@given(points, points, points)
def test_triangle_inequality(a, b, c):
    assert distance_km(a, c) <= distance_km(a, b) + distance_km(b, c) + 1e-6


def test_nearest_and_validity():
    assert nearest_km((0, 0), []) is None
    assert nearest_km((0, 0), [(0, 1), (0, 2)]) < 112
    assert valid_point(55.0, 37.0) and not valid_point(100, 101) and not valid_point(None, 1)
