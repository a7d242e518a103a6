from datetime import date

from refuge.core.roles import Role as R
from refuge.programmes import services
from tests.matrix_base import Case, roles

CASE_ROLES = roles(R.CASEWORKER, R.MANAGER, R.OPERATOR, R.COORDINATOR)


def _group(ctx):
    f = ctx.personas["facilitator_a"].principal
    prog = services.programme_create(
        by=f, organisation=ctx.orgs["a"], name="P", partner_support_org=ctx.orgs["a"]
    )
    return services.group_create(by=f, programme=prog, name="G", start_date=date(2026, 1, 6))


def _participant(ctx):
    g = _group(ctx)
    return services.participant_enrol(
        by=ctx.personas["facilitator_a"].principal,
        group=g,
        name="X",
        referral_source="self",
        partner_name="Y",
    )


def _session(ctx):
    g = _group(ctx)
    services.session_record(
        by=ctx.personas["facilitator_a"].principal, group=g, number=1, held_on=date(2026, 1, 6)
    )
    return {"group_id": g.pk, "number": 1}


CASES = [
    Case("programmes:home", allowed=roles(R.FACILITATOR)),
    Case(
        "programmes:group",
        setup=lambda ctx: {"group_id": _group(ctx).pk},
        allowed=roles(R.FACILITATOR),
    ),
    Case(
        "programmes:enrol",
        setup=lambda ctx: {"group_id": _group(ctx).pk},
        allowed=roles(R.FACILITATOR),
    ),
    Case(
        "programmes:session_new",
        method="post",
        data={"number": 1},
        setup=lambda ctx: {"group_id": _group(ctx).pk},
        allowed=roles(R.FACILITATOR),
        ok=302,
    ),
    Case("programmes:register", setup=_session, allowed=roles(R.FACILITATOR)),
    Case(
        "programmes:participant",
        setup=lambda ctx: {"code": _participant(ctx).code},
        allowed=roles(R.FACILITATOR),
    ),
    Case(
        "programmes:outcomes",
        setup=lambda ctx: {"programme_id": _group(ctx).programme_id},
        allowed=roles(R.FACILITATOR),
    ),
    Case("programmes:partner_support_list", allowed=CASE_ROLES),
    Case(
        "programmes:partner_support",
        setup=lambda ctx: {"support_id": _participant(ctx).partner_support.pk},
        allowed=CASE_ROLES,
    ),
]
