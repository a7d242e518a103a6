"""Great-circle distances on a spherical Earth (haversine). Pure Python, no Django.

Accurate to about 0.5 % against the ellipsoid, which is far below the precision of a region
centroid, the coarsest point we ever use.
"""

from __future__ import annotations

from math import asin, ceil, cos, radians, sin, sqrt

EARTH_RADIUS_KM = 6371.0088  # mean radius (IUGG)

Point = tuple[float, float]  # (latitude, longitude) in degrees


def distance_km(a: Point, b: Point) -> float:
    """Great-circle distance between two (lat, lon) points in kilometres."""
    lat1, lon1 = radians(a[0]), radians(a[1])
    lat2, lon2 = radians(b[0]), radians(b[1])
    h = sin((lat2 - lat1) / 2) ** 2 + cos(lat1) * cos(lat2) * sin((lon2 - lon1) / 2) ** 2
    # min() guards against h creeping above 1 by rounding for antipodal points.
    return 2 * EARTH_RADIUS_KM * asin(min(1.0, sqrt(h)))


def nearest_km(point: Point, others: tuple[Point, ...] | list[Point]) -> float | None:
    """Distance to the nearest of `others`, or None when there are none."""
    if not others:
        return None
    return min(distance_km(point, o) for o in others)


# A distance threshold (min_distance_km) is rounded UP to this step before it is used: a yes/no
# answer "closer than X km" then tells at most which 10 km band a facility is in from the points
# she avoids (see docs/security.md, "Safety distances from real points").
THRESHOLD_STEP_KM = 10


def coarse_threshold_km(km: float) -> float:
    """The threshold as it is used: rounded up to THRESHOLD_STEP_KM (never down: rounding may
    only keep her further away)."""
    if km <= 0:
        return 0.0
    return float(ceil(km / THRESHOLD_STEP_KM) * THRESHOLD_STEP_KM)


def valid_point(lat: float | None, lon: float | None) -> bool:
    return lat is not None and lon is not None and -90 <= lat <= 90 and -180 <= lon <= 180
