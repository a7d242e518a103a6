from refuge.core.roles import Role as R
from tests.matrix_base import ALL_ROLES, Case, roles


def _member(ctx):
    return {"user_id": ctx.personas["caseworker_a"].user.pk, "action": "reset-2fa"}


CASES = [
    Case("core:home"),
    Case("core:healthz", anon=200),
    Case("core:login", ok=302, anon=200),
    Case("core:login_code", ok=302, anon=302),
    Case("core:logout", method="post", ok=302, anon=302),
    Case("core:enrol", anon=302),
    Case("core:enrol_qr", ok=(200, 404), anon=404),
    Case("core:password_change", anon=302),
    Case("core:staff_list", allowed=roles(R.MANAGER, R.ADMIN)),
    Case("core:staff_new", allowed=roles(R.MANAGER)),
    Case(
        "core:staff_action", method="post", setup=_member, allowed=roles(R.MANAGER, R.ADMIN), ok=302
    ),
    Case("core:organisations", allowed=roles(R.ADMIN)),
    Case(
        "core:organisation", setup=lambda ctx: {"slug": ctx.orgs["b"].slug}, allowed=roles(R.ADMIN)
    ),
    Case("core:audit_log", allowed=roles(R.MANAGER, R.ADMIN)),
    Case("set_language", method="post", data={"language": "ru", "next": "/"}, ok=302, anon=302),
    Case("api:me", anon=401),
    Case("api:openapi-json", allowed=ALL_ROLES, anon=200),
    Case("api:api-root", ok=404, anon=404),
    Case("re:^api/", path="/api/nothing-here", ok=404, anon=404),
]
