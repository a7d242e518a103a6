from datetime import date, timedelta

from refuge.cases.services import client_create, consent_record
from refuge.core.roles import Role as R
from refuge.meetings import services
from tests.matrix_base import Case, roles

SEE = roles(R.COORDINATOR, R.PARTNER, R.CASEWORKER, R.MANAGER)


def _meeting(ctx):
    area = services.area_create(
        by=None, name="A", coordinator_org=ctx.orgs["a"], members=[ctx.orgs["a"], ctx.orgs["b"]]
    )
    return services.meeting_schedule(by=None, area=area, on=date.today() + timedelta(days=3))


def _item(ctx):
    m = _meeting(ctx)
    p = ctx.personas["caseworker_a"].principal
    c = client_create(by=p, name="M")
    consent_record(by=p, client=c, scope="meeting", days=30)
    it = services.agenda_propose(by=p, meeting=m, client=c, summary="s")
    return services.agenda_decide(by=None, item=it, accept=True)


def _action(ctx):
    it = _item(ctx)
    return services.action_assign(
        by=ctx.personas["coordinator_a"].principal,
        item=it,
        organisation=ctx.orgs["a"],
        description="d",
        due_on=date.today() + timedelta(days=9),
    )


CASES = [
    Case("meetings:list", allowed=SEE),
    Case("meetings:detail", setup=lambda ctx: {"meeting_id": _meeting(ctx).pk}, allowed=SEE),
    Case(
        "meetings:propose",
        setup=lambda ctx: {"meeting_id": _meeting(ctx).pk},
        allowed=roles(R.CASEWORKER, R.MANAGER),
    ),
    Case(
        "meetings:hold",
        method="post",
        setup=lambda ctx: {"meeting_id": _meeting(ctx).pk},
        allowed=roles(R.COORDINATOR),
        ok=302,
    ),
    Case("meetings:minutes", setup=lambda ctx: {"meeting_id": _meeting(ctx).pk}, allowed=SEE),
    Case(
        "meetings:case",
        setup=lambda ctx: (lambda it: {"meeting_id": it.meeting_id, "code": it.client.case_code})(
            _item(ctx)
        ),
        allowed=SEE,
    ),
    Case(
        "meetings:item_decide",
        method="post",
        data={"accept": "1"},
        setup=lambda ctx: {"item_id": _item(ctx).pk},
        allowed=roles(R.COORDINATOR),
        ok=302,
    ),
    Case(
        "meetings:item_conclude",
        method="post",
        data={"stays": "1"},
        setup=lambda ctx: {"item_id": _item(ctx).pk},
        allowed=roles(R.COORDINATOR),
        ok=302,
    ),
    Case(
        "meetings:action_new",
        method="post",
        setup=lambda ctx: {"item_id": _item(ctx).pk},
        allowed=roles(R.COORDINATOR),
        ok=302,
    ),
    # The action is assigned to org a: its partner (the agency) and the coordinator may close it.
    Case(
        "meetings:action_done",
        method="post",
        setup=lambda ctx: {"action_id": _action(ctx).pk},
        allowed=roles(R.COORDINATOR, R.PARTNER),
        ok=302,
        denied=(403, 404),
    ),
]
