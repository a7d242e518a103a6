"""The referral API: machine clients use keys; verified staff sessions may only GET."""

from refuge.cases.services import client_create
from refuge.core.roles import Role as R
from refuge.referrals import services
from tests.directory.factories import make_facility
from tests.matrix_base import Case, roles
from tests.referrals.conftest import system

CASE_ROLES = roles(R.CASEWORKER, R.MANAGER, R.OPERATOR, R.COORDINATOR)


def _referral(ctx):
    f = system(make_facility(ctx.orgs["a"], "Target", region="RU-YAR", rooms=[("dorm", 2)]))
    p = ctx.personas["operator_a"].principal
    ref = services.referral_create(
        by=p, client=client_create(by=p), household={"woman_age": 30}, facility_ids=[f.pk]
    )
    return {"referral_id": str(ref.pk), "facility_id": str(f.pk)}


def _referral_only(ctx):
    return {"referral_id": _referral(ctx)["referral_id"]}


# Sessions are refused every POST (401: the API takes state changes only with a key).
CASES = [
    Case("api:placement_search", method="post", ok=401, denied=401, anon=401),
    Case("api:referral_create", method="post", ok=401, denied=401, anon=401),
    Case("api:referral_get", setup=_referral_only, allowed=CASE_ROLES, denied=403, anon=401),
    Case("api:referral_accept", method="post", setup=_referral, ok=401, denied=401, anon=401),
    Case("api:referral_decline", method="post", setup=_referral, ok=401, denied=401, anon=401),
    Case(
        "api:referral_withdraw", method="post", setup=_referral_only, ok=401, denied=401, anon=401
    ),
    Case("api:referral_arrive", method="post", setup=_referral_only, ok=401, denied=401, anon=401),
]

SEARCHERS = roles(R.COORDINATOR, R.OPERATOR, R.CASEWORKER, R.MANAGER)

CASES += [
    Case("referrals:search", allowed=SEARCHERS),
    Case("referrals:send", method="post", allowed=SEARCHERS, ok=302),
    Case("referrals:turn_away", method="post", allowed=SEARCHERS, ok=302),
    Case("referrals:inbox", allowed=CASE_ROLES),
    Case("referrals:sent", allowed=SEARCHERS),
    Case("referrals:turnaways", allowed=SEARCHERS),
    Case("referrals:detail", setup=_referral_only, allowed=CASE_ROLES),
    Case(
        "referrals:act",
        method="post",
        setup=lambda ctx: {**_referral_only(ctx), "action": "withdraw"},
        allowed=CASE_ROLES,
        ok=302,
    ),
]

CASES.append(Case("referrals:waitlist", allowed=SEARCHERS))

CASES += [
    Case("referrals:partner_requests", allowed=roles(R.PARTNER, R.COORDINATOR, R.OPERATOR)),
    Case("referrals:evacuation", allowed=roles(R.COORDINATOR)),
]
