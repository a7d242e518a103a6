from refuge.cases.services import client_create
from refuge.core.roles import Role as R
from tests.matrix_base import Case, roles

INSIGHTS = roles(R.COORDINATOR, R.MANAGER, R.ANALYST)
CASE_SIDE = roles(R.CASEWORKER, R.MANAGER, R.OPERATOR, R.COORDINATOR)


def _case(ctx):
    return {"code": client_create(by=ctx.personas["caseworker_a"].principal, name="M").case_code}


def _quarter():
    from refuge.insights.periods import completed_quarters

    return completed_quarters()[0].key


CASES = [
    Case("insights:dashboard", allowed=INSIGHTS),
    Case("insights:table_csv", allowed=INSIGHTS, setup=lambda ctx: {"key": "calls_by_region"}),
    Case("insights:exports", allowed=INSIGHTS),
    Case(
        "insights:export_download", allowed=INSIGHTS, data={"format": "csv", "period": "x"}, ok=400
    ),  # fmt: skip
    Case(
        "insights:exports_participation",
        allowed=roles(R.MANAGER),
        method="post",
        data={"include": "1"},
        ok=302,
    ),  # fmt: skip
    Case("insights:outcomes", allowed=INSIGHTS),
    Case("insights:outcome_find", allowed=CASE_SIDE),
    Case("insights:outcome_case", allowed=CASE_SIDE, setup=_case),
    Case("insights:simulation", allowed=INSIGHTS),
]
