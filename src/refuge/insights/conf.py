"""Insights settings, read at call time (tests override them).

* ``REFUGE_SMALL_CELL``: counts from 1 to this − 1 are hidden from analysts and in every
  export (SPEC C7 "default < 5"). The hotline's ``REFUGE_SMALL_CELL_THRESHOLD`` is honoured
  when ``REFUGE_SMALL_CELL`` is not set, so one network never publishes two thresholds.
* ``REFUGE_INSIGHTS_QUARTERS``: how many completed calendar quarters analysts and exports can
  choose from (default 8).
"""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

# Below 3 a hidden cell is a 1 or a 2: hardly hidden at all.
MIN_THRESHOLD = 3


def small_cell_threshold() -> int:
    raw = getattr(settings, "REFUGE_SMALL_CELL", None)
    if raw is None:
        raw = getattr(settings, "REFUGE_SMALL_CELL_THRESHOLD", 5)
    try:
        value = int(raw)
    except (TypeError, ValueError) as exc:
        raise ImproperlyConfigured(
            f"REFUGE_SMALL_CELL must be a whole number, not {raw!r}"
        ) from exc
    if value < MIN_THRESHOLD:
        raise ImproperlyConfigured(f"REFUGE_SMALL_CELL must be at least {MIN_THRESHOLD}")
    return value


def analyst_quarters() -> int:
    return max(1, int(getattr(settings, "REFUGE_INSIGHTS_QUARTERS", 8)))


# The simulation page runs inside a web request: short runs, and a cap on the work.
SIM_YEARS = 1
SIM_REPLICATIONS = 5
# Households simulated in one request (every replication, policy and what-if option); above
# this the page asks for `refuge simulate` on the command line instead.
SIM_MAX_ARRIVALS = 3_000_000
SIM_MAX_PLACES = 500
