from datetime import date

from refuge.cases.services import (
    aftercare_add,
    client_create,
    consent_record,
    household_member_add,
)
from refuge.core.roles import Role as R
from tests.matrix_base import Case, roles

CASE_ROLES = roles(R.CASEWORKER, R.MANAGER, R.OPERATOR, R.COORDINATOR)


def _client(ctx):
    return client_create(by=ctx.personas["caseworker_a"].principal, name="Matrix Client")


def _code(ctx):
    return {"code": _client(ctx).case_code}


def _instrument(ctx):
    return {**_code(ctx), "instrument": "refuge-screen", "version": 1}


def _member(ctx):
    c = _client(ctx)
    m = household_member_add(
        by=ctx.personas["caseworker_a"].principal, client=c, age=9, sex="female"
    )
    return {"code": c.case_code, "member_id": m.pk}


def _assessment(ctx):
    from refuge.cases.services import assessment_save

    c = _client(ctx)
    a, _r = assessment_save(
        by=ctx.personas["caseworker_a"].principal,
        client=c,
        instrument_id="dash-structure",
        version=1,
        answers={f"q{i}": "no" for i in range(1, 25)},
        finish=True,
    )
    return {"code": c.case_code, "assessment_id": a.pk}


def _consent(ctx):
    c = _client(ctx)
    k = consent_record(
        by=ctx.personas["caseworker_a"].principal, client=c, scope="referral", days=30
    )
    return {"code": c.case_code, "consent_id": k.pk}


def _task(ctx):
    c = _client(ctx)
    t = aftercare_add(
        by=ctx.personas["caseworker_a"].principal, client=c, kind="housing", due_on=date(2030, 1, 1)
    )
    return {"code": c.case_code, "task_id": t.pk}


CASES = [
    Case("cases:list", allowed=CASE_ROLES),
    Case("cases:new", allowed=roles(R.CASEWORKER, R.MANAGER, R.OPERATOR)),
    Case("cases:tasks", allowed=CASE_ROLES),
    Case("cases:detail", setup=_code, allowed=CASE_ROLES),
    Case("cases:household", setup=_code, allowed=CASE_ROLES),
    Case("cases:intake_her", setup=_code, allowed=CASE_ROLES),
    Case("cases:intake_household", setup=_code, allowed=CASE_ROLES),
    Case("cases:household_remove", method="post", setup=_member, allowed=CASE_ROLES, ok=302),
    Case("cases:risk", setup=_code, allowed=CASE_ROLES),
    Case("cases:risk_form", setup=_instrument, allowed=CASE_ROLES),
    Case("cases:risk_score", method="post", setup=_instrument, allowed=CASE_ROLES),
    Case("cases:risk_detail", setup=_assessment, allowed=CASE_ROLES),
    Case("cases:safety_plan", setup=_code, allowed=CASE_ROLES),
    Case("cases:safety_plan_print", setup=_code, allowed=CASE_ROLES),
    Case("cases:notes", setup=_code, allowed=CASE_ROLES),
    Case("cases:consent", setup=_code, allowed=CASE_ROLES),
    Case("cases:consent_withdraw", method="post", setup=_consent, allowed=CASE_ROLES, ok=302),
    Case("cases:aftercare", setup=_code, allowed=CASE_ROLES),
    Case("cases:aftercare_done", method="post", setup=_task, allowed=CASE_ROLES, ok=302),
    Case(
        "cases:close",
        method="post",
        setup=_code,
        data={"reason": "moved away"},
        allowed=CASE_ROLES,
        ok=302,
    ),
    Case(
        "cases:legal_hold",
        method="post",
        setup=_code,
        data={"on": "1", "reason": "court"},
        allowed=roles(R.MANAGER),
        ok=302,
    ),
    Case("cases:survivor_copy", setup=_code, allowed=CASE_ROLES),
    # A manager first re-authenticates (302 to the re-authentication page); the rest are 403.
    Case("cases:erase", setup=_code, allowed=roles(R.MANAGER), ok=302),
]

CASES.append(Case("cases:services", setup=_code, allowed=CASE_ROLES))

CASES.append(Case("cases:stays", setup=_code, allowed=CASE_ROLES))
