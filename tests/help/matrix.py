from refuge.core.roles import Role as R
from tests.help.factories import ensure_regions
from tests.matrix_base import ALL_ROLES, Case, roles

EDITORS = roles(R.COORDINATOR, R.ADMIN)
# Public pages: the same for everyone, signed in or not.
PUBLIC = {"allowed": ALL_ROLES, "ok": 200, "anon": 200}


def _region(ctx):
    ensure_regions()
    return {"lang": "ky", "code": "KG-GB"}


CASES = [
    Case("help:choose", allowed=ALL_ROLES, ok=302, anon=302),
    Case("help:sitemap", **PUBLIC),
    Case("help:home", setup=lambda ctx: {"lang": "ru"}, **PUBLIC),
    Case("help:region", setup=_region, **PUBLIC),
    Case("help:leaflets", setup=lambda ctx: {"lang": "uk"}, **PUBLIC),
    Case("help:leaflet", setup=lambda ctx: {"lang": "cs", "slug": "rights"}, **PUBLIC),
    Case("help:safety", setup=lambda ctx: {"lang": "en"}, **PUBLIC),
    Case(
        "help:not_found",
        setup=lambda ctx: {"rest": "ru/nowhere/"},
        allowed=ALL_ROLES,
        ok=404,
        anon=404,
    ),
    Case("help:manage", allowed=EDITORS),
    Case("help:edit", setup=lambda ctx: {"key": "leaflet_rights", "lang": "uk"}, allowed=EDITORS),
]
