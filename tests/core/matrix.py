from refuge.core.roles import Role as R
from tests.matrix_base import ALL_ROLES, Case, roles


def _member(ctx):
    return {"user_id": ctx.personas["caseworker_a"].user.pk, "action": "reset-2fa"}


def _key(ctx):
    from refuge.core.services import api_key_create

    key, _ = api_key_create(by=None, organisation=ctx.orgs["a"], role="operator")
    return {"key_id": key.pk}


def _break_glass(ctx):
    """A break-glass session an administrator opened on organisation a's cases."""
    from dataclasses import replace

    from refuge.core.services import break_glass_open

    admin = ctx.personas["admin_b"]
    entry = break_glass_open(
        by=replace(admin.principal, reauthenticated=True),
        organisation=ctx.orgs["a"],
        reason="A court asks what was recorded; the manager is away this week.",
    )
    return {"entry_id": entry.pk}


ADMINS_AND_MANAGERS = roles(R.MANAGER, R.ADMIN)

CASES = [
    Case("core:home"),
    Case("core:healthz", anon=200),
    Case("core:login", ok=302, anon=200),
    Case("core:login_code", ok=302, anon=302),
    Case("core:unlock_request", anon=200),
    Case("core:unlock", setup=lambda ctx: {"token": "x" * 43}, anon=200),
    Case("core:logout", method="post", ok=302, anon=302),
    Case("core:reauth", anon=302),
    Case("core:enrol", ok=(200, 302), anon=302),  # a confirmed device: re-authenticate first
    Case("core:enrol_qr", ok=(200, 404), anon=404),
    Case("core:password_change", ok=302, anon=302),  # re-authenticate first
    Case("core:staff_list", allowed=ADMINS_AND_MANAGERS),
    Case("core:staff_new", allowed=roles(R.MANAGER), ok=302),  # re-authenticate first
    Case("core:staff_action", method="post", setup=_member, allowed=ADMINS_AND_MANAGERS, ok=302),
    Case("core:organisations", allowed=roles(R.ADMIN)),
    Case(
        "core:organisation", setup=lambda ctx: {"slug": ctx.orgs["b"].slug}, allowed=roles(R.ADMIN)
    ),
    Case(
        "core:organisation_staff_new",
        setup=lambda ctx: {"slug": ctx.orgs["b"].slug},
        allowed=roles(R.ADMIN),
        ok=302,  # re-authenticate first
    ),
    Case("core:api_keys", allowed=ADMINS_AND_MANAGERS),
    Case("core:api_key_new", allowed=ADMINS_AND_MANAGERS, ok=302),  # re-authenticate first
    Case(
        "core:api_key_revoke",
        method="post",
        setup=_key,
        data={"reason": "unused"},
        allowed=ADMINS_AND_MANAGERS,
        ok=302,
        denied=(403,),
    ),
    Case("core:break_glass", allowed=roles(R.ADMIN), ok=302),  # re-authenticate first
    # Its opener, any administrator or a manager of the organisation ends it; for anyone else
    # it does not exist.
    Case(
        "core:break_glass_close",
        method="post",
        setup=_break_glass,
        allowed=ADMINS_AND_MANAGERS,
        ok=302,
        denied=404,
    ),
    Case("core:audit_log", allowed=ADMINS_AND_MANAGERS),
    Case("set_language", method="post", data={"language": "ru", "next": "/"}, ok=302, anon=302),
    Case("api:me", anon=401),
    Case("api:openapi-json", allowed=ALL_ROLES, anon=200),
    Case("api:api-root", ok=404, anon=404),
    Case("re:^api/", path="/api/nothing-here", ok=404, anon=404),
    Case("re:favicon.ico", path="/favicon.ico", ok=301, anon=301),
]
