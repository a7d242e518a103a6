from refuge.core.roles import Role as R
from refuge.directory.hsds.taxonomy import TAXONOMY, TERMS
from refuge.directory.services import phone_add
from tests.directory.factories import make_facility
from tests.matrix_base import ALL_ROLES, Case, all_but, roles

MANAGERS = roles(R.CASEWORKER, R.MANAGER)
# Analysts see aggregate figures only; partners and facilitators do not browse the professional
# directory either (professionals-only addresses and phones; refuge.core.roles.DIRECTORY_ROLES).
STAFF = all_but(R.ANALYST, R.PARTNER, R.FACILITATOR)


def _facility(ctx):
    f = make_facility(ctx.orgs["a"], "Matrix refuge", address="Matrix street 1")
    return {"facility_id": f.pk}


def _public(ctx):
    f = make_facility(
        ctx.orgs["a"],
        "Matrix public",
        address_visibility="public",
        locality="Tula",
        region="RU-TUL",
    )
    return f


def _phone(ctx):
    f = make_facility(ctx.orgs["a"], "Matrix phones")
    phone = phone_add(by=None, organisation=f.organisation, facility=f, number="+74951234567")
    return {"facility_id": f.pk, "phone_id": phone.pk}


CASES = [
    Case("directory:list", allowed=STAFF),
    Case("directory:detail", setup=_facility, allowed=STAFF),
    Case("directory:facility_new", allowed=MANAGERS),
    Case("directory:organisation_edit", allowed=MANAGERS),
    Case("directory:facility_edit", setup=_facility, allowed=MANAGERS),
    Case("directory:rules_edit", setup=_facility, allowed=MANAGERS),
    Case("directory:hours_edit", setup=_facility, allowed=MANAGERS),
    Case(
        "directory:phone_add",
        method="post",
        setup=_facility,
        data={"number": "+74951112233", "kind": "voice", "visibility": "public"},
        allowed=MANAGERS,
        ok=302,
    ),
    Case("directory:phone_remove", method="post", setup=_phone, allowed=MANAGERS, ok=302),
    # The HSDS read API is public: no key, no session.
    Case("api:hsds_root", allowed=ALL_ROLES, anon=200),
    Case("api:hsds_root_slash", allowed=ALL_ROLES, anon=200),
    Case("api:hsds_openapi", allowed=ALL_ROLES, anon=200),
    Case("api:hsds_services", allowed=ALL_ROLES, anon=200),
    Case(
        "api:hsds_service",
        setup=lambda ctx: {"id": str(_public(ctx).hsds_id)},
        allowed=ALL_ROLES,
        anon=200,
    ),
    Case("api:hsds_organizations", allowed=ALL_ROLES, anon=200),
    Case(
        "api:hsds_organization",
        setup=lambda ctx: {"id": str(_public(ctx).organisation.directory_profile.hsds_id)},
        allowed=ALL_ROLES,
        anon=200,
    ),
    Case("api:hsds_service_at_locations", allowed=ALL_ROLES, anon=200),
    Case(
        "api:hsds_service_at_location",
        setup=lambda ctx: {"id": str(_public(ctx).hsds_sal_id)},
        allowed=ALL_ROLES,
        anon=200,
    ),
    Case("api:hsds_taxonomies", allowed=ALL_ROLES, anon=200),
    Case(
        "api:hsds_taxonomy", setup=lambda ctx: {"id": TAXONOMY["id"]}, allowed=ALL_ROLES, anon=200
    ),
    Case("api:hsds_taxonomy_terms", allowed=ALL_ROLES, anon=200),
    Case(
        "api:hsds_taxonomy_term",
        setup=lambda ctx: {"id": TERMS["service"].id},
        allowed=ALL_ROLES,
        anon=200,
    ),
]
