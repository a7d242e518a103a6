"""The worklist's pages (refuge.notifications.worklist_urls)."""

from refuge.core.roles import Role as R
from tests.directory.factories import make_facility
from tests.matrix_base import ALL_ROLES, Case, roles


def _own_facility(ctx):
    return {"facility_id": make_facility(ctx.orgs["a"], "Own house", rooms=[("family", 2)]).pk}


CASES = [
    # Everyone signed in has a worklist (empty for the roles with no kind of item).
    Case("worklist:items", allowed=ALL_ROLES),
    Case("worklist:counts", allowed=ALL_ROLES),
    Case("worklist:sheet_network", allowed=roles(R.COORDINATOR)),
    # A facility's sheet is for its own staff (another organisation's facility: 404).
    Case(
        "worklist:sheet_facility",
        setup=_own_facility,
        allowed=roles(R.CASEWORKER, R.MANAGER),
    ),
]
